package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/examples/tapioca/demo"
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
			"=postgres://tapioca:tapioca@127.0.0.1:5432/tapioca_test?sslmode=disable go test ./... " +
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
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := demo.Run(ctx, []string{"-addr", "127.0.0.1:0", "-bcrypt-cost", "4", "-postgres", dbURL}, pw, io.Discard, options)
		pw.CloseWithError(errors.New("run returned"))
		done <- err
	}()
	stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "graceful shutdown")
		case <-time.After(15 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	t.Cleanup(stop)
	var banner []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if m := curlRE.FindStringSubmatch(sc.Text()); m != nil {
			apiURL, token = m[1], m[2]
		}
		if strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			require.NotEmpty(t, token, "no curl line in:\n%s", strings.Join(banner, "\n"))
			return apiURL, token, stop
		}
	}
	t.Fatalf("run ended before its banner was complete: %v\n%s", sc.Err(), strings.Join(banner, "\n"))
	return "", "", stop
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
