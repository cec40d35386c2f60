package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/examples/tapioca/demo"
)

// The tests below run this client against the real Tapioca demo, started
// in this process as `go run ./examples/tapioca` starts it, with the
// command line the demo prints.

// startDemo runs the demo with the extra flags args on 127.0.0.1:0 until
// the test ends, and returns its start-up banner.
func startDemo(t *testing.T, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := demo.Run(ctx, append([]string{"-addr", "127.0.0.1:0", "-bcrypt-cost", "4"}, args...), pw, io.Discard, demo.Options{})
		pw.CloseWithError(errors.New("run returned"))
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "graceful shutdown")
		case <-time.After(15 * time.Second):
			t.Error("the demo did not stop")
		}
	})
	var banner []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		banner = append(banner, sc.Text())
		if strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			return banner
		}
	}
	t.Fatalf("the demo ended before its banner was complete: %v\n%s", sc.Err(), strings.Join(banner, "\n"))
	return nil
}

var (
	commandRE  = regexp.MustCompile(`^\s*go run \./examples/oauth-client (.+)$`)
	passwordRE = regexp.MustCompile(`^\s+([a-z]+)\s+([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})\s`)
	hiddenRE   = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// printed returns the arguments of the oauth-client command in the banner
// (the demo prints them without shell quoting).
func printed(t *testing.T, banner []string) []string {
	t.Helper()
	for _, l := range banner {
		if m := commandRE.FindStringSubmatch(l); m != nil {
			return strings.Fields(m[1])
		}
	}
	t.Fatalf("no oauth-client command in:\n%s", strings.Join(banner, "\n"))
	return nil
}

// password returns a user's password from the banner.
func password(t *testing.T, banner []string, user string) string {
	t.Helper()
	for _, l := range banner {
		if m := passwordRE.FindStringSubmatch(l); m != nil && m[1] == user {
			return m[2]
		}
	}
	t.Fatalf("no password of %s in:\n%s", user, strings.Join(banner, "\n"))
	return ""
}

// approve plays the person at the browser: it opens the authorization
// URL, signs in to the demo as user when sent to /login, approves the
// consent page and follows the redirect to the client's loopback listener.
func approve(user, password string) func(ctx context.Context, authURL string) error {
	return func(ctx context.Context, authURL string) error {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return err
		}
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		au, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		base := au.Scheme + "://" + au.Host
		do := func(method, u string, form url.Values) (*http.Response, string, error) {
			var body io.Reader
			if form != nil {
				body = strings.NewReader(form.Encode())
			}
			req, err := http.NewRequestWithContext(ctx, method, u, body)
			if err != nil {
				return nil, "", err
			}
			if form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			res, err := hc.Do(req)
			if err != nil {
				return nil, "", err
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			return res, string(b), err
		}
		res, page, err := do("GET", authURL, nil)
		if err != nil {
			return err
		}
		if res.StatusCode == http.StatusFound || res.StatusCode == http.StatusSeeOther {
			login, err := url.Parse(res.Header.Get("Location"))
			if err != nil || login.Path != "/login" {
				return fmt.Errorf("the authorization request sent the browser to %q, not /login", res.Header.Get("Location"))
			}
			ret := login.Query().Get("return_to")
			res, _, err = do("POST", base+"/login", url.Values{"username": {user}, "password": {password}, "return_to": {ret}})
			if err != nil {
				return err
			}
			if res.StatusCode != http.StatusSeeOther {
				return fmt.Errorf("sign-in as %s: %s", user, res.Status)
			}
			if res, page, err = do("GET", base+ret, nil); err != nil {
				return err
			}
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("consent page: %s: %s", res.Status, page)
		}
		form := url.Values{}
		for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
			form.Add(m[1], html.UnescapeString(m[2]))
		}
		form.Set("decision", "allow")
		res, _, err = do("POST", base+"/oauth/authorize", form)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("approving: %s", res.Status)
		}
		// The redirect goes to the client's loopback listener.
		res, page, err = do("GET", res.Header.Get("Location"), nil)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("callback: %s: %s", res.Status, page)
		}
		return nil
	}
}

// runPrinted runs this client with the command line the demo printed.
func runPrinted(t *testing.T, args []string, open func(context.Context, string) error) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out strings.Builder
	err := run(ctx, append(args, "-timeout", "20s"), &out, open)
	require.NoError(t, err, "%s\n%s", strings.Join(args, " "), out.String())
	assert.NotContains(t, out.String(), "tap_", "no token is printed")
	return out.String()
}

// TestAgainstDemo: the command the demo prints runs both flows against
// it, as printed — the code flow with PKCE approved by a demo user who signs
// in, and the client credentials flow with the printed secret — and calls
// its API with each token.
func TestAgainstDemo(t *testing.T) {
	banner := startDemo(t)
	args := printed(t, banner)
	out := runPrinted(t, args, approve("bob", password(t, banner, "bob")))
	assert.Contains(t, out, `Authorization code + PKCE: got a Bearer token for "write:tasks"`)
	assert.Contains(t, out, "refresh token: true")
	assert.Contains(t, out, `Client credentials: got a Bearer token for "read:tasks"`)
	assert.Equal(t, 2, strings.Count(out, "GET /api/v1/tasks → "), out)
}

// TestAgainstDemoData: with a -data file, the printed command fits the
// data's clients — one flow only, the client IDs and scopes of the file —
// and works as printed, reading a list the granted scope can read.
func TestAgainstDemoData(t *testing.T) {
	tests := []struct {
		name, data, user string
		says             []string
	}{
		{
			name: "machine-only client without read:tasks",
			data: `{
  "users": [{"username": "rita", "password": "a long passphrase", "organization": "initech", "permissions": ["read:tasks"]}],
  "clients": [{"id": "initech-cron", "grants": ["client_credentials"], "scopes": ["read:time"], "organization": "initech"}]
}`,
			says: []string{`Client credentials: got a Bearer token for "read:time"`, "GET /api/v1/time-entries → "},
		},
		{
			name: "code-only public client without read:tasks",
			data: `{
  "users": [{"username": "tom", "password": "a long passphrase", "organization": "initech", "permissions": ["read:time"]}],
  "clients": [{"id": "initech-spa", "public": true, "redirect_uris": ["http://127.0.0.1/callback"], "grants": ["authorization_code"], "scopes": ["read:time"]}]
}`,
			user: "tom",
			says: []string{`Authorization code + PKCE: got a Bearer token for "read:time"`, "GET /api/v1/time-entries → "},
		},
		{
			name: "confidential code client",
			data: `{
  "users": [{"username": "tom", "password": "a long passphrase", "organization": "initech", "permissions": ["write:tasks"]}],
  "clients": [{"id": "initech-web", "redirect_uris": ["http://127.0.0.1/callback"], "grants": ["authorization_code", "refresh_token"], "scopes": ["read:tasks"]}]
}`,
			user: "tom",
			says: []string{`Authorization code + PKCE: got a Bearer token for "read:tasks"`, "GET /api/v1/tasks → "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "data.json")
			require.NoError(t, os.WriteFile(path, []byte(tt.data), 0o600))
			args := printed(t, startDemo(t, "-data", path))
			var open func(context.Context, string) error
			if tt.user != "" {
				open = approve(tt.user, "a long passphrase")
			} else {
				open = func(context.Context, string) error { return errors.New("no code flow was printed") }
			}
			out := runPrinted(t, args, open)
			for _, s := range tt.says {
				assert.Contains(t, out, s)
			}
		})
	}
}
