package demo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// findBrowser returns the path of a Chromium-family browser, or "".
func findBrowser() string {
	if p := os.Getenv("TAPIOCA_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowserContext starts a headless Chromium for the test. Without a
// browser the test is skipped, unless CI is set: then it fails, so CI never
// passes without having run it. On failure it saves a screenshot and logs
// its path.
func newBrowserContext(t *testing.T) context.Context {
	t.Helper()
	path := findBrowser()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium found and CI is set: install it (apt-get install -y chromium) or set TAPIOCA_CHROMIUM")
		}
		t.Skip("skipping the browser test: no Chromium found (apt-get install -y chromium, or set TAPIOCA_CHROMIUM); with CI set this fails instead")
	}
	// Bounded: the whole browser session lives at most 90 s, the test's
	// steps at most 60 s (see the step contexts below).
	parent, cancelParent := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancelParent)
	alloc, cancelAlloc := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		// Without these Chromium hangs on a closed network, waiting for
		// its own background requests.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancel)
	// Runs before the cancels above (cleanups run last-in first-out).
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		loc, _ := chromedp.Run(sctx, chromedp.Location())
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("no screenshot: %v", err)
			return
		}
		dir, err := os.MkdirTemp("", "tapioca-browser-test-")
		if err == nil {
			file := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png")
			if err = os.WriteFile(file, png, 0o600); err == nil {
				t.Logf("screenshot of %s saved to %s", loc, file)
				return
			}
		}
		t.Logf("saving the screenshot failed: %v", err)
	})
	// The first action starts the browser, which lives as long as the
	// context of that action: ctx itself, not a shorter child of it (the
	// 90 s parent bounds it).
	require.NoError(t, chromedp.Do(ctx), "starting %s", path)
	return ctx
}

// TestBrowser signs in with a real browser, creates an API token on the
// settings page and uses it against the API, then approves (and denies) an
// OAuth consent starting from an x/oauth2 client's AuthCodeURL.
func TestBrowser(t *testing.T) {
	bctx := newBrowserContext(t)
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	d := newDemo(t)

	// Sign in: the settings page sends an anonymous browser to /login.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(d.hs.URL+"/settings/tokens"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "bob"),
		chromedp.SendKeys(chromedp.CSS("#password"), d.password("bob")),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#create-token")),
	))
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#user")))
	require.NoError(t, err)
	assert.Equal(t, "Bob Builder", who)

	// Create a token with read:tasks only; it is shown once.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#name"), "from the browser"),
		chromedp.Click(chromedp.CSS(`input[name="scope"][value="read:tasks"]`)),
		chromedp.SetValue(chromedp.CSS("#days"), "7"),
		chromedp.Click(chromedp.CSS("#create-token")),
		chromedp.WaitVisible(chromedp.CSS("#new-token")),
		chromedp.Click(chromedp.CSS("#copy")),
	))
	secret, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#new-token")))
	require.NoError(t, err)
	require.Regexp(t, `^tap_[A-Za-z0-9]{28}$`, secret)
	copied, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#copy")))
	require.NoError(t, err)
	assert.Equal(t, "Copied", copied)

	status, _, body := d.do("GET", "/api/v1/tasks", secret, "")
	assert.Equal(t, http.StatusOK, status, body)
	status, _, _ = d.do("POST", "/api/v1/projects", secret, `{"name": "no"}`)
	assert.Equal(t, http.StatusForbidden, status, "read:tasks only")

	// The list shows the token without its secret.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.hs.URL+"/settings/tokens"), chromedp.WaitVisible(chromedp.CSS("#tokens"))))
	list, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#tokens")))
	require.NoError(t, err)
	assert.Contains(t, list, "from the browser")
	assert.NotContains(t, list, secret)

	// OAuth: an x/oauth2 client's AuthCodeURL, approved in the browser;
	// the redirect lands on a loopback listener, as a native app's would.
	got := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Only the redirect counts: the browser also asks this origin
		// for /favicon.ico, which must not pass for the next callback.
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>app</title><p id="back">ok, back in the app</p>`))
	}))
	t.Cleanup(cb.Close)
	conf := d.oauthConfig("tapioca-spa", "read:tasks", "write:time")
	conf.RedirectURL = cb.URL + "/callback"
	wait := func() url.Values {
		t.Helper()
		select {
		case q := <-got:
			return q
		case <-ctx.Done():
			t.Fatal("the browser never reached the client's redirect URI")
			return nil
		}
	}

	verifier := oauth2.GenerateVerifier()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)),
	))
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(t, err)
	assert.Contains(t, page, "read:tasks")
	assert.Contains(t, page, "write:time")
	// Waiting for the callback page to load before the next navigation:
	// navigating away from a page still loading aborts the navigation.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)),
		chromedp.WaitVisible(chromedp.CSS("#back")),
	))
	q := wait()
	require.Equal(t, "browser-state", q.Get("state"))
	require.NotEmpty(t, q.Get("code"), q.Encode())
	octx := context.WithValue(ctx, oauth2.HTTPClient, d.hs.Client())
	tok, err := conf.Exchange(octx, q.Get("code"), oauth2.VerifierOption(verifier))
	require.NoError(t, err)
	res, err := conf.Client(octx, tok).Get(d.hs.URL + "/api/v1/tasks")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	// Deny: more scopes than remembered, so the consent page shows again.
	conf.Scopes = []string{"write:tasks"}
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(conf.AuthCodeURL("deny-state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))),
		chromedp.WaitVisible(chromedp.CSS(`button[value="deny"]`)),
		chromedp.Click(chromedp.CSS(`button[value="deny"]`)),
		chromedp.WaitVisible(chromedp.CSS("#back")),
	))
	q = wait()
	assert.Equal(t, "deny-state", q.Get("state"))
	assert.Equal(t, "access_denied", q.Get("error"))
	assert.Empty(t, q.Get("code"))
}

// TestBrowserSignInFromAuthorize: an anonymous browser that opens an
// authorization URL is sent to /login and, once signed in, back to the
// consent page.
func TestBrowserSignInFromAuthorize(t *testing.T) {
	bctx := newBrowserContext(t)
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	defer cancel()
	d := newDemo(t)
	conf := d.oauthConfig("tapioca-web", "read:tasks")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), d.password("alice")),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(loc, d.hs.URL+"/oauth/authorize?"), loc)
}
