package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// syncBuffer is a goroutine-safe buffer for captured logs and output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// demo is a demo server under test, on an httptest server bound to
// 127.0.0.1, with its logs captured.
type demo struct {
	t    *testing.T
	s    *server
	hs   *httptest.Server
	logs *syncBuffer
}

// testData is the built-in data, made once so its passwords (and their
// memoized hashes) are shared by every test.
var testData = sync.OnceValue(builtinData)

var hashes sync.Map // password → bcrypt hash at MinCost

// memoHash is bcrypt at MinCost, computed once per password: bcrypt is
// slow under the race detector and the tests make many demos.
func memoHash(pw string) ([]byte, error) {
	if h, ok := hashes.Load(pw); ok {
		return h.([]byte), nil
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		return nil, err
	}
	hashes.Store(pw, h)
	return h, nil
}

// newDemo starts a fresh demo with the built-in data (or ds) and a low
// bcrypt cost.
func newDemo(t *testing.T, ds ...dataset) *demo {
	t.Helper()
	data := testData()
	if len(ds) > 0 {
		data = ds[0]
	}
	return newDemoWith(t, config{Data: data})
}

// newDemoWith starts a demo with cfg, its Issuer, Logger and password
// hashing filled in.
func newDemoWith(t *testing.T, cfg config) *demo {
	t.Helper()
	logs := &syncBuffer{}
	hs := httptest.NewUnstartedServer(nil)
	cfg.Issuer = "http://" + hs.Listener.Addr().String()
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.hashPassword = memoHash
	s, err := newServer(cfg)
	require.NoError(t, err)
	hs.Config.Handler = s
	hs.Start()
	t.Cleanup(hs.Close)
	return &demo{t: t, s: s, hs: hs, logs: logs}
}

// token makes an API token for a built-in user with the given scopes.
func (d *demo) token(username string, scopes string) string {
	d.t.Helper()
	sec, _, err := d.s.tokens.Create(context.Background(), token.CreateRequest{
		UserID: "user_" + username, Name: "test", Scopes: scope.Default.MustParse(scopes),
	})
	require.NoError(d.t, err)
	return sec.Reveal()
}

// password returns a built-in user's generated password.
func (d *demo) password(username string) string {
	for _, u := range d.s.users {
		if u.Username == username {
			return u.Password
		}
	}
	d.t.Fatalf("no user %s", username)
	return ""
}

// do sends a request and returns the status, headers and body.
func (d *demo) do(method, path, bearer, body string, hdr ...string) (int, http.Header, string) {
	d.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, d.hs.URL+path, rd)
	require.NoError(d.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := d.hs.Client().Do(req)
	require.NoError(d.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(d.t, err)
	return res.StatusCode, res.Header, string(b)
}

// acme returns an organization's data.
func (d *demo) org(id string) *org {
	o, ok := d.s.orgs.get(id)
	require.True(d.t, ok)
	return o
}

// snapshot is an organization's data as JSON, to prove a request changed
// nothing.
func (d *demo) snapshot(id string) string {
	o := d.org(id)
	o.mu.RLock()
	defer o.mu.RUnlock()
	b, err := json.Marshal(map[string]any{
		"settings": o.settings, "subscription": o.subscription, "invoices": o.invoices,
		"projects": o.projects.list(), "sprints": o.sprints.list(), "tasks": o.tasks.list(),
		"time": o.timeEntries.list(), "timesheets": o.timesheets.list(), "budgets": o.budgets.list(),
		"transactions": o.transactions.list(), "teams": o.teams.list(),
	})
	require.NoError(d.t, err)
	return string(b) + userState(d, id) + tokenState(d, id)
}

// tokenState is the API tokens of an organization's users: which exist,
// with what scopes and expiry, and which are revoked (not when they were
// last used: every request touches that).
func tokenState(d *demo, orgID string) string {
	var b strings.Builder
	for _, t := range orgTokens(d, orgID) {
		fmt.Fprintf(&b, "%s %s %s %s %v;", t.ID, t.Name, t.Scopes, t.ExpiresAt.Format(time.RFC3339), t.Revoked())
	}
	return b.String()
}

// orgTokens returns the tokens of an organization's users.
func orgTokens(d *demo, orgID string) []store.Token {
	var out []store.Token
	for _, p := range d.s.dir.members(orgID) {
		ts, err := d.s.tokens.List(context.Background(), p.ID)
		require.NoError(d.t, err)
		out = append(out, ts...)
	}
	return out
}

func userState(d *demo, orgID string) string {
	var b strings.Builder
	us, err := d.s.members(context.Background(), orgID)
	require.NoError(d.t, err)
	for _, u := range us {
		b.WriteString(u.ID + u.Name + u.Permissions.String())
		if u.Active {
			b.WriteString("+")
		}
	}
	return b.String()
}

// ids returns every record ID of an organization.
func (d *demo) ids(orgID string) []string {
	o := d.org(orgID)
	o.mu.RLock()
	defer o.mu.RUnlock()
	var out []string
	add := func(m *meta) { out = append(out, m.ID) }
	for _, r := range o.projects.list() {
		add(&r.meta)
	}
	for _, r := range o.sprints.list() {
		add(&r.meta)
	}
	for _, r := range o.tasks.list() {
		add(&r.meta)
	}
	for _, r := range o.timeEntries.list() {
		add(&r.meta)
	}
	for _, r := range o.timesheets.list() {
		add(&r.meta)
	}
	for _, r := range o.budgets.list() {
		add(&r.meta)
	}
	for _, r := range o.transactions.list() {
		add(&r.meta)
	}
	for _, r := range o.teams.list() {
		add(&r.meta)
	}
	for _, u := range d.s.dir.members(orgID) {
		out = append(out, u.ID)
	}
	for _, t := range orgTokens(d, orgID) {
		out = append(out, t.ID)
	}
	return out
}

// runPostgres starts Run with -postgres on opts.OpenPostgres's store and
// returns its banner (the lines before "Stop with Ctrl-C") and the channel
// Run's result arrives on once ctx ends. Output after the banner is
// discarded.
func runPostgres(ctx context.Context, opts Options) ([]string, <-chan error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Run(ctx, []string{"-addr", "127.0.0.1:0", "-bcrypt-cost", "4", "-postgres", "postgres://db"}, pw, io.Discard, opts)
		pw.CloseWithError(errors.New("run returned"))
		done <- err
	}()
	var banner []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
		banner = append(banner, sc.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return banner, done
}
