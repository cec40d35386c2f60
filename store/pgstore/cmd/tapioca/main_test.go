package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/examples/tapioca/demo"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// envURL names the environment variable that points the tests at a server.
const envURL = "TAPIOCA_PG_URL"

// curlRE is the curl line the demo prints at start.
var curlRE = regexp.MustCompile(`^\s*curl (http://127\.0\.0\.1:\d+/api/v1/tasks) -H "Authorization: Bearer (tap_[A-Za-z0-9]{28})"$`)

// schemaURL returns the test database's URL with a fresh schema first in its
// search_path, dropped when the test ends, or skips the test with the way to
// run it.
func schemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv(envURL)
	if base == "" {
		t.Skip("pgstore: no database; run against PostgreSQL with " + envURL +
			"=postgres://tapioca:tapioca@127.0.0.1:5432/tapioca_test?sslmode=disable go -C store/pgstore test ./... " +
			"(see .ci/run for creating the role and database)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tapioca_demo_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	if !strings.Contains(base, "://") { // keyword/value form
		return base + " search_path=" + name
	}
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// startDemo runs this command's demo on dbURL, on 127.0.0.1:0, until stop
// is called or the test ends, and returns the URL and token of the curl
// line it printed.
func startDemo(t *testing.T, dbURL string) (apiURL, token string, stop func()) {
	t.Helper()
	in := start(t, dbURL)
	return in.apiURL, in.token, in.stop
}

// instance is a demo started by [start].
type instance struct {
	base          string            // its URL
	apiURL, token string            // the printed curl line's
	passwords     map[string]string // username → this run's password
	stop          func()
}

// passwordRE is a user's line of the banner: username, password.
var passwordRE = regexp.MustCompile(`^\s+([a-z]+)\s+([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})\s`)

// start runs this command's demo on dbURL with the extra flags args, on
// 127.0.0.1:0, until stop is called or the test ends, and reads its banner.
func start(t *testing.T, dbURL string, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := demo.Run(ctx, append([]string{"-addr", "127.0.0.1:0", "-bcrypt-cost", "4", "-postgres", dbURL}, args...), pw, io.Discard, options)
		pw.CloseWithError(errors.New("run returned"))
		done <- err
	}()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "graceful shutdown")
		case <-time.After(15 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	t.Cleanup(stop)
	in := &instance{passwords: map[string]string{}, stop: stop}
	var banner []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if m := curlRE.FindStringSubmatch(sc.Text()); m != nil {
			in.apiURL, in.token = m[1], m[2]
			in.base = strings.TrimSuffix(m[1], "/api/v1/tasks")
		}
		if m := passwordRE.FindStringSubmatch(sc.Text()); m != nil {
			in.passwords[m[1]] = m[2]
		}
		if strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			require.NotEmpty(t, in.token, "no curl line in:\n%s", strings.Join(banner, "\n"))
			return in
		}
	}
	t.Fatalf("run ended before its banner was complete: %v\n%s", sc.Err(), strings.Join(banner, "\n"))
	return nil
}

// get does the printed curl request: GET url with the bearer token.
func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// TestDemoOnPostgres: the demo runs on pgstore and its printed curl line
// works. A restart on the same database (its schema migrated, its users
// and clients already there) works too, and the first run's token, kept in
// the database, still does; so does a second instance started beside it.
func TestDemoOnPostgres(t *testing.T) {
	dbURL := schemaURL(t)

	url1, tok1, stop1 := startDemo(t, dbURL)
	status, body := get(t, url1, tok1)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"assignee_id": "user_alice"`)
	stop1()

	url2, tok2, _ := startDemo(t, dbURL)
	require.NotEqual(t, tok1, tok2, "each start makes its own demo token")
	status, body = get(t, url2, tok2)
	require.Equal(t, http.StatusOK, status, body)
	status, body = get(t, url2, tok1)
	assert.Equal(t, http.StatusOK, status, "the first run's token lives in the database: %s", body)

	url3, tok3, _ := startDemo(t, dbURL)
	for _, tok := range []string{tok1, tok2, tok3} {
		status, body = get(t, url3, tok)
		assert.Equal(t, http.StatusOK, status, "two instances on one database: %s", body)
	}
}

// TestOpenPostgresFails: a database that cannot be reached fails the start
// with an error that does not repeat the URL's password.
func TestOpenPostgresFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out strings.Builder
	err := demo.Run(ctx, []string{"-addr", "127.0.0.1:0", "-bcrypt-cost", "4",
		"-postgres", "postgres://tapioca:sekrit@127.0.0.1:1/nothing?sslmode=disable&connect_timeout=2"}, &out, io.Discard, options)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "sekrit")
	assert.Empty(t, out.String(), "nothing starts")
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send sends a request with c: a bearer token if any, a body of the given
// type if any.
func send(t *testing.T, c *http.Client, method, url, bearer, ctype, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	require.NoError(t, err)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

const form = "application/x-www-form-urlencoded"

// signIn posts the sign-in form of in with c and returns the status: 303
// signed in, 401 refused.
func signIn(t *testing.T, c *http.Client, in *instance, user string) int {
	t.Helper()
	status, _ := send(t, c, "POST", in.base+"/login", "", form,
		url.Values{"username": {user}, "password": {in.passwords[user]}}.Encode())
	return status
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	secretRE = regexp.MustCompile(`id="new-token" readonly value="(tap_[A-Za-z0-9]+)"`)
)

// TestTwoInstancesShareUsers: two demos on one database (one -key-file)
// share who may do what: a demotion and a deprovisioning made through one
// apply on the other's next request — to the user's tokens, their session,
// a new sign-in and minting tokens — and a later start does not undo the
// deprovisioning. A form served by one instance posts to the other.
func TestTwoInstancesShareUsers(t *testing.T) {
	dbURL := schemaURL(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	a := start(t, dbURL, "-key-file", keyFile)
	b := start(t, dbURL, "-key-file", keyFile)
	json := "application/json"

	alice, bob := browser(t), browser(t)
	require.Equal(t, http.StatusSeeOther, signIn(t, alice, a, "alice"))
	require.Equal(t, http.StatusSeeOther, signIn(t, bob, b, "bob"))
	status, body := send(t, bob, "POST", b.base+"/api/v1/tokens", "", json, `{"name": "bob on b", "scopes": ["write:tasks"]}`)
	require.Equal(t, http.StatusCreated, status, body)
	bobsToken := regexp.MustCompile(`"token": "(tap_[A-Za-z0-9]+)"`).FindStringSubmatch(body)[1]
	status, body = send(t, http.DefaultClient, "POST", b.base+"/api/v1/projects", bobsToken, json, `{"name": "Bob's"}`)
	require.Equal(t, http.StatusCreated, status, body)

	// A form of a, posted to b: the instances share the CSRF key.
	_, page := send(t, alice, "GET", a.base+"/settings/tokens", "", "", "")
	csrf := csrfRE.FindStringSubmatch(page)
	require.NotNil(t, csrf, page)
	status, page = send(t, alice, "POST", b.base+"/settings/tokens", "", form,
		url.Values{"csrf": {csrf[1]}, "name": {"from a's form"}, "scope": {"read:tasks"}, "days": {"1"}}.Encode())
	require.Equal(t, http.StatusOK, status, page)
	assert.Regexp(t, secretRE, page)

	// alice demotes bob through a; b applies it on the next request.
	status, body = send(t, alice, "PATCH", a.base+"/api/v1/users/user_bob", "", json, `{"permissions": ["read:tasks"]}`)
	require.Equal(t, http.StatusOK, status, body)
	status, body = send(t, http.DefaultClient, "POST", b.base+"/api/v1/projects", bobsToken, json, `{"name": "Bob's again"}`)
	assert.Equal(t, http.StatusForbidden, status, "a demotion through a applies on b: %s", body)
	status, _ = send(t, http.DefaultClient, "GET", b.base+"/api/v1/tasks", bobsToken, "", "")
	assert.Equal(t, http.StatusOK, status)

	// alice deprovisions bob through a; b refuses him on the next request.
	status, body = send(t, alice, "POST", a.base+"/api/v1/users/user_bob/deprovision", "", "", "")
	require.Equal(t, http.StatusOK, status, body)
	status, _ = send(t, http.DefaultClient, "GET", b.base+"/api/v1/tasks", bobsToken, "", "")
	assert.Equal(t, http.StatusUnauthorized, status, "his token, on b")
	status, _ = send(t, bob, "GET", b.base+"/api/v1/tasks", "", "", "")
	assert.Equal(t, http.StatusUnauthorized, status, "his session, on b")
	status, _ = send(t, bob, "POST", b.base+"/api/v1/tokens", "", json, `{"name": "again", "scopes": ["read:tasks"]}`)
	assert.Equal(t, http.StatusUnauthorized, status, "minting a token with his session, on b")
	assert.Equal(t, http.StatusUnauthorized, signIn(t, browser(t), b, "bob"), "a new sign-in on b")

	// A third instance starting on the database does not re-activate him.
	c := start(t, dbURL, "-key-file", keyFile)
	assert.Equal(t, http.StatusUnauthorized, signIn(t, browser(t), c, "bob"), "a new sign-in on an instance started later")
	assert.Equal(t, http.StatusSeeOther, signIn(t, browser(t), c, "alice"))
}

// TestUpdateUserIsAtomic: concurrent updates of one user, as instances
// make them, never lose one another: each adds a scope, one deprovisions,
// and the end state has every change.
func TestUpdateUserIsAtomic(t *testing.T) {
	ctx := context.Background()
	st, closeStore, err := openPostgres(ctx, schemaURL(t))
	require.NoError(t, err)
	defer closeStore()
	uu, ok := st.(demo.UserUpdater)
	require.True(t, ok, "the command's store updates users atomically")
	require.NoError(t, st.PutUser(ctx, store.User{ID: "user_1", OrgID: "acme", Active: true}))

	_, err = uu.UpdateUser(ctx, "user_nobody", func(*store.User) { t.Error("change called for no user") })
	require.ErrorIs(t, err, store.ErrNotFound)

	names := scope.Default.Names()
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			_, err := uu.UpdateUser(ctx, "user_1", func(u *store.User) {
				u.Permissions = u.Permissions.Union(scope.Default.MustParse(n))
			})
			assert.NoError(t, err)
		})
	}
	wg.Go(func() {
		_, err := uu.UpdateUser(ctx, "user_1", func(u *store.User) { u.Active = false })
		assert.NoError(t, err)
	})
	wg.Wait()
	u, err := st.User(ctx, "user_1")
	require.NoError(t, err)
	assert.False(t, u.Active, "no update re-activated the user")
	assert.Equal(t, len(names), u.Permissions.Len(), "no update was lost: %s", u.Permissions)
	assert.Equal(t, "acme", u.OrgID)
}
