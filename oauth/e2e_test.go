package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/token"
)

// e2e is a fixture served by a real HTTP server on 127.0.0.1, whose URL is
// the issuer.
type e2e struct {
	*fx
	ts *httptest.Server
	md oauth.Metadata
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	var f *fx
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.srv.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	f = newFx(t, func(c *oauth.Config) { c.Issuer = ts.URL })
	e := &e2e{fx: f, ts: ts}
	// Discover the endpoints the way a client would.
	resp, err := ts.Client().Get(ts.URL + "/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e.md))
	require.Equal(t, ts.URL, e.md.Issuer)
	return e
}

func (e *e2e) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, e.ts.Client())
}

func (e *e2e) endpoint(style oauth2.AuthStyle) oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: e.md.AuthorizationEndpoint, TokenURL: e.md.TokenEndpoint, AuthStyle: style}
}

// browse plays the user's browser for user: it follows the authorization
// URL, approves the consent page and returns the query the client's
// redirect URI received.
func (e *e2e) browse(t *testing.T, authURL, user string) url.Values {
	t.Helper()
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest(http.MethodGet, authURL, nil)
	require.NoError(t, err)
	req.Header.Set(sessionHd, user)
	resp, err := browser.Do(req)
	require.NoError(t, err)
	body := readAll(t, resp)
	if resp.StatusCode == http.StatusOK { // the consent page
		fields := url.Values{}
		for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
			fields.Add(m[1], htmlUnescape(m[2]))
		}
		fields.Set("decision", "allow")
		req, err = http.NewRequest(http.MethodPost, e.ts.URL+"/oauth/authorize", strings.NewReader(fields.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(sessionHd, user)
		resp, err = browser.Do(req)
		require.NoError(t, err)
		readAll(t, resp)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	} else {
		require.Equal(t, http.StatusFound, resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return loc.Query()
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

func TestEndToEndAuthorizationCodeWithXOAuth2(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams, oauth2.AuthStyleAutoDetect} {
		t.Run("confidential/style="+[]string{"auto", "params", "header"}[style], func(t *testing.T) {
			e := newE2E(t)
			conf := &oauth2.Config{ClientID: e.web.id, ClientSecret: e.web.secret, Endpoint: e.endpoint(style),
				RedirectURL: webRedirect, Scopes: []string{"write:tasks", "read:time"}}
			v := oauth2.GenerateVerifier()
			q := e.browse(t, conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(v)), alice)
			require.Empty(t, q.Get("error"))
			assert.Equal(t, "st-1", q.Get("state"))
			assert.Equal(t, e.ts.URL, q.Get("iss")) // RFC 9207: the client checks it

			tok, err := conf.Exchange(e.ctx(), q.Get("code"), oauth2.VerifierOption(v))
			require.NoError(t, err)
			assert.Regexp(t, accessRE, tok.AccessToken)
			assert.Regexp(t, refreshRE, tok.RefreshToken)
			assert.Equal(t, "Bearer", tok.TokenType)
			assert.Equal(t, "write:tasks read:time", tok.Extra("scope"))
			assert.InDelta(t, 3600, time.Until(tok.Expiry).Seconds(), 60)
			p, err := e.tokens.Verify(t.Context(), tok.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, alice, p.UserID)

			// A second exchange of the code fails and kills the first grant.
			_, err = conf.Exchange(e.ctx(), q.Get("code"), oauth2.VerifierOption(v))
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "invalid_grant", re.ErrorCode)
			_, err = e.tokens.Verify(t.Context(), tok.AccessToken)
			require.ErrorIs(t, err, token.ErrInvalid)
		})
	}
	t.Run("public client on a loopback port", func(t *testing.T) {
		e := newE2E(t)
		conf := &oauth2.Config{ClientID: e.spa.id, Endpoint: e.endpoint(oauth2.AuthStyleInParams),
			RedirectURL: "http://127.0.0.1:49152/cb", Scopes: []string{"read:tasks"}}
		v := oauth2.GenerateVerifier()
		q := e.browse(t, conf.AuthCodeURL("st-2", oauth2.S256ChallengeOption(v)), alice)
		tok, err := conf.Exchange(e.ctx(), q.Get("code"), oauth2.VerifierOption(v))
		require.NoError(t, err)
		assert.NotEmpty(t, tok.RefreshToken)
		// Without the verifier the code is useless.
		q = e.browse(t, conf.AuthCodeURL("st-3", oauth2.S256ChallengeOption(v)), alice)
		_, err = conf.Exchange(e.ctx(), q.Get("code"))
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "invalid_grant", re.ErrorCode)
	})
	t.Run("denied", func(t *testing.T) {
		e := newE2E(t)
		conf := &oauth2.Config{ClientID: e.web.id, ClientSecret: e.web.secret, Endpoint: e.endpoint(oauth2.AuthStyleInHeader),
			RedirectURL: webRedirect, Scopes: []string{"admin:billing"}}
		v := oauth2.GenerateVerifier()
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
			Get(conf.AuthCodeURL("st-4", oauth2.S256ChallengeOption(v)))
		require.NoError(t, err)
		readAll(t, resp)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		assert.Equal(t, "invalid_scope", loc.Query().Get("error"))
		assert.Equal(t, "st-4", loc.Query().Get("state"))
	})
}

func TestEndToEndRefreshOnExpiryWithXOAuth2(t *testing.T) {
	e := newE2E(t)
	conf := &oauth2.Config{ClientID: e.web.id, ClientSecret: e.web.secret, Endpoint: e.endpoint(oauth2.AuthStyleInHeader),
		RedirectURL: webRedirect, Scopes: []string{"write:tasks"}}
	v := oauth2.GenerateVerifier()
	q := e.browse(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v)), alice)
	first, err := conf.Exchange(e.ctx(), q.Get("code"), oauth2.VerifierOption(v))
	require.NoError(t, err)

	// An hour passes on the server's clock: the access token expired there.
	// x/oauth2 judges expiry with time.Now, so the client's copy is marked
	// expired by hand, as it would be an hour later.
	e.clock.Advance(time.Hour)
	_, err = e.tokens.Verify(t.Context(), first.AccessToken)
	require.ErrorIs(t, err, token.ErrInvalid)
	stale := *first
	stale.Expiry = time.Now().Add(-time.Second)
	src := conf.TokenSource(e.ctx(), &stale)
	fresh, err := src.Token()
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, fresh.AccessToken)
	assert.NotEqual(t, first.RefreshToken, fresh.RefreshToken)
	p, err := e.tokens.Verify(t.Context(), fresh.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, alice, p.UserID)
	// Not expired for the client: the source returns it without a call.
	again, err := src.Token()
	require.NoError(t, err)
	assert.Equal(t, fresh.AccessToken, again.AccessToken)

	// An authenticated HTTP client built on the source works against a
	// resource that verifies with the token manager.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := e.tokens.Verify(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer api.Close()
	resp, err := oauth2.NewClient(e.ctx(), src).Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)

	// A client that kept the rotated-out refresh token trips reuse
	// detection: the whole family dies, the fresh tokens included.
	_, err = conf.TokenSource(e.ctx(), &stale).Token()
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_grant", re.ErrorCode)
	_, err = e.tokens.Verify(t.Context(), fresh.AccessToken)
	require.ErrorIs(t, err, token.ErrInvalid)
}

func TestEndToEndClientCredentialsWithXOAuth2(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams, oauth2.AuthStyleAutoDetect} {
		t.Run([]string{"auto", "params", "header"}[style], func(t *testing.T) {
			e := newE2E(t)
			cc := clientcredentials.Config{ClientID: e.svc.id, ClientSecret: e.svc.secret, TokenURL: e.md.TokenEndpoint,
				Scopes: []string{"read:tasks"}, AuthStyle: style}
			tok, err := cc.Token(e.ctx())
			require.NoError(t, err)
			assert.Regexp(t, accessRE, tok.AccessToken)
			assert.Empty(t, tok.RefreshToken)
			assert.Equal(t, "read:tasks", tok.Extra("scope"))
			p, err := e.tokens.Verify(t.Context(), tok.AccessToken)
			require.NoError(t, err)
			assert.True(t, p.IsClient())

			cc.ClientSecret = "tap_secret_wrong"
			_, err = cc.Token(e.ctx())
			var re *oauth2.RetrieveError
			require.True(t, errors.As(err, &re), err)
			assert.Equal(t, "invalid_client", re.ErrorCode)
		})
	}
}
