package demo

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
)

// TestStoreIsTheDirectory: whether a user is active and what they may do
// is read from the store on every request — by sign-in, by the token
// manager, by the authorization server and by the API — so a change made
// there by another instance (here: written into the store directly)
// applies at once.
func TestStoreIsTheDirectory(t *testing.T) {
	ctx := context.Background()
	d := newDemo(t)
	bobs := d.token("bob", "write:tasks")
	c := d.browser()
	d.signIn(c, "bob", "/settings/tokens")

	// Another instance demotes bob.
	require.NoError(t, d.s.st.PutUser(ctx, store.User{ID: "user_bob", OrgID: "acme", Active: true, Permissions: scope.Default.MustParse("read:tasks")}))
	status, _, resp := d.do("POST", "/api/v1/projects", bobs, `{"name": "Bob's"}`)
	assert.Equal(t, http.StatusForbidden, status, resp)
	status, _, resp = d.do("GET", "/api/v1/users/user_bob", d.token("alice", "read:users"), "")
	require.Equal(t, http.StatusOK, status, resp)
	assert.Contains(t, resp, `"read:tasks"`)
	assert.NotContains(t, resp, `"write:tasks"`)

	// Another instance deprovisions bob.
	require.NoError(t, d.s.st.PutUser(ctx, store.User{ID: "user_bob", OrgID: "acme", Active: false, Permissions: scope.Default.MustParse("read:tasks")}))
	status, _, _ = d.do("GET", "/api/v1/tasks", bobs, "")
	assert.Equal(t, http.StatusUnauthorized, status, "his token")
	res, _ := d.send(c, "GET", "/settings/tokens", nil)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "his session")
	res, body := d.send(d.browser(), "POST", "/login", url.Values{"username": {"bob"}, "password": {d.password("bob")}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a new sign-in")
	assert.Contains(t, body, "Wrong username or password.", "told as a wrong password")
	status, _, resp = d.do("GET", "/api/v1/users", d.token("alice", "read:users"), "")
	require.Equal(t, http.StatusOK, status, resp)
	assert.Regexp(t, `"id": "user_bob",[^}]*"active": false`, resp)
}

// TestRestartKeepsDeprovisioning: a demo starting on a store where a user
// of its data is deprovisioned (another instance did it, or an earlier
// run) does not re-activate them; the data's permissions apply again.
func TestRestartKeepsDeprovisioning(t *testing.T) {
	ms := memStore{memstore.New()}
	first := newDemoWith(t, config{Data: testData(), Store: ms})
	status, _, resp := first.do("POST", "/api/v1/users/user_bob/deprovision", first.token("alice", "admin:org"), "")
	require.Equal(t, http.StatusOK, status, resp)

	second := newDemoWith(t, config{Data: testData(), Store: ms})
	u, err := ms.User(context.Background(), "user_bob")
	require.NoError(t, err)
	assert.False(t, u.Active, "a restart does not re-activate a deprovisioned user")
	res, _ := second.send(second.browser(), "POST", "/login", url.Values{"username": {"bob"}, "password": {second.password("bob")}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	u, err = ms.User(context.Background(), "user_alice")
	require.NoError(t, err)
	assert.True(t, u.Active)
}

// failingUsers is a store whose user lookups fail.
type failingUsers struct{ Store }

func (failingUsers) User(context.Context, string) (store.User, error) {
	return store.User{}, assert.AnError
}

// TestUserStoreFails: when the store cannot say who a user is, sign-in and
// the users API answer 503; nothing is decided from memory.
func TestUserStoreFails(t *testing.T) {
	d := newDemo(t)
	admin := d.token("alice", "admin:org")
	d.s.st = failingUsers{d.s.st}
	res, body := d.send(d.browser(), "POST", "/login", url.Values{"username": {"bob"}, "password": {d.password("bob")}})
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, body)
	for _, rq := range []struct{ method, path, body string }{
		{"GET", "/api/v1/users", ""},
		{"GET", "/api/v1/users/user_bob", ""},
		{"PATCH", "/api/v1/users/user_bob", `{"name": "Robert"}`},
		{"POST", "/api/v1/users/user_bob/deprovision", ""},
	} {
		// The token manager has its own reference to the healthy store,
		// so the request authenticates; the handler's store read fails.
		status, _, resp := d.do(rq.method, rq.path, admin, rq.body)
		assert.Equal(t, http.StatusServiceUnavailable, status, "%s %s: %s", rq.method, rq.path, resp)
	}
}

// TestSharedKey: demos given the same key make the same CSRF tokens, so a
// form served by one instance posts to another; without a key, each
// process has its own.
func TestSharedKey(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	a := newDemoWith(t, config{Data: testData(), Key: key})
	b := newDemoWith(t, config{Data: testData(), Key: key})
	other := newDemo(t)
	assert.Equal(t, a.s.csrfToken("tok_1"), b.s.csrfToken("tok_1"))
	assert.Equal(t, a.s.consentKey, b.s.consentKey)
	assert.NotEqual(t, a.s.csrfKey, a.s.consentKey, "one key per use")
	assert.NotEqual(t, a.s.csrfToken("tok_1"), other.s.csrfToken("tok_1"))

	_, err := newServer(config{Issuer: "http://127.0.0.1:8080", Data: testData(), Key: []byte("short"), hashPassword: memoHash})
	assert.ErrorContains(t, err, "at least 32")
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	k1, err := loadKey(path)
	require.NoError(t, err)
	assert.Len(t, k1, 32)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "only its owner reads it")
	k2, err := loadKey(path)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "the same key on every start")

	for name, content := range map[string]string{"not hex": "zz", "too short": strings.Repeat("ab", 16)} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		_, err := loadKey(p)
		assert.ErrorContains(t, err, "at least 32 bytes in hex", name)
	}
	_, err = loadKey(filepath.Join(dir, "no-such-dir", "key"))
	assert.ErrorContains(t, err, "-key-file")
}
