package pgstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
	"tapioca.dev/auth/token"
)

// tcpProxy forwards a loopback port to the database server, and can go
// down and come back on the same port: a database outage, as the
// service's pool sees it.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0"}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *tcpProxy) up() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(p.t, err)
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
}

// down closes the listener and every forwarded connection.
func (p *tcpProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// During a database outage nothing is authenticated and no token is
// issued — every failure is "unavailable", never "invalid" — and when the
// database comes back the same pool serves again.
func TestOutageFailsClosedAndRecovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schema := newSchema(t)
	cfg, err := pgxpool.ParseConfig(testURL(t))
	require.NoError(t, err)
	proxy := newTCPProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	host, port, err := net.SplitHostPort(proxy.addr)
	require.NoError(t, err)
	pool := newPool(t, schema, func(c *pgxpool.Config) {
		c.ConnConfig.Host = host
		p, _ := strconv.Atoi(port)
		c.ConnConfig.Port = uint16(p)
		c.ConnConfig.ConnectTimeout = 2 * time.Second
	})
	st, err := pgstore.New(pool)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))

	// A token manager and an authorization server on the proxied store.
	now := func() time.Time { return t0 }
	logger := slog.New(slog.DiscardHandler)
	tokens, err := token.NewManager(token.Config{Store: st, Now: now, Logger: logger})
	require.NoError(t, err)
	srv, err := oauth.NewServer(oauth.Config{Issuer: asIssuer, Store: st, Tokens: tokens, Host: headerHost{}, Now: now, Logger: logger})
	require.NoError(t, err)
	secret, h, err := oauth.NewClientSecret()
	require.NoError(t, err)
	require.NoError(t, st.PutClient(ctx, store.Client{ID: "svc", SecretHashes: []store.Hash{h},
		GrantTypes: []string{"client_credentials"}, Scopes: scope.MustParse("read:tasks"), OrgID: "acme"}))
	clientCredentials := func() int {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials&scope=read%3Atasks"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("svc", secret.Reveal())
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w.Code
	}
	require.Equal(t, http.StatusOK, clientCredentials())

	require.NoError(t, st.PutUser(ctx, store.User{ID: "ada", OrgID: "acme", Active: true, Permissions: scope.MustParse("read:tasks")}))
	sec, _, err := tokens.Create(ctx, token.CreateRequest{UserID: "ada", Name: "n", Scopes: scope.MustParse("read:tasks")})
	require.NoError(t, err)
	_, err = tokens.Verify(ctx, sec.Reveal())
	require.NoError(t, err)

	proxy.down()
	for range 3 {
		_, err = tokens.Verify(ctx, sec.Reveal())
		require.ErrorIs(t, err, token.ErrUnavailable, "an outage is never a pass")
		require.False(t, errors.Is(err, token.ErrInvalid), "nor blamed on the token")
		_, _, err = tokens.Create(ctx, token.CreateRequest{UserID: "ada", Name: "n2", Scopes: scope.MustParse("read:tasks")})
		require.Error(t, err, "no token is issued")
		require.Equal(t, http.StatusServiceUnavailable, clientCredentials(), "no token is issued")
	}

	proxy.up()
	var recovered bool
	for range int(pool.Config().MaxConns) + 2 {
		if _, err = tokens.Verify(ctx, sec.Reveal()); err == nil {
			recovered = true
			break
		}
		require.ErrorIs(t, err, token.ErrUnavailable)
	}
	require.True(t, recovered, "the pool reconnects when the database is back: %v", err)
	toks, err := st.ListTokens(ctx, "ada")
	require.NoError(t, err)
	assert.Len(t, toks, 1, "nothing was issued during the outage")
	var issued int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM tapioca_tokens WHERE client_id = 'svc'").Scan(&issued))
	assert.Equal(t, 1, issued, "no client_credentials token was issued during the outage")
	require.Equal(t, http.StatusOK, clientCredentials())
}
