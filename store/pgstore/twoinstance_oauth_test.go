package pgstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
	"tapioca.dev/auth/token"
)

const (
	asIssuer    = "https://auth.tapioca.test"
	asRedirect  = "https://app.example/callback"
	asVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
	asSessionHd = "X-Test-User"
)

// headerHost is the host application: the signed-in user comes from a
// request header.
type headerHost struct{}

func (headerHost) Session(r *http.Request) (oauth.Session, error) {
	u := r.Header.Get(asSessionHd)
	if u == "" {
		return oauth.Session{}, nil
	}
	return oauth.Session{UserID: u, ID: "sess-" + u}, nil
}

func (headerHost) LoginURL(_ *http.Request, returnTo string) (string, error) {
	return "https://login.tapioca.test/?return_to=" + url.QueryEscape(returnTo), nil
}

// asInstance is one instance of a service running the authorization
// server: its own pool, store, token manager and OAuth server, on the
// schema every instance shares.
type asInstance struct {
	instance
	srv      *oauth.Server
	consents *oauth.MemoryConsents
	consumed *atomic.Int32 // codes consumed through this instance
}

type asClient struct{ id, secret string }

// consumeCounter counts the codes an instance's store consumed: the
// store-level winners of a redemption race.
type consumeCounter struct {
	store.Store
	wins *atomic.Int32
}

func (c consumeCounter) ConsumeCode(ctx context.Context, h store.Hash, at time.Time) (store.Code, error) {
	code, err := c.Store.ConsumeCode(ctx, h, at)
	if err == nil {
		c.wins.Add(1)
	}
	return code, err
}

// oauthPair returns two instances on one fresh schema and a confidential
// client registered through the first.
func oauthPair(t testing.TB, now func() time.Time) (a, b asInstance, web, svc asClient) {
	t.Helper()
	schema := newSchema(t)
	mk := func() asInstance {
		st, err := pgstore.New(newPool(t, schema))
		require.NoError(t, err)
		require.NoError(t, st.Migrate(context.Background()))
		logger := slog.New(slog.DiscardHandler)
		m, err := token.NewManager(token.Config{Store: st, Now: now, Logger: logger})
		require.NoError(t, err)
		consents := &oauth.MemoryConsents{}
		consumed := new(atomic.Int32)
		srv, err := oauth.NewServer(oauth.Config{
			Issuer: asIssuer, Store: consumeCounter{st, consumed}, Tokens: m, Host: headerHost{}, Consents: consents,
			ConsentKey: bytes.Repeat([]byte("k"), 32), Now: now, Logger: logger,
		})
		require.NoError(t, err)
		return asInstance{instance: instance{st: st, tokens: m}, srv: srv, consents: consents, consumed: consumed}
	}
	a, b = mk(), mk()
	ctx := context.Background()
	require.NoError(t, a.st.PutUser(ctx, store.User{ID: "ada", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")}))
	register := func(c store.Client) asClient {
		sec, h, err := oauth.NewClientSecret()
		require.NoError(t, err)
		c.SecretHashes = []store.Hash{h}
		require.NoError(t, a.st.PutClient(ctx, c))
		return asClient{id: c.ID, secret: sec.Reveal()}
	}
	web = register(store.Client{ID: "web", Name: "Web", RedirectURIs: []string{asRedirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: scope.MustParse("write:tasks"), OrgID: "acme"})
	svc = register(store.Client{ID: "svc", Name: "Service", GrantTypes: []string{"client_credentials"},
		Scopes: scope.MustParse("read:tasks"), OrgID: "acme"})
	return a, b, web, svc
}

// post sends a form to the instance's endpoint with Basic client
// authentication.
func (in asInstance) post(path string, c asClient, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	w := httptest.NewRecorder()
	in.srv.ServeHTTP(w, r)
	return w
}

// code runs an authorization request of ada (with her consent remembered)
// through the instance and returns the code.
func (in asInstance) code(t testing.TB, c asClient) string {
	t.Helper()
	require.NoError(t, in.consents.RememberConsent(context.Background(), "ada", c.id, scope.MustParse("read:tasks")))
	sum := sha256.Sum256([]byte(asVerifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {asRedirect}, "scope": {"read:tasks"},
		"state": {"st"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	r := httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+q.Encode(), nil)
	r.Header.Set(asSessionHd, "ada")
	w := httptest.NewRecorder()
	in.srv.ServeHTTP(w, r)
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	code := loc.Query().Get("code")
	require.NotEmpty(t, code, loc.String())
	return code
}

func (in asInstance) exchange(c asClient, code string) *httptest.ResponseRecorder {
	return in.post("/oauth/token", c, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {asRedirect}, "code_verifier": {asVerifier}})
}

func (in asInstance) refresh(c asClient, rt string) *httptest.ResponseRecorder {
	return in.post("/oauth/token", c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

func answer(t testing.TB, w *httptest.ResponseRecorder, status int) tokenAnswer {
	t.Helper()
	require.Equal(t, status, w.Code, w.Body.String())
	var ta tokenAnswer
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &ta))
	return ta
}

// Two authorization servers and two token managers on one database: what
// one instance does, the other sees at once.
func TestTwoInstancesOAuth(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return t0 }

	t.Run("RefreshReuseAcrossInstances", func(t *testing.T) {
		a, b, web, _ := oauthPair(t, now)
		first := answer(t, a.exchange(web, a.code(t, web)), http.StatusOK)
		require.NotEmpty(t, first.RefreshToken)

		// Rotated through B…
		second := answer(t, b.refresh(web, first.RefreshToken), http.StatusOK)
		require.NotEmpty(t, second.RefreshToken)
		// …the old refresh token presented to A is reuse: invalid_grant,
		// and the whole family dies, on both instances.
		assert.Equal(t, "invalid_grant", answer(t, a.refresh(web, first.RefreshToken), http.StatusBadRequest).Error)
		assert.Equal(t, "invalid_grant", answer(t, b.refresh(web, second.RefreshToken), http.StatusBadRequest).Error)
		for _, in := range []asInstance{a, b} {
			for _, at := range []string{first.AccessToken, second.AccessToken} {
				_, err := in.tokens.Verify(context.Background(), at)
				require.ErrorIs(t, err, token.ErrInvalid)
			}
		}
	})

	t.Run("RevokedThroughOneRejectedByOther", func(t *testing.T) {
		a, b, web, _ := oauthPair(t, now)
		tok := answer(t, a.exchange(web, a.code(t, web)), http.StatusOK)
		_, err := b.tokens.Verify(context.Background(), tok.AccessToken)
		require.NoError(t, err)

		w := b.post("/oauth/revoke", web, url.Values{"token": {tok.AccessToken}})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		_, err = a.tokens.Verify(context.Background(), tok.AccessToken)
		require.ErrorIs(t, err, token.ErrInvalid, "revoked through B → rejected by A")

		// Revoking the refresh token through A ends the grant on B.
		w = a.post("/oauth/revoke", web, url.Values{"token": {tok.RefreshToken}})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "invalid_grant", answer(t, b.refresh(web, tok.RefreshToken), http.StatusBadRequest).Error)
	})

	t.Run("ConcurrentRefreshesOneWinner", func(t *testing.T) {
		a, b, web, _ := oauthPair(t, now)
		first := answer(t, a.exchange(web, a.code(t, web)), http.StatusOK)
		const n = 50
		results := make([]*httptest.ResponseRecorder, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			in := a
			if i%2 == 1 {
				in = b
			}
			wg.Go(func() {
				<-start
				results[i] = in.refresh(web, first.RefreshToken)
			})
		}
		close(start)
		wg.Wait()
		oks := 0
		for _, w := range results {
			if w.Code == http.StatusOK {
				oks++
				continue
			}
			assert.Equal(t, "invalid_grant", answer(t, w, http.StatusBadRequest).Error)
		}
		require.Equal(t, 1, oks, "exactly one refresh rotates the family, across both instances")
		var current int
		require.NoError(t, a.st.Pool().QueryRow(context.Background(),
			"SELECT count(*) FROM tapioca_tokens WHERE kind = $1 AND revoked_at IS NULL", int16(store.KindRefresh)).Scan(&current))
		assert.LessOrEqual(t, current, 1, "at most one live refresh token")
	})

	t.Run("ConcurrentRedemptionsOneWinner", func(t *testing.T) {
		a, b, web, _ := oauthPair(t, now)
		code := a.code(t, web)
		const n = 50
		results := make([]*httptest.ResponseRecorder, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			in := a
			if i%2 == 1 {
				in = b
			}
			wg.Go(func() {
				<-start
				results[i] = in.exchange(web, code)
			})
		}
		close(start)
		wg.Wait()

		// Exactly one redemption consumed the code, across both instances:
		// the database decided.
		require.Equal(t, int32(1), a.consumed.Load()+b.consumed.Load(), "exactly one winner across both instances")

		// The winner's answer is the one 200 (S23); every other answer is
		// invalid_grant.
		var oks []tokenAnswer
		for _, w := range results {
			switch w.Code {
			case http.StatusOK:
				var ta tokenAnswer
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &ta))
				oks = append(oks, ta)
			case http.StatusBadRequest:
				assert.Equal(t, "invalid_grant", answer(t, w, http.StatusBadRequest).Error)
			default:
				t.Errorf("unexpected answer %d: %s", w.Code, w.Body.String())
			}
		}
		require.Len(t, oks, 1, "exactly one 200 across both instances")
		// The replays revoked what the winner got (RFC 6749 §4.1.2).
		for _, ok := range oks {
			for _, in := range []asInstance{a, b} {
				_, err := in.tokens.Verify(context.Background(), ok.AccessToken)
				require.ErrorIs(t, err, token.ErrInvalid)
				assert.Equal(t, "invalid_grant", answer(t, in.refresh(web, ok.RefreshToken), http.StatusBadRequest).Error)
			}
		}
	})
}
