package token_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/storetest"
	"tapioca.dev/auth/token"
)

// joinedStore adds store.TokenUsers to a Faulty store, as a database store
// would: the joined read answers what TokenByHash and User answer, and
// counts itself. Faults set on TokenByHash apply to it too, and err, when
// set, is what it returns instead.
type joinedStore struct {
	*storetest.Faulty
	joined atomic.Int64
	err    error
	zero   bool // answer the token with a zero User
}

func (j *joinedStore) TokenAndUserByHash(ctx context.Context, h store.Hash) (store.Token, store.User, error) {
	j.joined.Add(1)
	if j.err != nil {
		return store.Token{}, store.User{}, j.err
	}
	t, err := j.Faulty.TokenByHash(ctx, h)
	if err != nil || t.UserID == "" || j.zero {
		return t, store.User{}, err
	}
	u, err := j.Faulty.Inner().User(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return t, store.User{}, nil
	}
	return t, u, err
}

// TestVerifyJoinedRead: with a store that reads a token and its user in
// one step (store.TokenUsers) and no separate Directory, Verify makes that
// one read and no User call, and keeps every rule of the two-read path:
// an unknown, inactive or moved user verifies nothing (S44, S47), a
// demotion applies at once, and a failing read fails closed (S46).
func TestVerifyJoinedRead(t *testing.T) {
	f := newFixture(t)
	js := &joinedStore{Faulty: f.fs}
	m, err := token.NewManager(token.Config{Store: js, Now: f.clk.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	sec, rec, err := m.Create(f.ctx, token.CreateRequest{UserID: "u1", Name: "ci", Scopes: scope.MustParse("write:tasks read:time")})
	require.NoError(t, err)
	f.secrets = append(f.secrets, sec.Reveal())

	before := f.fs.Calls("User")
	p, err := m.Verify(f.ctx, sec.Reveal())
	require.NoError(t, err)
	assert.Equal(t, rec.ID, p.TokenID)
	assert.Equal(t, "write:tasks read:time", p.Scopes.String())
	assert.EqualValues(t, 1, js.joined.Load())
	assert.Equal(t, before, f.fs.Calls("User"), "the joined read replaces the User call")

	// A demotion applies on the next verification.
	require.NoError(t, f.mem.PutUser(store.User{ID: "u1", OrgID: "o1", Active: true, Permissions: scope.MustParse("read:tasks")}))
	p, err = m.Verify(f.ctx, sec.Reveal())
	require.NoError(t, err)
	assert.Equal(t, "read:tasks", p.Scopes.String())

	// A user who moved to another organization verifies nothing.
	require.NoError(t, f.mem.PutUser(store.User{ID: "u1", OrgID: "o2", Active: true, Permissions: adminOrg}))
	_, err = m.Verify(f.ctx, sec.Reveal())
	assert.ErrorIs(t, err, token.ErrInvalid)

	// Nor does an inactive one.
	require.NoError(t, f.mem.PutUser(store.User{ID: "u1", OrgID: "o1", Active: false, Permissions: adminOrg}))
	_, err = m.Verify(f.ctx, sec.Reveal())
	assert.ErrorIs(t, err, token.ErrInvalid)

	// A zero User (the store found no user) is an unknown user.
	require.NoError(t, f.mem.PutUser(store.User{ID: "u1", OrgID: "o1", Active: true, Permissions: adminOrg}))
	_, err = m.Verify(f.ctx, sec.Reveal())
	require.NoError(t, err)
	js.zero = true
	_, err = m.Verify(f.ctx, sec.Reveal())
	assert.ErrorIs(t, err, token.ErrInvalid)
	js.zero = false

	// A failing read fails closed, and is not the presenter's fault.
	js.err = errors.New("connection reset")
	_, err = m.Verify(f.ctx, sec.Reveal())
	assert.ErrorIs(t, err, token.ErrUnavailable)
	assert.NotErrorIs(t, err, token.ErrInvalid)
	js.err = nil

	// Not found through the joined read is ErrInvalid.
	js.err = store.ErrNotFound
	_, err = m.Verify(f.ctx, sec.Reveal())
	assert.ErrorIs(t, err, token.ErrInvalid)
	js.err = nil
}

// TestVerifyJoinedReadNotWithDirectory: a host that gives a Directory of
// its own keeps it: the joined read is not used, since the store's users
// are not the directory's.
func TestVerifyJoinedReadNotWithDirectory(t *testing.T) {
	f := newFixture(t)
	js := &joinedStore{Faulty: f.fs}
	m, err := token.NewManager(token.Config{Store: js, Directory: f.mem, Now: f.clk.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	sec, _, err := m.Create(f.ctx, token.CreateRequest{UserID: "u1", Name: "ci", Scopes: scope.MustParse("read:tasks")})
	require.NoError(t, err)
	f.secrets = append(f.secrets, sec.Reveal())
	_, err = m.Verify(f.ctx, sec.Reveal())
	require.NoError(t, err)
	assert.Zero(t, js.joined.Load())
}
