package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// Every interface of package store, checked at compile time.
var (
	_ store.Store         = (*Store)(nil)
	_ store.Tokens        = (*Store)(nil)
	_ store.Codes         = (*Store)(nil)
	_ store.Families      = (*Store)(nil)
	_ store.Clients       = (*Store)(nil)
	_ store.Users         = (*Store)(nil)
	_ store.Deprovisioner = (*Store)(nil)
	_ store.Sweeper       = (*Store)(nil)
	_ store.ClientLister  = (*Store)(nil)
	_ store.TokenUsers    = (*Store)(nil)
)

// ErrNilPool is returned by [New] for a nil pool.
var ErrNilPool = errors.New("pgstore: nil pool")

// Store keeps every record of package store in PostgreSQL. It implements
// [store.Store], [store.Sweeper], [store.ClientLister] and
// [store.TokenUsers] (a verification reads the token and its user in one
// round trip). It is safe for
// concurrent use, by any number of goroutines and of processes sharing one
// database: the atomic operations are done by the database.
type Store struct {
	pool  *pgxpool.Pool
	reg   *scope.Registry
	owned bool // Open made the pool; Close closes it
}

// Option configures a [Store].
type Option func(*Store)

// WithRegistry sets the scope registry that stored scope strings are parsed
// against; the default is [scope.Default]. A stored scope that the registry
// does not know makes the lookup fail with a system error (fail closed).
func WithRegistry(r *scope.Registry) Option {
	return func(s *Store) {
		if r != nil {
			s.reg = r
		}
	}
}

// New returns a store on pool. The caller keeps ownership of the pool:
// [Store.Close] does not close it. Run [Store.Migrate] once before use (at
// every start is fine: it is idempotent).
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, ErrNilPool
	}
	s := &Store{pool: pool, reg: scope.Default}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Open connects a new pool to the database at url (a PostgreSQL URL or
// keyword/value string, as [pgxpool.ParseConfig] takes; a search_path
// parameter selects the schema) and returns a store on it that owns the
// pool: [Store.Close] closes it. Open does not migrate the schema.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The URL may hold a password: never echo it or the parse error,
		// which quotes it.
		return nil, errors.New("pgstore: open: malformed database URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	s, err := New(pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close closes the pool if [Open] made it; a pool passed to [New] stays
// open.
func (s *Store) Close() {
	if s.owned {
		s.pool.Close()
	}
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// PostgreSQL error codes the store maps or retries.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// wrap turns a database error into a store error: no rows → ErrNotFound, a
// unique violation → ErrExists, anything else a system error naming the
// operation. It never includes the violation's detail (which quotes the
// key) and never a secret: the store holds none.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("pgstore: %s: %w", op, store.ErrNotFound)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation {
		return fmt.Errorf("pgstore: %s: %w", op, store.ErrExists)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// retryable reports whether a transaction failed only because it lost a
// race the database resolved by aborting it (deadlock, serialization).
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == codeDeadlockDetected || pgErr.Code == codeSerializationFailure)
}

// tx runs fn in a transaction, retrying it a few times when the database
// aborted it as a deadlock victim. Any error rolls everything back.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	var err error
	for range 3 {
		err = pgx.BeginFunc(ctx, s.pool, fn)
		if !retryable(err) {
			return err
		}
	}
	return err
}
