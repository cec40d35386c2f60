package pgstore_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
	"tapioca.dev/auth/token"
)

// instance is one service instance: its own pool, store and token manager
// on the shared schema.
type instance struct {
	st     *pgstore.Store
	tokens *token.Manager
}

// twoInstances returns two instances on one fresh schema, migrated by both
// at start, with a shared clock.
func twoInstances(t *testing.T, now func() time.Time) (a, b instance) {
	t.Helper()
	schema := newSchema(t)
	mk := func() instance {
		st, err := pgstore.New(newPool(t, schema))
		require.NoError(t, err)
		require.NoError(t, st.Migrate(context.Background()))
		m, err := token.NewManager(token.Config{Store: st, Now: now, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		return instance{st: st, tokens: m}
	}
	return mk(), mk()
}

// A token revoked, or a user deprovisioned, through one instance is
// refused by the other on its next verification: the state is in the
// database, not in either process.
func TestTwoInstancesTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := t0
	a, b := twoInstances(t, func() time.Time { return now })
	user := store.User{ID: "ada", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")}
	require.NoError(t, a.st.PutUser(ctx, user))

	sec, rec, err := a.tokens.Create(ctx, token.CreateRequest{UserID: "ada", Name: "cli", Scopes: scope.MustParse("read:tasks")})
	require.NoError(t, err)
	p, err := b.tokens.Verify(ctx, sec.Reveal())
	require.NoError(t, err, "a token made through A works through B")
	assert.Equal(t, rec.ID, p.TokenID)

	// B's API, behind the middleware, serves the token…
	api := middleware.Authenticate(b.tokens)(middleware.Require("read:tasks")(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })))
	get := func() int {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/tasks", nil)
		r.Header.Set("Authorization", "Bearer "+sec.Reveal())
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		return w.Code
	}
	require.Equal(t, http.StatusNoContent, get())

	// …until it is revoked through A: the next request to B is refused.
	require.NoError(t, a.tokens.Revoke(ctx, rec.ID))
	require.Equal(t, http.StatusUnauthorized, get(), "revoked through A → refused by B's next request")
	_, err = b.tokens.Verify(ctx, sec.Reveal())
	require.ErrorIs(t, err, token.ErrInvalid)

	// Deprovisioning through B kills A's view of every token of the user,
	// and re-activating the user revives none.
	sec2, _, err := a.tokens.Create(ctx, token.CreateRequest{UserID: "ada", Name: "ci", Scopes: scope.MustParse("read:tasks")})
	require.NoError(t, err)
	_, err = a.tokens.Verify(ctx, sec2.Reveal())
	require.NoError(t, err)
	require.NoError(t, b.tokens.Deprovision(ctx, "ada"))
	_, err = a.tokens.Verify(ctx, sec2.Reveal())
	require.ErrorIs(t, err, token.ErrInvalid)
	require.NoError(t, a.st.PutUser(ctx, user))
	_, err = a.tokens.Verify(ctx, sec2.Reveal())
	require.ErrorIs(t, err, token.ErrInvalid, "re-provisioning revives nothing")

	// A demotion written through A applies to B's next verification.
	sec3, _, err := b.tokens.Create(ctx, token.CreateRequest{UserID: "ada", Name: "w", Scopes: scope.MustParse("write:tasks")})
	require.NoError(t, err)
	p, err = a.tokens.Verify(ctx, sec3.Reveal())
	require.NoError(t, err)
	assert.True(t, p.Scopes.Contains("write:tasks"))
	user.Permissions = scope.MustParse("read:tasks")
	require.NoError(t, a.st.PutUser(ctx, user))
	p, err = b.tokens.Verify(ctx, sec3.Reveal())
	require.NoError(t, err)
	assert.Equal(t, "read:tasks", p.Scopes.String())
}
