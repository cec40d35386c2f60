package token_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
	"tapioca.dev/auth/token"
)

// t0 is every test's starting "now".
var t0 = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// logBuffer collects JSON log lines from any number of goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Events returns the decoded log records whose message is msg.
func (b *logBuffer) Events(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "log line %q", line)
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// fixture is a manager over a Faulty-wrapped memstore with one active
// user, a fixed clock and captured Debug logs. Every test gets its own.
type fixture struct {
	mem  *memstore.Store
	fs   *storetest.Faulty
	clk  *clock
	logs *logBuffer
	m    *token.Manager
	user store.User
	ctx  context.Context
	// secrets collects every secret the fixture handed out, for the
	// no-secret-in-logs checks.
	secrets []string
}

var adminOrg = scope.MustParse("admin:org")

func newFixture(t *testing.T, opts ...func(*token.Config)) *fixture {
	t.Helper()
	f := &fixture{
		mem:  memstore.New(),
		clk:  &clock{t: t0},
		logs: &logBuffer{},
		user: store.User{ID: "u1", OrgID: "o1", Active: true, Permissions: adminOrg},
		ctx:  t.Context(),
	}
	f.fs = storetest.NewFaulty(f.mem)
	require.NoError(t, f.mem.PutUser(f.user))
	require.NoError(t, f.mem.PutUser(store.User{ID: "u2", OrgID: "o1", Active: true, Permissions: adminOrg}))
	require.NoError(t, f.mem.PutClient(store.Client{ID: "c1", OrgID: "o1", Scopes: scope.MustParse("read:tasks read:time")}))
	cfg := token.Config{
		Store:  f.fs,
		Now:    f.clk.Now,
		Logger: slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := token.NewManager(cfg)
	require.NoError(t, err)
	f.m = m
	t.Cleanup(func() { f.assertNoSecretInLogs(t) })
	return f
}

// create makes an API token for u1 with the given scopes.
func (f *fixture) create(t *testing.T, scopes string) (string, store.Token) {
	t.Helper()
	sec, rec, err := f.m.Create(f.ctx, token.CreateRequest{UserID: "u1", Name: "ci", Scopes: scope.MustParse(scopes)})
	require.NoError(t, err)
	f.secrets = append(f.secrets, sec.Reveal())
	return sec.Reveal(), rec
}

// issue makes an OAuth token of kind k for u1 through client c1.
func (f *fixture) issue(t *testing.T, k token.Kind, userID string) (string, store.Token) {
	t.Helper()
	sec, rec, err := f.m.Issue(f.ctx, token.IssueRequest{
		Kind: k, ClientID: "c1", UserID: userID, OrgID: "o1", FamilyID: "fam_1",
		Scopes: scope.MustParse("read:tasks"), ExpiresAt: f.clk.Now().Add(time.Hour),
	})
	require.NoError(t, err)
	f.secrets = append(f.secrets, sec.Reveal())
	return sec.Reveal(), rec
}

func (f *fixture) session(t *testing.T) (string, store.Token) {
	t.Helper()
	sec, rec, err := f.m.CreateSession(f.ctx, "u1")
	require.NoError(t, err)
	f.secrets = append(f.secrets, sec.Reveal())
	return sec.Reveal(), rec
}

// assertNoSecretInLogs checks S50: the captured logs contain no secret
// the fixture handed out, nor any 12-character piece of one.
func (f *fixture) assertNoSecretInLogs(t *testing.T) {
	t.Helper()
	assertNoPieces(t, f.logs.String(), f.secrets)
}

// assertNoPieces fails if text contains any 12-character piece of the
// random part or checksum of any secret.
func assertNoPieces(t *testing.T, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		body := s[len(s)-token.BodyLen:]
		for i := 0; i+12 <= len(body); i++ {
			if strings.Contains(text, body[i:i+12]) {
				t.Errorf("a 12-character piece of a secret leaked: …%s…", strings.Repeat("*", 12))
				return
			}
		}
	}
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// discard is a logger that drops everything.
var discard = slog.New(slog.DiscardHandler)
