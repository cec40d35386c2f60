package demo

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/store/memstore"
)

// started is a demo started through Run, as `go run ./examples/tapioca` does.
type started struct {
	banner []string // the start-up output, line by line
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// startRun runs the demo on 127.0.0.1:0 and returns once it has printed its
// banner.
func startRun(t *testing.T, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	st := &started{logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := Run(ctx, append([]string{"-addr", "127.0.0.1:0", "-bcrypt-cost", "4"}, args...), pw, st.logs, Options{})
		pw.CloseWithError(errors.New("run returned"))
		st.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-st.done:
		case <-time.After(15 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		st.banner = append(st.banner, sc.Text())
		if strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			return st
		}
	}
	t.Fatalf("run ended before its banner was complete: %v\n%s", sc.Err(), strings.Join(st.banner, "\n"))
	return nil
}

func (st *started) find(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	for _, l := range st.banner {
		if m := re.FindStringSubmatch(l); m != nil {
			return m
		}
	}
	t.Fatalf("no line matches %s in:\n%s", re, strings.Join(st.banner, "\n"))
	return nil
}

var (
	curlRE   = regexp.MustCompile(`^\s*curl (http://127\.0\.0\.1:\d+/api/v1/tasks) -H "Authorization: Bearer (tap_[A-Za-z0-9]{28})"$`)
	exportRE = regexp.MustCompile(`^\s*export TAPIOCA_TOKEN=(tap_[A-Za-z0-9]{28})$`)
	taskRE   = regexp.MustCompile(`^\s*TASK_ID=(\S+)$`)
	patchRE  = regexp.MustCompile(`^\s*curl -X PATCH (\S+)/api/v1/tasks/\$TASK_ID -H "Authorization: Bearer \$TAPIOCA_TOKEN" -H "Content-Type: application/json" -d '(.+)'$`)
)

func get(t *testing.T, method, url, bearer, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// TestRunBanner: the curl lines printed at start work as printed, the
// server shuts down gracefully, and the logs hold no secret.
func TestRunBanner(t *testing.T) {
	st := startRun(t)

	m := st.find(t, curlRE)
	status, body := get(t, "GET", m[1], m[2], "")
	require.Equal(t, http.StatusOK, status, body)
	var tasks list[task]
	require.NoError(t, json.Unmarshal([]byte(body), &tasks))
	require.NotEmpty(t, tasks.Data)

	// The docs' PATCH request, with the printed TASK_ID and TAPIOCA_TOKEN.
	tok := st.find(t, exportRE)[1]
	assert.Equal(t, m[2], tok)
	taskID := st.find(t, taskRE)[1]
	p := st.find(t, patchRE)
	status, body = get(t, "PATCH", p[1]+"/api/v1/tasks/"+taskID, tok, p[2])
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"status": "done"`)

	// The docs' OAuth requests as printed: client credentials, then the
	// authorization code flow (sign in with the printed password, approve),
	// the printed exchange with the code, and the printed refresh.
	cc := st.find(t, ccRE)
	res, body := send(t, http.DefaultClient, "POST", cc[1]+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {cc[4]}}, "Authorization", basic(cc[2], cc[3]))
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var tr tokenResponse
	require.NoError(t, json.Unmarshal([]byte(body), &tr))
	status, _ = get(t, "GET", cc[1]+"/api/v1/tasks", tr.AccessToken, "")
	assert.Equal(t, http.StatusOK, status)

	authURL := st.find(t, authorizeRE)[1]
	password := st.find(t, aliceRE)[1]
	loc := authorize(t, newBrowser(t), cc[1], authURL, "alice", password, "allow")
	require.Equal(t, "https://your-app.com/callback", loc.Scheme+"://"+loc.Host+loc.Path)
	code := loc.Query().Get("code")
	ex := st.find(t, exchangeRE)
	res, body = send(t, http.DefaultClient, "POST", ex[1], curlForm(t, strings.Replace(ex[2], "AUTHORIZATION_CODE", code, 1)))
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.NoError(t, json.Unmarshal([]byte(body), &tr))
	assert.Equal(t, "read:tasks write:time", tr.Scope)
	rf := st.find(t, refreshRE)
	used := []string{code, tr.AccessToken, tr.RefreshToken}
	res, body = send(t, http.DefaultClient, "POST", rf[1], curlForm(t, strings.Replace(rf[2], "tap_refresh_…", tr.RefreshToken, 1)))
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.NoError(t, json.Unmarshal([]byte(body), &tr))
	used = append(used, tr.AccessToken, tr.RefreshToken)

	// Graceful shutdown.
	st.cancel()
	select {
	case err := <-st.done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("no shutdown")
	}
	st.done <- nil // for the cleanup

	// No secret of the banner (tokens, client secrets, passwords) is in the
	// logs, nor any 12-character piece of one (SECURITY.md S50).
	logs := st.logs.String()
	assert.Contains(t, logs, "msg=request")
	secrets := append(bannerSecrets(st.banner), used...)
	require.Greater(t, len(secrets), 10)
	for _, secret := range secrets {
		for i := 0; i+12 <= len(secret); i++ {
			require.NotContains(t, logs, secret[i:i+12], "a piece of a secret is in the logs")
		}
	}
}

var (
	ccRE        = regexp.MustCompile(`^\s*curl -X POST (\S+)/oauth/token -u ([^:\s]+):(tap_secret_[A-Za-z0-9]{28}) -d grant_type=client_credentials -d scope=(\S+)$`)
	authorizeRE = regexp.MustCompile(`^\s*(http://\S+/oauth/authorize\?\S+)$`)
	aliceRE     = regexp.MustCompile(`^\s*alice\s+(\S+)\s+acme\s`)
	exchangeRE  = regexp.MustCompile(`^\s*curl -X POST (\S+/oauth/token) (-d grant_type=authorization_code .*)$`)
	refreshRE   = regexp.MustCompile(`^\s*curl -X POST (\S+/oauth/token) (-d grant_type=refresh_token .*)$`)
)

// curlForm turns curl's "-d k=v -d k=v" arguments into a form, as curl
// sends them (values are used as written: the printed lines need no
// quoting).
func curlForm(t *testing.T, args string) url.Values {
	t.Helper()
	f := url.Values{}
	fields := strings.Fields(args)
	require.Zero(t, len(fields)%2, args)
	for i := 0; i < len(fields); i += 2 {
		require.Equal(t, "-d", fields[i], args)
		k, v, ok := strings.Cut(fields[i+1], "=")
		require.True(t, ok, args)
		f.Add(k, v)
	}
	return f
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

var (
	tapRE      = regexp.MustCompile(`tap_[A-Za-z0-9_]+`)
	passwordRE = regexp.MustCompile(`\b[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}\b`)
)

func bannerSecrets(banner []string) []string {
	all := strings.Join(banner, "\n")
	out := append(tapRE.FindAllString(all, -1), passwordRE.FindAllString(all, -1)...)
	return out
}

func TestRunFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		says string
	}{
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"extra argument", []string{"serve"}, "unexpected arguments"},
		{"bad issuer", []string{"-issuer", "ftp://x"}, "-issuer"},
		{"issuer with a path", []string{"-issuer", "http://127.0.0.1:8080/x"}, "must have no path"},
		{"issuer with a deeper path", []string{"-issuer", "http://127.0.0.1:8080/tapioca/"}, "must have no path"},
		{"missing data file", []string{"-data", filepath.Join(t.TempDir(), "none.json")}, "-data"},
		{"bad address", []string{"-addr", "127.0.0.1:-1"}, "cannot listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, logs syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := Run(ctx, append([]string{"-addr", "127.0.0.1:0", "-bcrypt-cost", "4"}, tt.args...), &out, &logs, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error()+logs.String(), tt.says)
			assert.Empty(t, out.String(), "nothing starts")
		})
	}
}

var (
	anyCurlRE     = regexp.MustCompile(`^\s*curl (http://127\.0\.0\.1:\d+)(/api/v1/[a-z/-]+) -H "Authorization: Bearer (tap_[A-Za-z0-9]{28})"$`)
	oauthClientRE = regexp.MustCompile(`^\s*go run \./examples/oauth-client (.*)$`)
)

// writeData writes a -data file and returns its path.
func writeData(t *testing.T, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data.json")
	require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	return path
}

// TestRunBannerData: with a -data file, the banner prints only requests
// that work for the data, and they work as printed: no PATCH when the demo
// token cannot write tasks, a list it can read when it cannot read tasks,
// and the oauth-client command with the data's clients and flows.
func TestRunBannerData(t *testing.T) {
	t.Run("read-only user, machine-only clients", func(t *testing.T) {
		st := startRun(t, "-data", writeData(t, `{
  "users": [{"username": "rita", "password": "a long passphrase", "organization": "initech", "permissions": ["read:tasks"]}],
  "clients": [{"id": "initech-cron", "grants": ["client_credentials"], "scopes": ["read:time", "read:tasks"], "organization": "initech"}]
}`))
		all := strings.Join(st.banner, "\n")
		m := st.find(t, curlRE)
		status, body := get(t, "GET", m[1], m[2], "")
		require.Equal(t, http.StatusOK, status, body)
		assert.NotRegexp(t, `curl -X PATCH`, all, "the token cannot write tasks")
		assert.NotContains(t, all, "TASK_ID=")
		assert.Contains(t, all, "No PATCH of a task: the token cannot write tasks")
		assert.NotContains(t, all, "/oauth/authorize?", "no client for the code flow")

		cc := st.find(t, ccRE)
		assert.Equal(t, "initech-cron", cc[2])
		res, body := send(t, http.DefaultClient, "POST", cc[1]+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {cc[4]}}, "Authorization", basic(cc[2], cc[3]))
		require.Equal(t, http.StatusOK, res.StatusCode, body)

		oc := st.find(t, oauthClientRE)[1]
		assert.Contains(t, oc, " -flow client-credentials")
		assert.Contains(t, oc, " -machine-id initech-cron")
		assert.Contains(t, oc, " -machine-secret "+cc[3])
		assert.NotContains(t, oc, "-flow code")
		assert.NotContains(t, oc, "-machine-scope", "read:tasks, the default")
	})
	t.Run("user who cannot read tasks, code-only public client", func(t *testing.T) {
		st := startRun(t, "-data", writeData(t, `{
  "users": [{"username": "tom", "password": "a long passphrase", "organization": "initech", "permissions": ["read:time"]}],
  "clients": [{"id": "initech-spa", "public": true, "redirect_uris": ["http://127.0.0.1/callback"], "grants": ["authorization_code"], "scopes": ["read:time"]}]
}`))
		all := strings.Join(st.banner, "\n")
		m := st.find(t, anyCurlRE)
		assert.Equal(t, "/api/v1/time-entries", m[2], "a list the token can read")
		status, body := get(t, "GET", m[1]+m[2], m[3], "")
		require.Equal(t, http.StatusOK, status, body)
		assert.Contains(t, all, "tom cannot read tasks")
		assert.NotContains(t, all, "curl -X PATCH")
		assert.NotContains(t, all, "grant_type=client_credentials", "no machine client")

		oc := st.find(t, oauthClientRE)[1]
		assert.Contains(t, oc, " -flow code")
		assert.Contains(t, oc, " -client-id initech-spa")
		assert.Contains(t, oc, " -scope read:time")
		assert.NotContains(t, oc, "-machine")
	})
	t.Run("no client the oauth-client can use", func(t *testing.T) {
		st := startRun(t, "-data", writeData(t, `{
  "users": [{"username": "tom", "password": "a long passphrase", "organization": "initech", "permissions": ["write:tasks"]}],
  "clients": [{"id": "initech-web", "redirect_uris": ["https://initech.example/cb"], "grants": ["authorization_code"], "scopes": ["read:tasks"]}]
}`))
		all := strings.Join(st.banner, "\n")
		assert.NotContains(t, all, "go run ./examples/oauth-client")
		assert.Contains(t, all, "The x/oauth2 client example has no client to use")
		assert.Contains(t, all, "scope=read:tasks&", "the docs' scope, narrowed to the client's")
	})
}

// TestRunDataFile: a -data file's users sign in and its clients are
// registered; its passwords are not printed.
func TestRunDataFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.json")
	require.NoError(t, os.WriteFile(path, []byte(`{
  "users": [
    {"username": "zoe", "password": "a long passphrase", "organization": "initech", "permissions": ["write:tasks"]}
  ],
  "clients": [
    {"id": "initech-cron", "grants": ["client_credentials"], "scopes": ["read:tasks"], "organization": "initech"}
  ]
}`), 0o600))
	st := startRun(t, "-data", path)
	all := strings.Join(st.banner, "\n")
	assert.Contains(t, all, "zoe")
	assert.NotContains(t, all, "a long passphrase")
	assert.Contains(t, all, "initech-cron")
	m := st.find(t, curlRE)
	status, body := get(t, "GET", m[1], m[2], "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"assignee_id": "user_zoe"`)
}

// TestIssuerTrailingSlash: an issuer with only a trailing slash is the
// root, without the slash.
func TestIssuerTrailingSlash(t *testing.T) {
	s, err := newServer(config{Issuer: "http://127.0.0.1:8080/", Data: testData(), hashPassword: memoHash, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080", s.issuer.String())
}

func TestDefaultIssuer(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080"},
		{"[::]:8080", "http://127.0.0.1:8080"},
		{"[::1]:9000", "http://[::1]:9000"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a, err := net.ResolveTCPAddr("tcp", tt.addr)
			require.NoError(t, err)
			assert.Equal(t, tt.want, defaultIssuer(a))
		})
	}
}

// TestRunPostgresWithoutDriver: in the core module -postgres does not
// start anything; it says which command runs the demo on PostgreSQL, with
// the other flags (the -data path made absolute, since that command runs
// in store/pgstore), and never repeats the URL's password.
func TestRunPostgresWithoutDriver(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"password", []string{"-postgres", "postgres://tapioca:sekrit@127.0.0.1:5432/tapioca?sslmode=disable"},
			PostgresCommand + " -postgres 'postgres://tapioca:xxxxx@127.0.0.1:5432/tapioca?sslmode=disable' -bcrypt-cost 4"},
		{"no password", []string{"-postgres", "postgres://127.0.0.1/tapioca", "-addr", "127.0.0.1:9090", "-data", "x.json"},
			PostgresCommand + " -postgres postgres://127.0.0.1/tapioca -addr 127.0.0.1:9090 -data " + shellQuote(must(filepath.Abs("x.json"))) + " -bcrypt-cost 4"},
		{"password parameter", []string{"-postgres", "postgres://127.0.0.1/tapioca?password=sekrit"},
			PostgresCommand + " -postgres URL -bcrypt-cost 4"},
		{"keyword/value", []string{"-postgres", "host=127.0.0.1 password=sekrit"},
			PostgresCommand + " -postgres URL -bcrypt-cost 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, logs syncBuffer
			err := Run(context.Background(), append([]string{"-bcrypt-cost", "4"}, tt.args...), &out, &logs, Options{})
			require.ErrorIs(t, err, ErrNoPostgres)
			assert.True(t, strings.HasSuffix(err.Error(), "\n  "+tt.want), "%s", err)
			assert.NotContains(t, err.Error()+logs.String(), "sekrit")
			assert.Empty(t, out.String(), "nothing starts")
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestRunOpenPostgres: -postgres runs the demo on the store that
// Options.OpenPostgres returns (here an in-memory one), registers the
// clients and users in it, and closes it at shutdown. A failing
// OpenPostgres starts nothing.
func TestRunOpenPostgres(t *testing.T) {
	ms := memstore.New()
	var gotURL string
	closed := make(chan struct{})
	opts := Options{OpenPostgres: func(_ context.Context, url string) (Store, func(), error) {
		gotURL = url
		return memStore{ms}, func() { close(closed) }, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	banner, done := runPostgres(ctx, opts)
	assert.Equal(t, "postgres://db", gotURL)
	assert.Contains(t, strings.Join(banner, "\n"), "kept in PostgreSQL")
	_, err := ms.Client(ctx, "tapioca-web")
	require.NoError(t, err, "the clients are registered in the given store")
	_, err = ms.User(ctx, "user_alice")
	require.NoError(t, err, "the users are copied to the given store")
	var curl []string
	for _, l := range banner {
		if m := curlRE.FindStringSubmatch(l); m != nil {
			curl = m
		}
	}
	require.NotNil(t, curl, strings.Join(banner, "\n"))
	status, body := get(t, "GET", curl[1], curl[2], "")
	require.Equal(t, http.StatusOK, status, body)
	cancel()
	require.NoError(t, <-done)
	select {
	case <-closed:
	default:
		t.Error("the store was not closed at shutdown")
	}

	boom := errors.New("connection refused")
	var out syncBuffer
	err = Run(context.Background(), []string{"-addr", "127.0.0.1:0", "-postgres", "postgres://db"}, &out, io.Discard,
		Options{OpenPostgres: func(context.Context, string) (Store, func(), error) { return nil, nil, boom }})
	require.ErrorIs(t, err, boom)
	assert.Empty(t, out.String(), "nothing starts")
}
