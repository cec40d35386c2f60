package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
)

// The suite must fail for a store that breaks a contract. Each mutant below
// wraps memstore and breaks one; TestSuiteCatchesMutants runs the suite
// against each in a child process and checks that the behaviour named
// fails.

type fixtures struct{ s *memstore.Store }

func (f fixtures) PutUser(_ context.Context, u store.User) error     { return f.s.PutUser(u) }
func (f fixtures) PutClient(_ context.Context, c store.Client) error { return f.s.PutClient(c) }

// mutant is memstore with one method overridden.
type mutant struct {
	*memstore.Store
	kind string

	mu      sync.Mutex
	codes   map[store.Hash]store.Code // first successful consumption
	clients map[string]store.Client   // first Client result, shared
}

var mutants = []struct {
	name string
	fail []string // behaviours that must fail
}{
	{"CreateIgnoresDuplicates", []string{"TokenExists"}},
	{"LookupDropsLastUsed", []string{"TokenRoundTrip", "TouchToken"}},
	{"LookupHidesRevoked", []string{"RevokeToken"}},
	{"ListNewestFirst", []string{"ListTokens"}},
	{"ListHidesRevoked", []string{"ListTokens"}},
	{"ReuseIsNotFound", []string{"CodeConsumedOnce"}},
	{"CodeUsedWithoutFamily", []string{"CodeConsumedOnce"}},
	{"ConsumeIgnoresExpiry", []string{"CodeExpired"}},
	{"ConsumeTwice", []string{"CodeConsumedOnce", "CodeConcurrent"}},
	{"ReuseRotates", []string{"RefreshReuse", "RefreshConcurrent"}},
	{"RevokedIsReused", []string{"RevokeFamily", "RevokedFamilyRotate", "Deprovision"}},
	{"RevokeUserNoop", []string{"Deprovision", "ZeroTime"}},
	{"ZeroTimeRevokesNothing", []string{"ZeroTime"}},
	{"UsedExpiredIsNotFound", []string{"CodeUsedAfterExpiry"}},
	{"SharedClientSlices", []string{"Copies"}},
	{"SweepPastLimit", []string{"Sweeper"}},
}

func (m *mutant) CreateToken(ctx context.Context, t store.Token) error {
	err := m.Store.CreateToken(ctx, t)
	if m.kind == "CreateIgnoresDuplicates" && errors.Is(err, store.ErrExists) {
		return nil
	}
	return err
}

func (m *mutant) TokenByHash(ctx context.Context, h store.Hash) (store.Token, error) {
	t, err := m.Store.TokenByHash(ctx, h)
	switch m.kind {
	case "LookupDropsLastUsed":
		t.LastUsedAt = time.Time{}
	case "LookupHidesRevoked":
		if t.Revoked() {
			return store.Token{}, store.ErrNotFound
		}
	}
	return t, err
}

func (m *mutant) ListTokens(ctx context.Context, userID string) ([]store.Token, error) {
	list, err := m.Store.ListTokens(ctx, userID)
	switch m.kind {
	case "ListNewestFirst":
		slices.Reverse(list)
	case "ListHidesRevoked":
		list = slices.DeleteFunc(list, func(t store.Token) bool { return t.Revoked() })
	}
	return list, err
}

func (m *mutant) ConsumeCode(ctx context.Context, h store.Hash, at time.Time) (store.Code, error) {
	if m.kind == "ConsumeIgnoresExpiry" {
		at = at.AddDate(-1, 0, 0)
	}
	c, err := m.Store.ConsumeCode(ctx, h, at)
	var used *store.CodeUsedError
	switch {
	case !errors.As(err, &used):
	case m.kind == "ReuseIsNotFound":
		return store.Code{}, store.ErrNotFound
	case m.kind == "CodeUsedWithoutFamily":
		return store.Code{}, &store.CodeUsedError{}
	case m.kind == "UsedExpiredIsNotFound":
		m.mu.Lock()
		defer m.mu.Unlock()
		if first, ok := m.codes[h]; ok && !first.ExpiresAt.After(at) {
			return store.Code{}, store.ErrNotFound
		}
		return c, err
	case m.kind == "ConsumeTwice":
		m.mu.Lock()
		defer m.mu.Unlock()
		if first, ok := m.codes[h]; ok {
			delete(m.codes, h) // a second winner, once
			return first, nil
		}
		return c, err
	}
	if err == nil && (m.kind == "ConsumeTwice" || m.kind == "UsedExpiredIsNotFound") {
		m.mu.Lock()
		m.codes[h] = c
		m.mu.Unlock()
	}
	return c, err
}

func (m *mutant) RotateFamily(ctx context.Context, id string, presented, next store.Hash, at time.Time) (store.Family, error) {
	f, err := m.Store.RotateFamily(ctx, id, presented, next, at)
	switch {
	case m.kind == "ReuseRotates" && errors.Is(err, store.ErrReused):
		return store.Family{ID: id, Current: next}, nil
	case m.kind == "RevokedIsReused" && errors.Is(err, store.ErrRevoked):
		return store.Family{}, store.ErrReused
	}
	return f, err
}

func (m *mutant) RevokeUser(ctx context.Context, userID string, at time.Time) error {
	if m.kind == "RevokeUserNoop" || (m.kind == "ZeroTimeRevokesNothing" && at.IsZero()) {
		return nil
	}
	return m.Store.RevokeUser(ctx, userID, at)
}

func (m *mutant) RevokeToken(ctx context.Context, id string, at time.Time) error {
	if m.kind == "ZeroTimeRevokesNothing" && at.IsZero() {
		return nil
	}
	return m.Store.RevokeToken(ctx, id, at)
}

func (m *mutant) RevokeFamily(ctx context.Context, id string, at time.Time) error {
	if m.kind == "ZeroTimeRevokesNothing" && at.IsZero() {
		return nil
	}
	return m.Store.RevokeFamily(ctx, id, at)
}

func (m *mutant) Client(ctx context.Context, id string) (store.Client, error) {
	c, err := m.Store.Client(ctx, id)
	if m.kind == "SharedClientSlices" && err == nil {
		m.mu.Lock()
		defer m.mu.Unlock()
		if shared, ok := m.clients[id]; ok {
			return shared, nil
		}
		m.clients[id] = c
	}
	return c, err
}

func (m *mutant) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if m.kind == "SweepPastLimit" {
		limit++
	}
	return m.Store.DeleteExpired(ctx, before, limit)
}

const mutantEnv = "STORETEST_MUTANT"

// TestMutantChild runs the suite against the mutant named in the
// environment; it only runs as TestSuiteCatchesMutants's child.
func TestMutantChild(t *testing.T) {
	kind := os.Getenv(mutantEnv)
	if kind == "" {
		t.Skip("runs as a child of TestSuiteCatchesMutants")
	}
	storetest.Test(t, func(t *testing.T) (store.Store, storetest.Fixtures) {
		s := memstore.New()
		return &mutant{Store: s, kind: kind, codes: map[store.Hash]store.Code{}, clients: map[string]store.Client{}}, fixtures{s}
	})
}

func TestSuiteCatchesMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite in child processes")
	}
	for _, mu := range mutants {
		t.Run(mu.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMutantChild$", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+mu.name)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "the suite passed a store that breaks a contract:\n%s", out)
			for _, b := range mu.fail {
				assert.Contains(t, string(out), "--- FAIL: TestMutantChild/"+b+" ", "behaviour %s should fail", b)
			}
		})
	}
}

// TestSuitePassesMemstore is the control: the unbroken wrapper passes.
func TestSuitePassesMemstore(t *testing.T) {
	storetest.Test(t, func(t *testing.T) (store.Store, storetest.Fixtures) {
		s := memstore.New()
		return &mutant{Store: s, codes: map[store.Hash]store.Code{}, clients: map[string]store.Client{}}, fixtures{s}
	})
}
