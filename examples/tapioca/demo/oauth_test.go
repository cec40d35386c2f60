package demo

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func (d *demo) client(id string) clientData {
	for _, c := range d.s.clients {
		if c.ID == id {
			return c
		}
	}
	d.t.Fatalf("no client %s", id)
	return clientData{}
}

// oauthConfig is an x/oauth2 config for a demo client, redirecting to a
// loopback URI (nothing listens there: the test reads Location).
func (d *demo) oauthConfig(id string, scopes ...string) *oauth2.Config {
	c := d.client(id)
	style := oauth2.AuthStyleInHeader
	if c.Public {
		style = oauth2.AuthStyleInParams
	}
	return &oauth2.Config{
		ClientID: c.ID, ClientSecret: c.Secret, Scopes: scopes,
		RedirectURL: "http://127.0.0.1:49152/callback",
		Endpoint: oauth2.Endpoint{
			AuthURL: d.hs.URL + "/oauth/authorize", TokenURL: d.hs.URL + "/oauth/token", AuthStyle: style,
		},
	}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// authorize walks a browser through the authorization endpoint: it signs
// in when sent to /login, then answers the consent page with decision
// ("allow" or "deny"). It returns the redirect to the client.
func (d *demo) authorize(c *http.Client, authURL, user, decision string) *url.URL {
	d.t.Helper()
	return authorize(d.t, c, d.hs.URL, authURL, user, d.password(user), decision)
}

func authorize(t *testing.T, c *http.Client, base, authURL, user, password, decision string) *url.URL {
	t.Helper()
	res, body := send(t, c, "GET", authURL, nil)
	if res.StatusCode == http.StatusFound || res.StatusCode == http.StatusSeeOther {
		loc, err := url.Parse(res.Header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "/login", loc.Path, "an anonymous authorization request goes to the sign-in page")
		ret := loc.Query().Get("return_to")
		require.True(t, strings.HasPrefix(ret, "/oauth/authorize?"), ret)
		res, _ = send(t, c, "POST", base+"/login", url.Values{"username": {user}, "password": {password}, "return_to": {ret}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, ret, res.Header.Get("Location"), "sign-in returns to the authorization request")
		res, body = send(t, c, "GET", base+ret, nil)
	}
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
	form := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		form.Add(m[1], html.UnescapeString(m[2]))
	}
	require.NotEmpty(t, form.Get("csrf_token"), body)
	form.Set("decision", decision)
	res, body = send(t, c, "POST", base+"/oauth/authorize", form)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	return loc
}

// tokenResponse is the token endpoint's answer, as the docs show it.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	Error        string `json:"error"`
}

func (d *demo) postForm(path string, form url.Values) (int, tokenResponse) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", d.hs.URL+path, strings.NewReader(form.Encode()))
	require.NoError(d.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := d.hs.Client().Do(req)
	require.NoError(d.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(d.t, err)
	var tr tokenResponse
	require.NoError(d.t, json.Unmarshal(b, &tr), string(b))
	return res.StatusCode, tr
}

// TestOAuthDocsFlow runs the requests of the API docs against the demo:
// the authorization code flow (with PKCE) for the confidential web client
// with client_secret_post, the refresh, and the client credentials grant.
func TestOAuthDocsFlow(t *testing.T) {
	d := newDemo(t)
	web := d.client("tapioca-web")
	verifier := oauth2.GenerateVerifier()
	q := "response_type=code&client_id=tapioca-web&redirect_uri=https://your-app.com/callback&scope=read:tasks%20write:time&state=random_state_string" +
		"&code_challenge=" + oauth2.S256ChallengeFromVerifier(verifier) + "&code_challenge_method=S256"
	loc := d.authorize(d.browser(), d.hs.URL+"/oauth/authorize?"+q, "alice", "allow")
	assert.Equal(t, "https://your-app.com/callback", loc.Scheme+"://"+loc.Host+loc.Path)
	assert.Equal(t, "random_state_string", loc.Query().Get("state"))
	assert.Equal(t, d.s.issuer.String(), loc.Query().Get("iss"), "RFC 9207")
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)

	status, tok := d.postForm("/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://your-app.com/callback"},
		"client_id": {"tapioca-web"}, "client_secret": {web.Secret}, "code_verifier": {verifier},
	})
	require.Equal(t, http.StatusOK, status, tok.Error)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, 3600, tok.ExpiresIn)
	assert.Equal(t, "read:tasks write:time", tok.Scope)
	assert.Regexp(t, `^tap_[A-Za-z0-9]{28}$`, tok.AccessToken)
	assert.True(t, strings.HasPrefix(tok.RefreshToken, "tap_refresh_"))

	st, _, resp := d.do("GET", "/api/v1/tasks", tok.AccessToken, "")
	assert.Equal(t, http.StatusOK, st, resp)
	st, _, resp = d.do("POST", "/api/v1/time-entries", tok.AccessToken, `{"date": "2026-01-05", "minutes": 15}`)
	assert.Equal(t, http.StatusCreated, st, resp)
	st, _, _ = d.do("PATCH", "/api/v1/tasks/"+first[task](tasks)(d), tok.AccessToken, `{"status": "done"}`)
	assert.Equal(t, http.StatusForbidden, st, "write:tasks was not granted")
	// An OAuth grant cannot be turned into a long-lived API token.
	st, _, _ = d.do("POST", "/api/v1/tokens", tok.AccessToken, `{"name": "x", "scopes": ["read:tasks"]}`)
	assert.Equal(t, http.StatusForbidden, st)

	// The docs' refresh request.
	status, ref := d.postForm("/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_id": {"tapioca-web"}, "client_secret": {web.Secret},
	})
	require.Equal(t, http.StatusOK, status, ref.Error)
	assert.NotEqual(t, tok.RefreshToken, ref.RefreshToken, "refresh tokens rotate")
	st, _, _ = d.do("GET", "/api/v1/tasks", ref.AccessToken, "")
	assert.Equal(t, http.StatusOK, st)
	// Replaying the rotated-out refresh token revokes the family.
	status, again := d.postForm("/oauth/token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_id": {"tapioca-web"}, "client_secret": {web.Secret},
	})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", again.Error)
	st, _, _ = d.do("GET", "/api/v1/tasks", ref.AccessToken, "")
	assert.Equal(t, http.StatusUnauthorized, st, "the family died with the replay")

	// The code is single-use.
	status, replay := d.postForm("/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://your-app.com/callback"},
		"client_id": {"tapioca-web"}, "client_secret": {web.Secret}, "code_verifier": {verifier},
	})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", replay.Error)
}

// TestOAuthXOAuth2 drives the demo with golang.org/x/oauth2, as a Go
// integration would: a public client with PKCE and a refreshing token
// source, a denial, and client credentials.
func TestOAuthXOAuth2(t *testing.T) {
	d := newDemo(t)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, d.hs.Client())

	t.Run("public client, PKCE, allow", func(t *testing.T) {
		conf := d.oauthConfig("tapioca-spa", "read:tasks", "write:tasks")
		verifier := oauth2.GenerateVerifier()
		loc := d.authorize(d.browser(), conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)), "bob", "allow")
		require.Equal(t, "st4te", loc.Query().Get("state"))
		tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		assert.Equal(t, "write:tasks", tok.Extra("scope"), "write:tasks implies read:tasks")

		hc := conf.Client(ctx, tok)
		res, err := hc.Get(d.hs.URL + "/api/v1/tasks")
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)

		// An expired access token is refreshed by the token source.
		tok.Expiry = time.Now().Add(-time.Minute)
		src := conf.TokenSource(ctx, tok)
		fresh, err := src.Token()
		require.NoError(t, err)
		assert.NotEqual(t, tok.AccessToken, fresh.AccessToken)
		st, _, _ := d.do("GET", "/api/v1/projects", fresh.AccessToken, "")
		assert.Equal(t, http.StatusOK, st)
	})

	t.Run("deny", func(t *testing.T) {
		conf := d.oauthConfig("tapioca-spa", "read:tasks")
		verifier := oauth2.GenerateVerifier()
		loc := d.authorize(d.browser(), conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)), "erin", "deny")
		assert.Equal(t, "access_denied", loc.Query().Get("error"))
		assert.Equal(t, "st4te", loc.Query().Get("state"))
		assert.Empty(t, loc.Query().Get("code"))
	})

	t.Run("the grant never exceeds the user's permissions", func(t *testing.T) {
		conf := d.oauthConfig("tapioca-spa", "read:tasks", "write:time")
		verifier := oauth2.GenerateVerifier()
		loc := d.authorize(d.browser(), conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "erin", "allow")
		tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		assert.Equal(t, "read:tasks read:time", tok.Extra("scope"), "erin has read:time, not write:time: narrowed")
		st, _, resp := d.do("GET", "/api/v1/tasks", tok.AccessToken, "")
		require.Equal(t, http.StatusOK, st)
		for _, id := range d.ids("acme") {
			assert.NotContains(t, resp, `"`+id+`"`, "erin is in globex")
		}
	})

	t.Run("client credentials", func(t *testing.T) {
		m := d.client("tapioca-machine")
		cc := &clientcredentials.Config{ClientID: m.ID, ClientSecret: m.Secret, TokenURL: d.hs.URL + "/oauth/token",
			Scopes: []string{"read:tasks", "read:finance"}}
		tok, err := cc.Token(ctx)
		require.NoError(t, err)
		assert.Empty(t, tok.RefreshToken)
		st, _, _ := d.do("GET", "/api/v1/budgets", tok.AccessToken, "")
		assert.Equal(t, http.StatusOK, st)
		st, _, _ = d.do("GET", "/api/v1/tokens", tok.AccessToken, "")
		assert.Equal(t, http.StatusForbidden, st, "a client has no API tokens")

		cc.Scopes = []string{"admin:org"}
		tok, err = cc.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "read:tasks read:time read:finance", tok.Extra("scope"), "narrowed to the client's registered scopes")
		cc.Scopes = []string{"admin:billing"}
		_, err = cc.Token(ctx)
		require.Error(t, err, "nothing of it can be granted")

		cc.ClientSecret = "tap_secret_wrong"
		_, err = cc.Token(ctx)
		require.Error(t, err)
	})

	t.Run("metadata", func(t *testing.T) {
		res, err := d.hs.Client().Get(d.hs.URL + "/.well-known/oauth-authorization-server")
		require.NoError(t, err)
		defer res.Body.Close()
		var md map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&md))
		assert.Equal(t, d.s.issuer.String(), md["issuer"])
		assert.Equal(t, d.hs.URL+"/oauth/token", md["token_endpoint"])
	})
}
