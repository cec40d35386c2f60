package demo

import (
	"context"
	"time"

	"tapioca.dev/auth/store"
)

// The demo deletes expired tokens, codes and refresh families when its
// store can ([store.Sweeper]): at start, then every [sweepInterval], for as
// long as the server runs.
const (
	// sweepInterval is how often the demo sweeps.
	sweepInterval = 5 * time.Minute
	// sweepBatch is the most rows one DeleteExpired call deletes, so that
	// no single statement holds the store for long.
	sweepBatch = 1000
	// sweepRetention is how long an expired row is kept before it is
	// deleted. A consumed code and a rotated-out refresh token are what
	// detects their replay (the grant's family is then revoked, RFC 6749
	// §4.1.2, RFC 9700 §4.14.2): deleted, a replay is merely unknown. A
	// day keeps that detection well past their lifetimes.
	sweepRetention = 24 * time.Hour
)

// sweep deletes what expired more than [sweepRetention] ago, in batches of [sweepBatch] until
// a batch comes back short, and returns how many rows it deleted. A store
// without [store.Sweeper] deletes nothing.
func (s *server) sweep(ctx context.Context) (int, error) {
	sw, ok := s.st.(store.Sweeper)
	if !ok {
		return 0, nil
	}
	total := 0
	for {
		bctx, cancel := context.WithTimeout(ctx, storeTimeout)
		n, err := sw.DeleteExpired(bctx, s.now().Add(-sweepRetention), sweepBatch)
		cancel()
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// runSweeper sweeps now and then every interval until ctx is done. A
// failed sweep is logged and tried again at the next tick.
func (s *server) runSweeper(ctx context.Context, every time.Duration) {
	if _, ok := s.st.(store.Sweeper); !ok {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.ErrorContext(ctx, "deleting expired records failed", "deleted", n, "error", err)
		case n > 0:
			s.log.InfoContext(ctx, "deleted expired records", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
