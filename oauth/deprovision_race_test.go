package oauth_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// beforeWriteStore runs a hook once, just before the next CreateToken or
// SaveCode reaches the store: the window between the server's check of the
// user and its store write.
type beforeWriteStore struct {
	store.Store
	beforeCreateToken, beforeSaveCode func()
}

func (s *beforeWriteStore) CreateToken(ctx context.Context, t store.Token) error {
	if f := s.beforeCreateToken; f != nil {
		s.beforeCreateToken = nil
		f()
	}
	return s.Store.CreateToken(ctx, t)
}

func (s *beforeWriteStore) SaveCode(ctx context.Context, c store.Code) error {
	if f := s.beforeSaveCode; f != nil {
		s.beforeSaveCode = nil
		f()
	}
	return s.Store.SaveCode(ctx, c)
}

// S45: a user deprovisioned (deactivated in the directory, then
// Deprovision) while a code of theirs is being redeemed, or issued, gets
// nothing that re-provisioning would revive.
func TestS45DeprovisionDuringCodeExchange(t *testing.T) {
	hook := &beforeWriteStore{}
	f := newFxWrapped(t, func(s store.Store) store.Store { hook.Store = s; return hook })
	code := f.code(f.web, webRedirect, "write:tasks", alice)
	hook.beforeCreateToken = func() {
		require.NoError(t, f.mem.SetUserActive(alice, false))
		require.NoError(t, f.tokens.Deprovision(t.Context(), alice))
	}
	w := f.exchange(f.web, code, webRedirect, verifier)
	require.NoError(t, f.mem.SetUserActive(alice, true)) // re-provisioned

	requireError(t, w, http.StatusBadRequest, oauth.ErrInvalidGrant)
	assert.NotRegexp(t, anyToken, w.Body.String())
	all, err := f.mem.ListTokens(t.Context(), alice)
	require.NoError(t, err)
	for _, tok := range all {
		assert.True(t, tok.Revoked(), "%s token %s survived the deprovisioning", tok.Kind, tok.ID)
	}
}

func TestS45DeprovisionDuringAuthorize(t *testing.T) {
	hook := &beforeWriteStore{}
	f := newFxWrapped(t, func(s store.Store) store.Store { hook.Store = s; return hook })
	require.NoError(t, f.consents.RememberConsent(t.Context(), alice, f.web.id, scope.MustParse("write:tasks")))
	hook.beforeSaveCode = func() {
		require.NoError(t, f.mem.SetUserActive(alice, false))
		require.NoError(t, f.tokens.Deprovision(t.Context(), alice))
	}
	w := f.authorize(authorizeQuery(f.web, webRedirect, "write:tasks"), alice)
	require.NoError(t, f.mem.SetUserActive(alice, true)) // re-provisioned

	p := redirectParams(t, w, webRedirect)
	if c := p.Get("code"); c != "" {
		// However it answered, the code must not outlive the deprovisioning.
		requireError(t, f.exchange(f.web, c, webRedirect, verifier), http.StatusBadRequest, oauth.ErrInvalidGrant)
	}
	assert.Equal(t, "access_denied", p.Get("error"), url.Values(p).Encode())
}
