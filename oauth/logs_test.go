package oauth_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
)

// S50 and S52: a full run — every grant, every failure that logs a
// security event — leaves logs that name client, user and org, and hold no
// token, code, verifier, client secret or Authorization value, nor any
// 12-character piece of one.
func TestS50LogsContainNoSecrets(t *testing.T) {
	f := newFx(t)
	var secrets []string
	keep := func(s ...string) {
		for _, x := range s {
			if x != "" {
				secrets = append(secrets, x)
			}
		}
	}
	keep(f.web.secret, f.svc.secret, f.other.secret, verifier,
		basicHeader(f.web.id, f.web.secret), basicHeader(f.svc.id, f.svc.secret), basicHeader(f.other.id, f.other.secret))

	// Every grant.
	cc := decodeTokens(t, f.token(f.svc, url.Values{"grant_type": {"client_credentials"}, "scope": {"read:tasks"}}))
	keep(cc.AccessToken)
	code := f.code(f.web, webRedirect, "write:tasks", alice)
	tr := decodeTokens(t, f.exchange(f.web, code, webRedirect, verifier))
	keep(code, tr.AccessToken, tr.RefreshToken)
	tr2 := decodeTokens(t, f.refresh(f.web, tr.RefreshToken))
	keep(tr2.AccessToken, tr2.RefreshToken)

	// Security events: refresh reuse, code reuse, failed client
	// authentication, rate-limit trip, refresh by another client, bad CSRF.
	// The refresh reuse comes first: the code reuse revokes that family, and
	// a token of a revoked family is no longer reuse (see below).
	f.refresh(f.web, tr.RefreshToken)
	f.exchange(f.web, code, webRedirect, verifier)
	f.refresh(f.web, tr2.RefreshToken) // the family is revoked now: a revoked token, not reuse
	for i := range oauth.DefaultFailedAuthBurst + 1 {
		f.token(clientFx{id: "svc", secret: f.svc.secret[:len(f.svc.secret)-1] + strconv.Itoa(i%10)},
			url.Values{"grant_type": {"client_credentials"}})
	}
	f.token(clientFx{id: f.web.secret, secret: f.web.secret}, url.Values{"grant_type": {"client_credentials"}}) // a secret as client_id
	f.clock.Advance(2 * time.Minute)                                                                            // every request here comes from one address: let the limiter refill
	tr3 := f.grant(f.spa, cliRedirect, "read:tasks", alice)
	keep(tr3.AccessToken, tr3.RefreshToken)
	f.refresh(f.other, tr3.RefreshToken)
	fields := f.consentForm(t, f.web, webRedirect, "write:tasks read:time", bob)
	keep(fields.Get("csrf_token"))
	fields.Set("csrf_token", "1.x")
	fields.Set("decision", "allow")
	f.postConsent(fields, bob)

	// Revocation, introspection, a store failure.
	f.introspect(tr3.AccessToken)
	f.post("/oauth/revoke", f.spa, url.Values{"token": {tr3.RefreshToken}})
	f.refresh(f.spa, tr3.RefreshToken) // revoked at the revocation endpoint: not reuse
	f.st.Fail("TokenByHash", nil)
	f.post("/oauth/introspect", f.other, url.Values{"token": {cc.AccessToken}})
	f.st.Heal("TokenByHash")
	w := f.post("/oauth/introspect", f.other, url.Values{"token": {cc.AccessToken}})
	require.Equal(t, http.StatusOK, w.Code)

	logs := f.logs.String()
	require.NotEmpty(t, logs)
	for _, s := range secrets {
		for i := 0; i+12 <= len(s); i++ {
			piece := s[i : i+12]
			if piece == "tap_refresh_" {
				continue // the public kind prefix
			}
			require.NotContains(t, logs, piece, "a piece of a secret reached the logs")
		}
	}

	// S52: the security events are there, with client, user and org.
	for _, event := range []string{
		"authorization code reused", "refresh token reused", "client authentication failed",
		"client authentication rate limited", "refresh token presented by another client",
		"consent submitted without a valid CSRF token", "revoked refresh token presented",
	} {
		assert.Contains(t, logs, event)
	}
	// Reuse is logged once: for the rotated-out token of a live family,
	// not for the tokens revoked with their family.
	assert.Equal(t, 1, strings.Count(logs, "refresh token reused"), logs)
	assert.Equal(t, 2, strings.Count(logs, "revoked refresh token presented"), logs)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "refresh token reused") || strings.Contains(line, "consent submitted without") ||
			strings.Contains(line, "authorization code reused") || strings.Contains(line, "revoked refresh token presented") {
			assert.Contains(t, line, "client=")
			assert.Contains(t, line, "user=")
			assert.Contains(t, line, "org=")
		}
	}
}
