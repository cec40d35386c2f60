package token_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
	"tapioca.dev/auth/token"
)

func TestNewManager(t *testing.T) {
	_, err := token.NewManager(token.Config{})
	require.Error(t, err, "a nil store is refused")
	_, err = token.NewManager(token.Config{Store: memstore.New(), AccessLifetime: time.Millisecond})
	require.Error(t, err)
	_, err = token.NewManager(token.Config{Store: memstore.New(), MaxLifetime: -time.Hour})
	require.Error(t, err)
	_, err = token.NewManager(token.Config{Store: memstore.New(), TouchInterval: -time.Second})
	require.Error(t, err)
	m, err := token.NewManager(token.Config{Store: memstore.New()})
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), m.Now(), time.Minute)
}

func TestCreate(t *testing.T) {
	other := scope.MustNewRegistry([]string{"read:tasks"}, nil)
	tests := []struct {
		name    string
		cfg     func(*token.Config)
		req     token.CreateRequest
		wantErr error
		wantExp time.Time
	}{
		{name: "default lifetime", req: token.CreateRequest{Scopes: scope.MustParse("read:tasks")},
			wantExp: t0.Add(token.DefaultAPILifetime)},
		{name: "explicit expiry", req: token.CreateRequest{Scopes: scope.MustParse("read:tasks"), ExpiresAt: t0.Add(time.Hour)},
			wantExp: t0.Add(time.Hour)},
		{name: "configured default", cfg: func(c *token.Config) { c.DefaultLifetime = 48 * time.Hour },
			req: token.CreateRequest{Scopes: scope.MustParse("read:tasks")}, wantExp: t0.Add(48 * time.Hour)},
		{name: "default capped by max", cfg: func(c *token.Config) { c.MaxLifetime = 24 * time.Hour },
			req: token.CreateRequest{Scopes: scope.MustParse("read:tasks")}, wantExp: t0.Add(24 * time.Hour)},
		{name: "at the max", req: token.CreateRequest{Scopes: scope.MustParse("read:tasks"), ExpiresAt: t0.Add(token.DefaultMaxLifetime)},
			wantExp: t0.Add(token.DefaultMaxLifetime)},
		{name: "beyond the max", req: token.CreateRequest{Scopes: scope.MustParse("read:tasks"), ExpiresAt: t0.Add(token.DefaultMaxLifetime + time.Second)},
			wantErr: token.ErrLifetime},
		{name: "in the past", req: token.CreateRequest{Scopes: scope.MustParse("read:tasks"), ExpiresAt: t0.Add(-time.Second)},
			wantErr: token.ErrLifetime},
		{name: "now", req: token.CreateRequest{Scopes: scope.MustParse("read:tasks"), ExpiresAt: t0},
			wantErr: token.ErrLifetime},
		{name: "never refused by default", req: token.CreateRequest{Scopes: scope.MustParse("read:tasks"), ExpiresAt: token.Never},
			wantErr: token.ErrLifetime},
		{name: "never when allowed", cfg: func(c *token.Config) { c.AllowNoExpiry = true },
			req: token.CreateRequest{Scopes: scope.MustParse("read:tasks"), ExpiresAt: token.Never}, wantExp: token.Never},
		{name: "scopes beyond permissions", req: token.CreateRequest{Scopes: scope.MustParse("read:tasks admin:billing")},
			wantErr: token.ErrScopeExceeds},
		{name: "scopes of another registry", req: token.CreateRequest{Scopes: other.MustParse("read:tasks")},
			wantErr: token.ErrScopeExceeds},
		{name: "unknown user", req: token.CreateRequest{UserID: "nobody", Scopes: scope.MustParse("read:tasks")},
			wantErr: token.ErrUser},
		{name: "inactive user", req: token.CreateRequest{UserID: "gone", Scopes: scope.MustParse("read:tasks")},
			wantErr: token.ErrUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []func(*token.Config){}
			if tt.cfg != nil {
				opts = append(opts, tt.cfg)
			}
			f := newFixture(t, opts...)
			require.NoError(t, f.mem.PutUser(store.User{ID: "gone", OrgID: "o1", Permissions: adminOrg}))
			req := tt.req
			if req.UserID == "" {
				req.UserID = "u1"
			}
			req.Name = "deploy"
			sec, rec, err := f.m.Create(f.ctx, req)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.True(t, sec.IsZero())
				assert.Zero(t, f.fs.Calls("CreateToken"), "nothing stored")
				return
			}
			require.NoError(t, err)
			f.secrets = append(f.secrets, sec.Reveal())
			assert.True(t, rec.ExpiresAt.Equal(tt.wantExp), "expires %v, want %v", rec.ExpiresAt, tt.wantExp)
			assert.Equal(t, token.KindAPI, rec.Kind)
			assert.Equal(t, "u1", rec.UserID)
			assert.Equal(t, "o1", rec.OrgID)
			assert.Equal(t, "deploy", rec.Name)
			assert.True(t, strings.HasPrefix(rec.ID, "tok_"))
			assert.Equal(t, token.Hash(sec.Reveal()), rec.Hash)
			assert.True(t, rec.CreatedAt.Equal(t0))

			p, err := f.m.Verify(f.ctx, sec.Reveal())
			require.NoError(t, err)
			assert.Equal(t, rec.ID, p.TokenID)
		})
	}
}

func TestCreateValidation(t *testing.T) {
	f := newFixture(t)
	_, _, err := f.m.Create(f.ctx, token.CreateRequest{UserID: "u1"})
	require.Error(t, err, "no scopes")
	_, _, err = f.m.Create(f.ctx, token.CreateRequest{UserID: "u1", Scopes: scope.MustParse("read:tasks"), Name: strings.Repeat("x", token.MaxNameLen+1)})
	require.Error(t, err, "long name")
	_, _, err = f.m.Create(f.ctx, token.CreateRequest{Scopes: scope.MustParse("read:tasks")})
	require.ErrorIs(t, err, token.ErrUser)
	assert.Zero(t, f.fs.Calls("CreateToken"))
}

func TestVerifyPrincipal(t *testing.T) {
	f := newFixture(t)
	sec, rec := f.create(t, "write:tasks read:time")
	p, err := f.m.Verify(f.ctx, sec)
	require.NoError(t, err)
	assert.Equal(t, token.Principal{
		TokenID: rec.ID, Kind: token.KindAPI, UserID: "u1", OrgID: "o1",
		Scopes: scope.MustParse("write:tasks read:time"), ExpiresAt: p.ExpiresAt,
	}, p)
	assert.True(t, p.ExpiresAt.Equal(rec.ExpiresAt))
	assert.False(t, p.IsClient())
	assert.True(t, p.Scopes.Contains("read:tasks"), "write implies read")

	access, arec := f.issue(t, token.KindAccess, "u1")
	p, err = f.m.Verify(f.ctx, access)
	require.NoError(t, err)
	assert.Equal(t, arec.ID, p.TokenID)
	assert.Equal(t, token.KindAccess, p.Kind)
	assert.Equal(t, "c1", p.ClientID)
	assert.Equal(t, "fam_1", p.FamilyID)

	sess, srec := f.session(t)
	p, err = f.m.VerifySession(f.ctx, sess)
	require.NoError(t, err)
	assert.Equal(t, srec.ID, p.TokenID)
	assert.Equal(t, token.KindSession, p.Kind)
	assert.True(t, p.Scopes.Equivalent(adminOrg), "a session grants the user's permissions")
}

func TestVerifyClientCredentials(t *testing.T) {
	f := newFixture(t)
	sec, _, err := f.m.Issue(f.ctx, token.IssueRequest{
		Kind: token.KindAccess, ClientID: "c1", OrgID: "o1", Scopes: scope.MustParse("read:tasks write:time"),
	})
	require.NoError(t, err)
	f.secrets = append(f.secrets, sec.Reveal())
	p, err := f.m.Verify(f.ctx, sec.Reveal())
	require.NoError(t, err)
	assert.True(t, p.IsClient())
	assert.Equal(t, "read:tasks read:time", p.Scopes.String(), "narrowed by the client's current scopes")
	assert.True(t, p.ExpiresAt.Equal(t0.Add(token.DefaultAccessLifetime)))

	// The client loses a scope: applies on the next request.
	require.NoError(t, f.mem.PutClient(store.Client{ID: "c1", OrgID: "o1", Scopes: scope.MustParse("read:time")}))
	p, err = f.m.Verify(f.ctx, sec.Reveal())
	require.NoError(t, err)
	assert.Equal(t, "read:time", p.Scopes.String())

	// The client moves to another organization, then disappears.
	require.NoError(t, f.mem.PutClient(store.Client{ID: "c1", OrgID: "o2", Scopes: scope.MustParse("read:time")}))
	_, err = f.m.Verify(f.ctx, sec.Reveal())
	require.ErrorIs(t, err, token.ErrInvalid)
	f.mem.DeleteClient("c1")
	_, err = f.m.Verify(f.ctx, sec.Reveal())
	require.ErrorIs(t, err, token.ErrInvalid)
}

func TestIssueValidation(t *testing.T) {
	f := newFixture(t)
	for _, req := range []token.IssueRequest{
		{Kind: token.KindAPI, ClientID: "c1"},
		{Kind: token.KindSession, ClientID: "c1"},
		{Kind: token.KindAccess},
		{Kind: token.KindRefresh, ClientID: "c1"}, // a refresh token needs an expiry
	} {
		_, _, err := f.m.Issue(f.ctx, req)
		require.Error(t, err, "%+v", req)
	}
	assert.Zero(t, f.fs.Calls("CreateToken"))
}

// TestS1FailingRandom: a failing random source issues nothing and stores
// nothing.
func TestS1FailingRandom(t *testing.T) {
	f := newFixture(t, func(c *token.Config) { c.Rand = failingReader{} })
	_, _, err := f.m.Create(f.ctx, token.CreateRequest{UserID: "u1", Scopes: scope.MustParse("read:tasks")})
	require.ErrorIs(t, err, token.ErrRandom)
	_, _, err = f.m.CreateSession(f.ctx, "u1")
	require.ErrorIs(t, err, token.ErrRandom)
	_, _, err = f.m.Issue(f.ctx, token.IssueRequest{Kind: token.KindAccess, ClientID: "c1", UserID: "u1", OrgID: "o1"})
	require.ErrorIs(t, err, token.ErrRandom)
	sec, err := f.m.NewSecret(token.KindCode)
	require.ErrorIs(t, err, token.ErrRandom)
	assert.True(t, sec.IsZero())
	id, err := f.m.NewID("fam_")
	require.ErrorIs(t, err, token.ErrRandom)
	assert.Empty(t, id)
	assert.Zero(t, f.fs.Calls("CreateToken"), "nothing reached the store")
	toks, err := f.mem.ListTokens(f.ctx, "u1")
	require.NoError(t, err)
	assert.Empty(t, toks)
}

// TestS3NoStoreCallForGarbage: malformed input, a bad checksum and a
// secret of the wrong kind never reach the store.
func TestS3NoStoreCallForGarbage(t *testing.T) {
	f := newFixture(t)
	good, _ := f.create(t, "read:tasks")
	refresh, _ := f.issue(t, token.KindRefresh, "u1")
	sess, _ := f.session(t)
	code, err := f.m.NewSecret(token.KindCode)
	require.NoError(t, err)
	client, err := f.m.NewSecret(token.KindClientSecret)
	require.NoError(t, err)
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] = token.Alphabet[(strings.IndexByte(token.Alphabet, b[i])+1)%62]
		return string(b)
	}
	inputs := map[string]string{
		"empty":              "",
		"junk":               "hello",
		"bearer scheme":      "Bearer " + good,
		"bad checksum":       flip(good, len(good)-1),
		"bad random":         flip(good, 5),
		"too long":           good + "A",
		"too short":          good[:len(good)-1],
		"upper prefix":       "TAP_" + good[4:],
		"documentation form": "tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		"huge":               strings.Repeat("tap_", 1<<14),
	}
	type call struct {
		name string
		fn   func(string) error
	}
	calls := []call{
		{"Verify", func(s string) error { _, err := f.m.Verify(f.ctx, s); return err }},
		{"VerifySession", func(s string) error { _, err := f.m.VerifySession(f.ctx, s); return err }},
		{"Lookup", func(s string) error { _, err := f.m.Lookup(f.ctx, s); return err }},
	}
	f.fs.ResetCalls()
	for _, c := range calls {
		for name, in := range inputs {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				err := c.fn(in)
				require.ErrorIs(t, err, token.ErrInvalid)
				assert.Equal(t, token.ErrInvalid, err, "exactly ErrInvalid")
			})
		}
	}
	// Wrong kinds, caught by the prefix.
	for _, s := range []string{refresh, sess, code.Reveal(), client.Reveal()} {
		_, err := f.m.Verify(f.ctx, s)
		require.ErrorIs(t, err, token.ErrInvalid)
	}
	for _, s := range []string{good, refresh, code.Reveal(), client.Reveal()} {
		_, err := f.m.VerifySession(f.ctx, s)
		require.ErrorIs(t, err, token.ErrInvalid)
	}
	for _, s := range []string{code.Reveal(), client.Reveal()} {
		_, err := f.m.Lookup(f.ctx, s)
		require.ErrorIs(t, err, token.ErrInvalid)
	}
	assert.Zero(t, f.fs.Calls(storetest.AllMethods), "the store saw no call")

	// A valid checksum alone never authenticates: an unissued secret is
	// looked up and refused.
	unissued, err := token.Generate(token.KindAPI)
	require.NoError(t, err)
	_, err = f.m.Verify(f.ctx, unissued.Reveal())
	require.ErrorIs(t, err, token.ErrInvalid)
	assert.Equal(t, 1, f.fs.Calls("TokenByHash"))
}

// TestS4StoreSeesOnlyHashes: the store keeps SHA-256 of each secret and
// never the secret: a dump of memstore holds no piece of any plaintext.
func TestS4StoreSeesOnlyHashes(t *testing.T) {
	f := newFixture(t)
	var secrets []string
	for range 3 {
		s, _ := f.create(t, "read:tasks")
		secrets = append(secrets, s)
	}
	s, _ := f.issue(t, token.KindAccess, "u1")
	secrets = append(secrets, s)
	s, _ = f.issue(t, token.KindRefresh, "u1")
	secrets = append(secrets, s)
	s, _ = f.session(t)
	secrets = append(secrets, s)
	sec, _, err := f.m.Rotate(f.ctx, "u1", mustList(t, f)[0].ID, 0)
	require.NoError(t, err)
	secrets = append(secrets, sec.Reveal())
	f.secrets = append(f.secrets, sec.Reveal())

	dump := fmt.Sprintf("%#v", f.mem)
	toks, err := f.mem.ListTokens(f.ctx, "u1")
	require.NoError(t, err)
	dump += fmt.Sprintf("%#v", toks)
	assertNoPieces(t, dump, secrets)
	hashes := map[store.Hash]bool{}
	for _, tk := range toks {
		hashes[tk.Hash] = true
	}
	for _, s := range secrets {
		assert.True(t, hashes[token.Hash(s)], "the store keeps the hash")
	}

	// A dump authenticates nothing: presenting what the store holds fails.
	for _, tk := range toks {
		_, err := f.m.Verify(f.ctx, string(tk.Hash[:]))
		require.ErrorIs(t, err, token.ErrInvalid)
		_, err = f.m.Verify(f.ctx, tk.ID)
		require.ErrorIs(t, err, token.ErrInvalid)
	}
}

func mustList(t *testing.T, f *fixture) []store.Token {
	t.Helper()
	l, err := f.m.List(f.ctx, "u1")
	require.NoError(t, err)
	return l
}

// TestS5KindChecked: a refresh token or a session is no bearer token, and
// a bearer token no session.
func TestS5KindChecked(t *testing.T) {
	f := newFixture(t)
	refresh, _ := f.issue(t, token.KindRefresh, "u1")
	access, _ := f.issue(t, token.KindAccess, "u1")
	api, _ := f.create(t, "read:tasks")
	sess, _ := f.session(t)

	_, err := f.m.Verify(f.ctx, refresh)
	assert.Equal(t, token.ErrInvalid, err)
	_, err = f.m.Verify(f.ctx, sess)
	assert.Equal(t, token.ErrInvalid, err)
	_, err = f.m.VerifySession(f.ctx, access)
	assert.Equal(t, token.ErrInvalid, err)
	_, err = f.m.VerifySession(f.ctx, api)
	assert.Equal(t, token.ErrInvalid, err)

	rec, err := f.m.Lookup(f.ctx, refresh)
	require.NoError(t, err, "Lookup finds refresh tokens for the authorization server")
	assert.Equal(t, token.KindRefresh, rec.Kind)
	rec, err = f.m.Lookup(f.ctx, access)
	require.NoError(t, err)
	assert.Equal(t, token.KindAccess, rec.Kind)
}

// TestLookupKindMismatch: a record whose kind does not fit the prefix is
// invalid (a store mixing up kinds cannot turn a refresh token into a
// bearer token).
func TestLookupKindMismatch(t *testing.T) {
	mem := memstore.New()
	m, err := token.NewManager(token.Config{Store: mem, Now: func() time.Time { return t0 }, Logger: discard})
	require.NoError(t, err)
	require.NoError(t, mem.PutUser(store.User{ID: "u1", OrgID: "o1", Active: true, Permissions: adminOrg}))
	for _, tc := range []struct {
		secretKind, recordKind token.Kind
	}{
		{token.KindAPI, token.KindRefresh},
		{token.KindAPI, token.KindSession},
		{token.KindRefresh, token.KindAccess},
		{token.KindSession, token.KindAPI},
	} {
		sec, err := token.Generate(tc.secretKind)
		require.NoError(t, err)
		id, err := m.NewID("tok_")
		require.NoError(t, err)
		require.NoError(t, mem.CreateToken(t.Context(), store.Token{
			ID: id, Hash: token.Hash(sec.Reveal()), Kind: tc.recordKind, UserID: "u1", OrgID: "o1",
			Scopes: adminOrg, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
		}))
		_, err = m.Lookup(t.Context(), sec.Reveal())
		require.ErrorIs(t, err, token.ErrInvalid, "%v secret, %v record", tc.secretKind, tc.recordKind)
		_, err = m.Verify(t.Context(), sec.Reveal())
		require.ErrorIs(t, err, token.ErrInvalid)
		_, err = m.VerifySession(t.Context(), sec.Reveal())
		require.ErrorIs(t, err, token.ErrInvalid)
	}
}

// TestS6Clock: valid at exp−1s, rejected at exp and after; moving the
// clock back never revives a revoked token.
func TestS6Clock(t *testing.T) {
	kinds := []struct {
		name   string
		make   func(*testing.T, *fixture) (string, store.Token)
		verify func(*fixture, string) error
	}{
		{"api", func(t *testing.T, f *fixture) (string, store.Token) { return f.create(t, "read:tasks") },
			func(f *fixture, s string) error { _, err := f.m.Verify(f.ctx, s); return err }},
		{"access", func(t *testing.T, f *fixture) (string, store.Token) { return f.issue(t, token.KindAccess, "u1") },
			func(f *fixture, s string) error { _, err := f.m.Verify(f.ctx, s); return err }},
		{"session", func(t *testing.T, f *fixture) (string, store.Token) { return f.session(t) },
			func(f *fixture, s string) error { _, err := f.m.VerifySession(f.ctx, s); return err }},
	}
	for _, k := range kinds {
		t.Run(k.name+"/expiry", func(t *testing.T) {
			f := newFixture(t)
			sec, rec := k.make(t, f)
			f.clk.Set(rec.ExpiresAt.Add(-time.Second))
			require.NoError(t, k.verify(f, sec))
			f.clk.Set(rec.ExpiresAt.Add(-time.Nanosecond))
			require.NoError(t, k.verify(f, sec))
			f.clk.Set(rec.ExpiresAt)
			require.ErrorIs(t, k.verify(f, sec), token.ErrInvalid)
			f.clk.Set(rec.ExpiresAt.Add(time.Hour))
			require.ErrorIs(t, k.verify(f, sec), token.ErrInvalid)
			f.clk.Set(t0)
			require.NoError(t, k.verify(f, sec), "expiry is time: the clock decides")
		})
		t.Run(k.name+"/revocation", func(t *testing.T) {
			f := newFixture(t)
			sec, rec := k.make(t, f)
			f.clk.Advance(10 * time.Minute)
			require.NoError(t, f.m.Revoke(f.ctx, rec.ID))
			require.ErrorIs(t, k.verify(f, sec), token.ErrInvalid)
			for _, at := range []time.Time{t0.Add(5 * time.Minute), t0, t0.Add(-24 * time.Hour), time.Time{}.Add(time.Hour)} {
				f.clk.Set(at)
				require.ErrorIs(t, k.verify(f, sec), token.ErrInvalid, "clock at %v revived a revoked token", at)
			}
			require.NoError(t, f.m.Revoke(f.ctx, rec.ID), "revoking twice succeeds")
		})
	}
}

func TestRevokeUnknown(t *testing.T) {
	f := newFixture(t)
	require.ErrorIs(t, f.m.Revoke(f.ctx, "tok_nope"), store.ErrNotFound)
	require.ErrorIs(t, f.m.RevokeForUser(f.ctx, "u1", "tok_nope"), store.ErrNotFound)
}

// TestRevokeForUser: a user revokes only their own API tokens.
func TestRevokeForUser(t *testing.T) {
	f := newFixture(t)
	sec, rec := f.create(t, "read:tasks")
	sess, srec := f.session(t)
	require.ErrorIs(t, f.m.RevokeForUser(f.ctx, "u2", rec.ID), store.ErrNotFound, "another user's token")
	require.ErrorIs(t, f.m.RevokeForUser(f.ctx, "", rec.ID), store.ErrNotFound)
	require.ErrorIs(t, f.m.RevokeForUser(f.ctx, "u1", srec.ID), store.ErrNotFound, "not an API token")
	_, err := f.m.Verify(f.ctx, sec)
	require.NoError(t, err)
	_, err = f.m.VerifySession(f.ctx, sess)
	require.NoError(t, err)

	require.NoError(t, f.m.RevokeForUser(f.ctx, "u1", rec.ID))
	_, err = f.m.Verify(f.ctx, sec)
	require.ErrorIs(t, err, token.ErrInvalid)
	require.NoError(t, f.m.RevokeForUser(f.ctx, "u1", rec.ID), "twice")

	ev := f.logs.Events(t, "token revoked")
	require.Len(t, ev, 2)
	assert.Equal(t, rec.ID, ev[0]["token_id"])
	assert.Equal(t, "u1", ev[0]["user"])
	assert.Equal(t, "o1", ev[0]["org"])
	assert.Equal(t, "INFO", ev[0]["level"])
}

func TestList(t *testing.T) {
	f := newFixture(t)
	_, a := f.create(t, "read:tasks")
	f.clk.Advance(time.Second)
	_, b := f.create(t, "write:time")
	f.issue(t, token.KindAccess, "u1")
	f.session(t)
	_, _, err := f.m.Create(f.ctx, token.CreateRequest{UserID: "u2", Scopes: scope.MustParse("read:tasks")})
	require.NoError(t, err)
	require.NoError(t, f.m.Revoke(f.ctx, a.ID))

	l := mustList(t, f)
	require.Len(t, l, 2, "only u1's API tokens")
	assert.Equal(t, a.ID, l[0].ID)
	assert.Equal(t, b.ID, l[1].ID)
	assert.False(t, f.m.Live(l[0]), "revoked")
	assert.True(t, f.m.Live(l[1]))
	f.clk.Set(b.ExpiresAt)
	assert.False(t, f.m.Live(l[1]), "expired")
	for _, tk := range l {
		assert.NotContains(t, fmt.Sprintf("%+v", tk), "tap_")
	}
	empty, err := f.m.List(f.ctx, "nobody")
	require.NoError(t, err)
	assert.Empty(t, empty)
	empty, err = f.m.List(f.ctx, "")
	require.NoError(t, err)
	assert.Empty(t, empty)
}

// TestRotate covers rotation with and without a grace period.
func TestRotate(t *testing.T) {
	tests := []struct {
		name  string
		grace time.Duration
	}{
		{"at once", 0},
		{"one hour", time.Hour},
		{"the maximum", token.MaxRotationGrace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			old, orec := f.create(t, "write:tasks read:time")
			f.clk.Advance(time.Minute)
			now := f.clk.Now()
			sec, rec, err := f.m.Rotate(f.ctx, "u1", orec.ID, tt.grace)
			require.NoError(t, err)
			f.secrets = append(f.secrets, sec.Reveal())
			assert.NotEqual(t, orec.ID, rec.ID)
			assert.NotEqual(t, old, sec.Reveal())
			assert.Equal(t, orec.Name, rec.Name)
			assert.True(t, orec.Scopes.Equal(rec.Scopes))
			assert.Equal(t, orec.UserID, rec.UserID)
			assert.Equal(t, orec.OrgID, rec.OrgID)
			assert.True(t, rec.ExpiresAt.Equal(orec.ExpiresAt), "rotation keeps the expiry")
			assert.True(t, rec.CreatedAt.Equal(now))

			_, err = f.m.Verify(f.ctx, sec.Reveal())
			require.NoError(t, err)
			if tt.grace == 0 {
				_, err = f.m.Verify(f.ctx, old)
				require.ErrorIs(t, err, token.ErrInvalid, "revoked at once")
			} else {
				f.clk.Set(now.Add(tt.grace - time.Second))
				_, err = f.m.Verify(f.ctx, old)
				require.NoError(t, err, "still valid within the grace period")
				f.clk.Set(now.Add(tt.grace))
				_, err = f.m.Verify(f.ctx, old)
				require.ErrorIs(t, err, token.ErrInvalid, "ends with the grace period")
				_, err = f.m.Verify(f.ctx, sec.Reveal())
				require.NoError(t, err)
			}
			l := mustList(t, f)
			require.Len(t, l, 2)
			assert.Equal(t, rec.ID, l[1].ID)

			f.clk.Set(now)
			again, _, err := f.m.Rotate(f.ctx, "u1", orec.ID, tt.grace)
			require.ErrorIs(t, err, token.ErrRotated, "a token is rotated once, even within its grace period")
			require.ErrorIs(t, err, token.ErrInvalid)
			assert.True(t, again.IsZero())
			assert.Len(t, mustList(t, f), 2, "nothing new was issued")

			ev := f.logs.Events(t, "token rotated")
			require.Len(t, ev, 1)
			assert.Equal(t, rec.ID, ev[0]["token_id"])
			assert.Equal(t, orec.ID, ev[0]["old_token_id"])
			assert.Equal(t, "u1", ev[0]["user"])
			assert.Equal(t, "o1", ev[0]["org"])
		})
	}
}

func TestRotateRefused(t *testing.T) {
	f := newFixture(t)
	_, rec := f.create(t, "read:tasks")
	_, srec := f.session(t)
	for _, grace := range []time.Duration{-time.Second, token.MaxRotationGrace + time.Second} {
		_, _, err := f.m.Rotate(f.ctx, "u1", rec.ID, grace)
		require.ErrorIs(t, err, token.ErrLifetime)
	}
	_, _, err := f.m.Rotate(f.ctx, "u2", rec.ID, 0)
	require.ErrorIs(t, err, store.ErrNotFound, "another user's token")
	_, _, err = f.m.Rotate(f.ctx, "u1", srec.ID, 0)
	require.ErrorIs(t, err, store.ErrNotFound, "a session is not rotated")
	_, _, err = f.m.Rotate(f.ctx, "u1", "tok_nope", 0)
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, f.mem.SetUserActive("u1", false))
	_, _, err = f.m.Rotate(f.ctx, "u1", rec.ID, 0)
	require.ErrorIs(t, err, token.ErrUser)
	require.NoError(t, f.mem.PutUser(store.User{ID: "u1", OrgID: "o2", Active: true, Permissions: adminOrg}))
	_, _, err = f.m.Rotate(f.ctx, "u1", rec.ID, 0)
	require.ErrorIs(t, err, token.ErrUser, "the user changed organization")
	require.NoError(t, f.mem.PutUser(f.user))

	f.clk.Set(rec.ExpiresAt)
	_, _, err = f.m.Rotate(f.ctx, "u1", rec.ID, 0)
	require.ErrorIs(t, err, token.ErrInvalid, "expired")
	f.clk.Set(t0)
	require.NoError(t, f.m.Revoke(f.ctx, rec.ID))
	_, _, err = f.m.Rotate(f.ctx, "u1", rec.ID, 0)
	require.ErrorIs(t, err, token.ErrInvalid, "revoked: rotation never revives")
	assert.Len(t, mustList(t, f), 1, "nothing new was issued")
}

// TestRotateRollback: when the old token cannot be retired, the new one is
// revoked and the caller gets an error, not a second live secret.
func TestRotateRollback(t *testing.T) {
	f := newFixture(t)
	old, rec := f.create(t, "read:tasks")
	f.fs.Fail("ExpireToken", nil)
	sec, _, err := f.m.Rotate(f.ctx, "u1", rec.ID, time.Hour)
	require.ErrorIs(t, err, token.ErrUnavailable)
	assert.True(t, sec.IsZero())
	l := mustList(t, f)
	require.Len(t, l, 2)
	assert.True(t, f.m.Live(l[0]), "the old token still works")
	assert.False(t, f.m.Live(l[1]), "the half-rotated one is revoked")
	_, err = f.m.Verify(f.ctx, old)
	require.NoError(t, err)

	// The half-rotated successor holds the successor ID: a retry cannot
	// rotate the old token again (it still works; a new token replaces it).
	f.fs.Heal("ExpireToken")
	sec, _, err = f.m.Rotate(f.ctx, "u1", rec.ID, time.Hour)
	require.ErrorIs(t, err, token.ErrRotated)
	assert.True(t, sec.IsZero())
	assert.Len(t, mustList(t, f), 2)
	_, err = f.m.Verify(f.ctx, old)
	require.NoError(t, err)
}

// TestRotateConcurrent: of 50 concurrent rotations of one token, through
// two managers sharing a store as two processes would, exactly one
// succeeds; the others get ErrRotated, and one live successor remains.
func TestRotateConcurrent(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Hour} {
		t.Run(grace.String(), func(t *testing.T) {
			f := newFixture(t)
			old, orec := f.create(t, "read:tasks")
			other, err := token.NewManager(token.Config{
				Store: f.mem, Now: f.clk.Now, Logger: slog.New(slog.NewJSONHandler(f.logs, nil)),
			})
			require.NoError(t, err)
			managers := []*token.Manager{f.m, other}

			const n = 50
			type result struct {
				sec token.Secret
				rec store.Token
				err error
			}
			results := make([]result, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					sec, rec, err := managers[i%2].Rotate(f.ctx, "u1", orec.ID, grace)
					results[i] = result{sec, rec, err}
				})
			}
			close(start)
			wg.Wait()

			var won []result
			for _, r := range results {
				if r.err == nil {
					won = append(won, r)
					f.secrets = append(f.secrets, r.sec.Reveal())
					continue
				}
				require.ErrorIs(t, r.err, token.ErrRotated)
				assert.True(t, r.sec.IsZero())
			}
			require.Len(t, won, 1, "exactly one rotation succeeds")

			var live []string
			for _, tk := range mustList(t, f) {
				if tk.ID != orec.ID && f.m.Live(tk) {
					live = append(live, tk.ID)
				}
			}
			assert.Equal(t, []string{won[0].rec.ID}, live, "exactly one live successor")
			_, err = f.m.Verify(f.ctx, won[0].sec.Reveal())
			require.NoError(t, err)
			_, err = f.m.Verify(f.ctx, old)
			if grace == 0 {
				require.ErrorIs(t, err, token.ErrInvalid)
			} else {
				require.NoError(t, err, "within the grace period")
			}
			assert.Len(t, f.logs.Events(t, "token rotated"), 1)
		})
	}
}

// TestS44Demotion: effective scopes follow the user's current permissions
// at every verification.
func TestS44Demotion(t *testing.T) {
	f := newFixture(t)
	sec, _ := f.create(t, "write:tasks write:time")
	p, err := f.m.Verify(f.ctx, sec)
	require.NoError(t, err)
	assert.Equal(t, "write:tasks write:time", p.Scopes.String())

	require.NoError(t, f.mem.SetUserPermissions("u1", scope.MustParse("read:tasks write:time")))
	p, err = f.m.Verify(f.ctx, sec)
	require.NoError(t, err)
	assert.Equal(t, "read:tasks write:time", p.Scopes.String(), "demotion applies on the next request")

	require.NoError(t, f.mem.SetUserPermissions("u1", scope.MustParse("admin:billing")))
	p, err = f.m.Verify(f.ctx, sec)
	require.NoError(t, err)
	assert.True(t, p.Scopes.IsEmpty(), "nothing left")

	require.NoError(t, f.mem.SetUserPermissions("u1", adminOrg))
	p, err = f.m.Verify(f.ctx, sec)
	require.NoError(t, err)
	assert.Equal(t, "write:tasks write:time", p.Scopes.String(), "never more than the token's scopes")

	// Moving to another organization: an org-o1 token reaches nothing.
	require.NoError(t, f.mem.PutUser(store.User{ID: "u1", OrgID: "o2", Active: true, Permissions: adminOrg}))
	_, err = f.m.Verify(f.ctx, sec)
	require.ErrorIs(t, err, token.ErrInvalid)

	require.NoError(t, f.mem.PutUser(f.user))
	require.NoError(t, f.mem.SetUserActive("u1", false))
	_, err = f.m.Verify(f.ctx, sec)
	require.ErrorIs(t, err, token.ErrInvalid, "a deactivated user verifies nothing")
	f.mem.DeleteUser("u1")
	_, err = f.m.Verify(f.ctx, sec)
	require.ErrorIs(t, err, token.ErrInvalid, "an unknown user verifies nothing")
}

// TestS45Deprovision: deprovisioning kills every token of the user;
// re-provisioning revives nothing.
func TestS45Deprovision(t *testing.T) {
	f := newFixture(t)
	api, _ := f.create(t, "read:tasks")
	access, _ := f.issue(t, token.KindAccess, "u1")
	refresh, _ := f.issue(t, token.KindRefresh, "u1")
	sess, _ := f.session(t)
	other, _, err := f.m.Create(f.ctx, token.CreateRequest{UserID: "u2", Scopes: scope.MustParse("read:tasks")})
	require.NoError(t, err)
	f.secrets = append(f.secrets, other.Reveal())

	require.NoError(t, f.m.Deprovision(f.ctx, "u1"))
	require.NoError(t, f.mem.SetUserActive("u1", false))
	check := func() {
		t.Helper()
		_, err := f.m.Verify(f.ctx, api)
		require.ErrorIs(t, err, token.ErrInvalid)
		_, err = f.m.Verify(f.ctx, access)
		require.ErrorIs(t, err, token.ErrInvalid)
		_, err = f.m.VerifySession(f.ctx, sess)
		require.ErrorIs(t, err, token.ErrInvalid)
		rec, err := f.m.Lookup(f.ctx, refresh)
		require.NoError(t, err)
		assert.True(t, rec.Revoked(), "the refresh token is revoked")
	}
	check()
	// Re-provisioned: active again with the same permissions.
	require.NoError(t, f.mem.PutUser(f.user))
	check()
	f.clk.Set(t0.Add(-time.Hour))
	check()
	_, err = f.m.Verify(f.ctx, other.Reveal())
	require.NoError(t, err, "other users are untouched")

	require.ErrorIs(t, f.m.Deprovision(f.ctx, ""), token.ErrUser)
	ev := f.logs.Events(t, "user deprovisioned")
	require.Len(t, ev, 1)
	assert.Equal(t, "u1", ev[0]["user"])
	assert.Equal(t, "o1", ev[0]["org"])
	assert.Equal(t, "INFO", ev[0]["level"])
}

// TestS46StoreErrors: every store failure on the verification path is
// ErrUnavailable, never ErrInvalid and never a principal.
func TestS46StoreErrors(t *testing.T) {
	for _, method := range []string{"TokenByHash", "User", "Client"} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			api, _ := f.create(t, "read:tasks")
			cc, _, err := f.m.Issue(f.ctx, token.IssueRequest{Kind: token.KindAccess, ClientID: "c1", OrgID: "o1", Scopes: scope.MustParse("read:tasks")})
			require.NoError(t, err)
			f.secrets = append(f.secrets, cc.Reveal())
			sec := api
			if method == "Client" {
				sec = cc.Reveal()
			}
			f.fs.Fail(method, nil)
			p, err := f.m.Verify(f.ctx, sec)
			require.ErrorIs(t, err, token.ErrUnavailable)
			require.ErrorIs(t, err, storetest.ErrInjected)
			assert.NotErrorIs(t, err, token.ErrInvalid)
			assert.Zero(t, p)
			ev := f.logs.Events(t, "token: store failed")
			require.NotEmpty(t, ev)
			assert.Equal(t, "ERROR", ev[0]["level"])
			assert.Equal(t, method, ev[0]["op"])
		})
	}
	t.Run("writes", func(t *testing.T) {
		f := newFixture(t)
		_, rec := f.create(t, "read:tasks")
		f.fs.Fail(storetest.AllMethods, nil)
		sec, _, err := f.m.Create(f.ctx, token.CreateRequest{UserID: "u1", Scopes: scope.MustParse("read:tasks")})
		require.ErrorIs(t, err, token.ErrUnavailable)
		assert.True(t, sec.IsZero())
		f.fs.Heal(storetest.AllMethods)
		f.fs.Fail("CreateToken", nil)
		sec, _, err = f.m.Create(f.ctx, token.CreateRequest{UserID: "u1", Scopes: scope.MustParse("read:tasks")})
		require.ErrorIs(t, err, token.ErrUnavailable, "no token is issued")
		assert.True(t, sec.IsZero())
		_, _, err = f.m.CreateSession(f.ctx, "u1")
		require.ErrorIs(t, err, token.ErrUnavailable)
		_, _, err = f.m.Issue(f.ctx, token.IssueRequest{Kind: token.KindAccess, ClientID: "c1", UserID: "u1", OrgID: "o1"})
		require.ErrorIs(t, err, token.ErrUnavailable)
		f.fs.Fail(storetest.AllMethods, nil)
		require.ErrorIs(t, f.m.Revoke(f.ctx, rec.ID), token.ErrUnavailable)
		require.ErrorIs(t, f.m.RevokeForUser(f.ctx, "u1", rec.ID), token.ErrUnavailable)
		_, _, err = f.m.Rotate(f.ctx, "u1", rec.ID, 0)
		require.ErrorIs(t, err, token.ErrUnavailable)
		_, err = f.m.List(f.ctx, "u1")
		require.ErrorIs(t, err, token.ErrUnavailable)
		require.ErrorIs(t, f.m.Deprovision(f.ctx, "u1"), token.ErrUnavailable)
	})
	t.Run("touch failure fails closed, every time", func(t *testing.T) {
		f := newFixture(t)
		sec, rec := f.create(t, "read:tasks")
		f.fs.Fail("TouchToken", nil)
		for range 3 {
			_, err := f.m.Verify(f.ctx, sec)
			require.ErrorIs(t, err, token.ErrUnavailable)
			require.NotErrorIs(t, err, token.ErrInvalid)
		}
		assert.Equal(t, 3, f.fs.Calls("TouchToken"), "a failed touch is retried by the next request")
		f.fs.Heal("TouchToken")
		p, err := f.m.Verify(f.ctx, sec)
		require.NoError(t, err)
		assert.Equal(t, rec.ID, p.TokenID)
	})
}

// TestS47ZeroAndForeignRecords: a zero record with a nil error, or a
// record that is not the presented secret's, counts as not found.
func TestS47ZeroAndForeignRecords(t *testing.T) {
	for _, method := range []string{"TokenByHash", "User", "Client"} {
		t.Run("zero "+method, func(t *testing.T) {
			f := newFixture(t)
			sec, _ := f.create(t, "read:tasks")
			if method == "Client" {
				s, _, err := f.m.Issue(f.ctx, token.IssueRequest{Kind: token.KindAccess, ClientID: "c1", OrgID: "o1", Scopes: scope.MustParse("read:tasks")})
				require.NoError(t, err)
				sec = s.Reveal()
				f.secrets = append(f.secrets, sec)
			}
			f.fs.Zero(method)
			p, err := f.m.Verify(f.ctx, sec)
			require.Equal(t, token.ErrInvalid, err)
			assert.Zero(t, p)
		})
	}
	t.Run("foreign record", func(t *testing.T) {
		f := newFixture(t)
		_, rec := f.create(t, "read:tasks")
		other, _ := f.create(t, "read:tasks")
		// A store that answers every lookup with the first token's record.
		m, err := token.NewManager(token.Config{
			Store: &wrongRecordStore{Store: f.mem, rec: rec}, Now: f.clk.Now, Logger: discard,
		})
		require.NoError(t, err)
		_, err = m.Verify(f.ctx, other)
		require.Equal(t, token.ErrInvalid, err)
		_, err = m.Lookup(f.ctx, other)
		require.Equal(t, token.ErrInvalid, err)
	})
	t.Run("unsound records", func(t *testing.T) {
		for name, mutate := range map[string]func(*store.Token){
			"no ID":     func(r *store.Token) { r.ID = "" },
			"no expiry": func(r *store.Token) { r.ExpiresAt = time.Time{} },
			// Only an access token may lack a user (client_credentials);
			// an API token without one must not pass as the client's.
			"API token without a user": func(r *store.Token) { r.UserID, r.ClientID = "", "c1" },
		} {
			f := newFixture(t)
			sec, rec := f.create(t, "read:tasks")
			mutate(&rec)
			m, err := token.NewManager(token.Config{Store: &wrongRecordStore{Store: f.mem, rec: rec}, Now: f.clk.Now, Logger: discard})
			require.NoError(t, err)
			_, err = m.Verify(f.ctx, sec)
			require.Equal(t, token.ErrInvalid, err, name)
		}
	})
	t.Run("session without a user", func(t *testing.T) {
		f := newFixture(t)
		sec, rec := f.session(t)
		rec.UserID, rec.ClientID = "", "c1"
		m, err := token.NewManager(token.Config{Store: &wrongRecordStore{Store: f.mem, rec: rec}, Now: f.clk.Now, Logger: discard})
		require.NoError(t, err)
		p, err := m.VerifySession(f.ctx, sec)
		require.Equal(t, token.ErrInvalid, err)
		assert.Zero(t, p)
	})
}

// wrongRecordStore answers every TokenByHash with rec.
type wrongRecordStore struct {
	store.Store
	rec store.Token
}

func (s *wrongRecordStore) TokenByHash(context.Context, store.Hash) (store.Token, error) {
	return s.rec, nil
}

// TestS48HangAndPanic: a hanging store ends with the context's deadline as
// ErrUnavailable; a panicking store panics through Verify (the middleware
// recovers it as a 500) and never yields a principal.
func TestS48HangAndPanic(t *testing.T) {
	for _, method := range []string{"TokenByHash", "User", "TouchToken"} {
		t.Run("hang "+method, func(t *testing.T) {
			f := newFixture(t)
			sec, _ := f.create(t, "read:tasks")
			f.fs.Hang(method)
			ctx, cancel := context.WithTimeout(f.ctx, 20*time.Millisecond)
			defer cancel()
			p, err := f.m.Verify(ctx, sec)
			require.ErrorIs(t, err, token.ErrUnavailable)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Zero(t, p)
		})
		t.Run("panic "+method, func(t *testing.T) {
			f := newFixture(t)
			sec, _ := f.create(t, "read:tasks")
			f.fs.Panic(method)
			var p token.Principal
			require.Panics(t, func() { p, _ = f.m.Verify(f.ctx, sec) })
			assert.Zero(t, p)
		})
	}
	t.Run("canceled context", func(t *testing.T) {
		f := newFixture(t)
		sec, _ := f.create(t, "read:tasks")
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		_, err := f.m.Verify(ctx, sec)
		require.ErrorIs(t, err, token.ErrUnavailable)
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestTouch: a use is recorded at most once per interval per token, even
// under concurrent verification and with a store whose record lags.
func TestTouch(t *testing.T) {
	f := newFixture(t)
	sec, rec := f.create(t, "read:tasks")
	f.fs.ResetCalls()

	verifyN := func(n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				_, err := f.m.Verify(f.ctx, sec)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	verifyN(50)
	assert.Equal(t, 50, f.fs.Calls("TokenByHash"))
	assert.Equal(t, 1, f.fs.Calls("TouchToken"), "50 concurrent verifications, one touch")
	got, err := f.mem.TokenByHash(f.ctx, rec.Hash)
	require.NoError(t, err)
	assert.True(t, got.LastUsedAt.Equal(t0))

	f.clk.Advance(token.DefaultTouchInterval - time.Second)
	verifyN(20)
	assert.Equal(t, 1, f.fs.Calls("TouchToken"), "within the interval")
	f.clk.Advance(time.Second)
	verifyN(20)
	assert.Equal(t, 2, f.fs.Calls("TouchToken"), "the interval passed")

	// A store whose LastUsedAt lags (a replica): the throttle holds.
	f.fs.Zero("TouchToken")
	f.clk.Advance(token.DefaultTouchInterval)
	verifyN(30)
	assert.Equal(t, 3, f.fs.Calls("TouchToken"))
	f.clk.Advance(time.Second)
	verifyN(30)
	assert.Equal(t, 3, f.fs.Calls("TouchToken"), "the record is stale but the throttle remembers")
}

// TestAuditEvents: lifecycle events at Info, failures at Debug with their
// reason; IDs, user and organization, never a secret (S50, S52).
func TestAuditEvents(t *testing.T) {
	f := newFixture(t)
	sec, rec := f.create(t, "read:tasks")
	ev := f.logs.Events(t, "token created")
	require.Len(t, ev, 1)
	assert.Equal(t, "INFO", ev[0]["level"])
	assert.Equal(t, rec.ID, ev[0]["token_id"])
	assert.Equal(t, "api", ev[0]["kind"])
	assert.Equal(t, "u1", ev[0]["user"])
	assert.Equal(t, "o1", ev[0]["org"])

	refresh, _ := f.issue(t, token.KindRefresh, "u1")
	unissued, err := token.Generate(token.KindAPI)
	require.NoError(t, err)
	f.secrets = append(f.secrets, unissued.Reveal())
	goneSec, gone := f.create(t, "read:tasks")
	_, err = f.m.Verify(f.ctx, "tap_nonsense")
	require.Error(t, err)
	_, err = f.m.Verify(f.ctx, unissued.Reveal())
	require.Error(t, err)
	_, err = f.m.Verify(f.ctx, refresh)
	require.Error(t, err)
	require.NoError(t, f.m.Revoke(f.ctx, gone.ID))
	_, err = f.m.Verify(f.ctx, goneSec)
	require.Error(t, err)
	f.clk.Set(rec.ExpiresAt)
	_, err = f.m.Verify(f.ctx, sec)
	require.Error(t, err)
	f.clk.Set(t0)
	require.NoError(t, f.mem.SetUserActive("u1", false))
	_, err = f.m.Verify(f.ctx, sec)
	require.Error(t, err)

	fails := f.logs.Events(t, "token verification failed")
	reasons := map[string]map[string]any{}
	for _, e := range fails {
		assert.Equal(t, "DEBUG", e["level"])
		reasons[e["reason"].(string)] = e
	}
	for _, r := range []string{"malformed", "unknown", "wrong kind", "revoked", "expired", "inactive user"} {
		require.Contains(t, reasons, r)
	}
	assert.Equal(t, gone.ID, reasons["revoked"]["token_id"])
	assert.Equal(t, rec.ID, reasons["expired"]["token_id"])
	assert.Equal(t, "u1", reasons["inactive user"]["user"])
	assert.Equal(t, "o1", reasons["inactive user"]["org"])
	assert.NotContains(t, f.logs.String(), "tap_nonsense", "not even garbage input is logged")
}

// TestNoDebugCost: with Debug disabled, failures log nothing.
func TestNoDebugCost(t *testing.T) {
	f := newFixture(t, func(c *token.Config) { c.Logger = discard })
	_, err := f.m.Verify(f.ctx, "nope")
	require.ErrorIs(t, err, token.ErrInvalid)
	assert.Empty(t, f.logs.String())
}

// TestErrorsCarryNoSecret: no error string of the manager contains the
// presented secret (S51), whatever fails.
func TestErrorsCarryNoSecret(t *testing.T) {
	f := newFixture(t)
	sec, _ := f.create(t, "read:tasks")
	var msgs []string
	for _, fault := range []func(){
		func() {},
		func() { f.fs.Fail(storetest.AllMethods, errors.New("db down")) },
		func() { f.fs.Zero(storetest.AllMethods) },
	} {
		f.fs.Heal(storetest.AllMethods)
		fault()
		for _, presented := range []string{sec, sec[:20], sec + "x"} {
			if _, err := f.m.Verify(f.ctx, presented); err != nil {
				msgs = append(msgs, err.Error(), fmt.Sprintf("%+v %#v", err, err))
			}
			if _, err := f.m.Lookup(f.ctx, presented); err != nil {
				msgs = append(msgs, err.Error())
			}
		}
	}
	require.NotEmpty(t, msgs)
	assertNoPieces(t, strings.Join(msgs, "\n"), []string{sec})
}
