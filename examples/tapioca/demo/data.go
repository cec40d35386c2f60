package demo

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/token"
)

// dataFile is the format of -data FILE: the users who can sign in and the
// OAuth clients the authorization server knows. Example:
//
//	{
//	  "users": [
//	    {"username": "alice", "password": "correct horse battery staple",
//	     "name": "Alice", "organization": "acme",
//	     "permissions": ["admin:org", "admin:billing"]}
//	  ],
//	  "clients": [
//	    {"id": "my-web-app", "name": "My web app", "secret": "tap_secret_…",
//	     "redirect_uris": ["https://my-app.example/callback"],
//	     "grants": ["authorization_code", "refresh_token"],
//	     "scopes": ["read:tasks", "write:tasks"]},
//	    {"id": "my-spa", "public": true,
//	     "redirect_uris": ["http://127.0.0.1/callback"],
//	     "grants": ["authorization_code", "refresh_token"],
//	     "scopes": ["read:tasks"]}
//	  ]
//	}
//
// A confidential client without "secret" gets a fresh one, printed at start.
type dataFile struct {
	Users   []json.RawMessage `json:"users"`
	Clients []json.RawMessage `json:"clients"`
}

type userData struct {
	Username     string   `json:"username"`
	Password     string   `json:"password"`
	Name         string   `json:"name"`
	Organization string   `json:"organization"`
	Permissions  []string `json:"permissions"`
}

type clientData struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Secret       string   `json:"secret"`
	Public       bool     `json:"public"`
	RedirectURIs []string `json:"redirect_uris"`
	Grants       []string `json:"grants"`
	Scopes       []string `json:"scopes"`
	Organization string   `json:"organization"`
}

// dataset is validated demo data.
type dataset struct {
	users   []userData // passwords in plaintext, to hash at start
	clients []clientData
	builtin bool
}

var (
	slugRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	clientIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	grantNames = []string{"authorization_code", "refresh_token", "client_credentials"}
)

// loadData reads and checks a -data file. Every error names the file and
// the field, e.g. `data.json: users[1].permissions[0]: unknown scope "read:task"`.
func loadData(path string) (dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return dataset{}, fmt.Errorf("-data: %w", err)
	}
	ds, err := parseData(b)
	if err != nil {
		return dataset{}, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON value")
	}
	return nil
}

func parseData(b []byte) (dataset, error) {
	var f dataFile
	if err := strictDecode(b, &f); err != nil {
		return dataset{}, err
	}
	if len(f.Users) == 0 {
		return dataset{}, errors.New("users: at least one user is required")
	}
	var ds dataset
	names := map[string]bool{}
	orgs := map[string]bool{}
	for i, raw := range f.Users {
		var u userData
		if err := strictDecode(raw, &u); err != nil {
			return dataset{}, fmt.Errorf("users[%d]: %w", i, err)
		}
		at := func(field string) string { return fmt.Sprintf("users[%d].%s", i, field) }
		switch {
		case !slugRE.MatchString(u.Username):
			return dataset{}, fmt.Errorf("%s: must be 1–64 characters of a-z 0-9 . _ - (got %q)", at("username"), u.Username)
		case names[u.Username]:
			return dataset{}, fmt.Errorf("%s: duplicate username %q", at("username"), u.Username)
		case len(u.Password) < 8:
			return dataset{}, fmt.Errorf("%s: must be at least 8 characters", at("password"))
		case len(u.Password) > 72:
			return dataset{}, fmt.Errorf("%s: must be at most 72 bytes (bcrypt)", at("password"))
		case !slugRE.MatchString(u.Organization):
			return dataset{}, fmt.Errorf("%s: must be 1–64 characters of a-z 0-9 . _ - (got %q)", at("organization"), u.Organization)
		case len(u.Permissions) == 0:
			return dataset{}, fmt.Errorf("%s: at least one scope is required", at("permissions"))
		}
		if _, err := scopes(u.Permissions, at("permissions")); err != nil {
			return dataset{}, err
		}
		if u.Name == "" {
			u.Name = u.Username
		}
		names[u.Username] = true
		orgs[u.Organization] = true
		ds.users = append(ds.users, u)
	}
	ids := map[string]bool{}
	for i, raw := range f.Clients {
		var c clientData
		if err := strictDecode(raw, &c); err != nil {
			return dataset{}, fmt.Errorf("clients[%d]: %w", i, err)
		}
		if err := checkClient(c, ids, orgs, fmt.Sprintf("clients[%d]", i)); err != nil {
			return dataset{}, err
		}
		if c.Name == "" {
			c.Name = c.ID
		}
		ids[c.ID] = true
		ds.clients = append(ds.clients, c)
	}
	return ds, nil
}

func checkClient(c clientData, ids, orgs map[string]bool, prefix string) error {
	at := func(field string) string { return prefix + "." + field }
	switch {
	case !clientIDRE.MatchString(c.ID):
		return fmt.Errorf("%s: must be 1–64 characters of A-Z a-z 0-9 . _ - (got %q)", at("id"), c.ID)
	case ids[c.ID]:
		return fmt.Errorf("%s: duplicate client %q", at("id"), c.ID)
	case c.Public && c.Secret != "":
		return fmt.Errorf("%s: a public client has no secret", at("secret"))
	case c.Secret != "":
		if k, err := token.Parse(c.Secret); err != nil || k != token.KindClientSecret {
			return fmt.Errorf("%s: must be a tap_secret_… secret; leave it out to have one generated and printed at start", at("secret"))
		}
	}
	if len(c.Grants) == 0 {
		return fmt.Errorf("%s: at least one of %s is required", at("grants"), strings.Join(grantNames, ", "))
	}
	for j, g := range c.Grants {
		if !slices.Contains(grantNames, g) {
			return fmt.Errorf("%s[%d]: unknown grant %q (one of %s)", at("grants"), j, g, strings.Join(grantNames, ", "))
		}
		if g == "client_credentials" && c.Public {
			return fmt.Errorf("%s[%d]: a public client cannot use client_credentials", at("grants"), j)
		}
	}
	code := slices.Contains(c.Grants, "authorization_code")
	if code && len(c.RedirectURIs) == 0 {
		return fmt.Errorf("%s: authorization_code needs at least one redirect URI", at("redirect_uris"))
	}
	for j, raw := range c.RedirectURIs {
		if err := checkRedirectURI(raw); err != nil {
			return fmt.Errorf("%s[%d]: %v", at("redirect_uris"), j, err)
		}
	}
	if len(c.Scopes) == 0 {
		return fmt.Errorf("%s: at least one scope is required", at("scopes"))
	}
	if _, err := scopes(c.Scopes, at("scopes")); err != nil {
		return err
	}
	if slices.Contains(c.Grants, "client_credentials") {
		if c.Organization == "" {
			return fmt.Errorf("%s: a client_credentials client acts in an organization; name it", at("organization"))
		}
	}
	if c.Organization != "" && !orgs[c.Organization] {
		return fmt.Errorf("%s: no user belongs to organization %q", at("organization"), c.Organization)
	}
	return nil
}

// checkRedirectURI applies RFC 9700 §2.1 and RFC 8252 §7.3: https, or http
// on a loopback IP literal; no fragment, no wildcard, no userinfo.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%q has a fragment", raw)
	case strings.Contains(raw, "*"):
		return fmt.Errorf("%q has a wildcard", raw)
	case u.User != nil:
		return fmt.Errorf("%q has userinfo", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "::1"):
		return nil
	}
	return fmt.Errorf("%q must be https, or http on 127.0.0.1 or [::1]", raw)
}

// scopes parses a list of scope names, naming the bad entry.
func scopes(names []string, field string) (scope.Set, error) {
	for j, n := range names {
		if _, err := scope.Default.New(n); err != nil {
			return scope.Set{}, fmt.Errorf("%s[%d]: unknown scope %q (known: %s)", field, j, n, strings.Join(scope.Default.Names(), " "))
		}
	}
	return scope.Default.New(names...)
}

// builtinData is the demo data served without -data: two organizations,
// users with different permissions, and three OAuth clients. Passwords are
// generated at every start and printed.
func builtinData() dataset {
	pw := randomPassword
	return dataset{
		builtin: true,
		users: []userData{
			{Username: "alice", Name: "Alice Admin", Organization: "acme", Password: pw(),
				Permissions: []string{"admin:org", "admin:billing"}},
			{Username: "bob", Name: "Bob Builder", Organization: "acme", Password: pw(),
				Permissions: []string{"write:tasks", "write:time", "read:users"}},
			{Username: "carol", Name: "Carol Counter", Organization: "acme", Password: pw(),
				Permissions: []string{"read:tasks", "write:finance", "admin:billing"}},
			{Username: "dave", Name: "Dave Director", Organization: "globex", Password: pw(),
				Permissions: []string{"admin:org", "admin:billing"}},
			{Username: "erin", Name: "Erin Engineer", Organization: "globex", Password: pw(),
				Permissions: []string{"write:tasks", "read:time"}},
		},
		clients: []clientData{
			{ID: "tapioca-web", Name: "Tapioca Web (confidential)",
				RedirectURIs: []string{"https://your-app.com/callback", "http://127.0.0.1/callback"},
				Grants:       []string{"authorization_code", "refresh_token"},
				Scopes:       scope.Default.Names()},
			{ID: "tapioca-spa", Name: "Tapioca SPA / mobile (public)", Public: true,
				RedirectURIs: []string{"http://127.0.0.1/callback"},
				Grants:       []string{"authorization_code", "refresh_token"},
				Scopes:       []string{"read:tasks", "write:tasks", "read:time", "write:time"}},
			{ID: "tapioca-machine", Name: "Tapioca reporting job (machine)",
				Grants:       []string{"client_credentials"},
				Scopes:       []string{"read:tasks", "read:time", "read:finance"},
				Organization: "acme"},
		},
	}
}

// randomPassword returns a fresh password: 16 base32 characters (80 bits)
// from crypto/rand, in groups of four.
func randomPassword() string {
	t := strings.ToLower(rand.Text()[:16])
	return t[:4] + "-" + t[4:8] + "-" + t[8:12] + "-" + t[12:]
}
