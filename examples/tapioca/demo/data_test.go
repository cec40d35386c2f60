package demo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/token"
)

const goodUser = `{"username": "zoe", "password": "a long passphrase", "organization": "initech", "permissions": ["write:tasks"]}`

func TestParseData(t *testing.T) {
	secret, err := token.Generate(token.KindClientSecret)
	require.NoError(t, err)
	client := func(fields string) string {
		return `{"users": [` + goodUser + `], "clients": [{` + fields + `}]}`
	}
	tests := []struct {
		name, file, says string
	}{
		{"not JSON", `{"users": [`, "the JSON ends too early"},
		{"two values", `{"users": []} {}`, "more than one JSON value"},
		{"unknown top-level field", `{"userz": []}`, `unknown field "userz"`},
		{"no users", `{"users": []}`, "users: at least one user is required"},
		{"unknown user field", `{"users": [{"username": "zoe", "pasword": "x"}]}`, `users[0]: unknown field "pasword"`},
		{"bad username", `{"users": [{"username": "Zoe!", "password": "a long passphrase", "organization": "initech", "permissions": ["read:tasks"]}]}`, "users[0].username"},
		{"duplicate username", `{"users": [` + goodUser + `, ` + goodUser + `]}`, `users[1].username: duplicate username "zoe"`},
		{"short password", `{"users": [{"username": "zoe", "password": "short", "organization": "initech", "permissions": ["read:tasks"]}]}`, "users[0].password: must be at least 8 characters"},
		{"no organization", `{"users": [{"username": "zoe", "password": "a long passphrase", "permissions": ["read:tasks"]}]}`, "users[0].organization"},
		{"unknown scope", `{"users": [{"username": "zoe", "password": "a long passphrase", "organization": "initech", "permissions": ["read:tasks", "read:task"]}]}`, `users[0].permissions[1]: unknown scope "read:task"`},
		{"wrong type", `{"users": [{"username": "zoe", "password": "a long passphrase", "organization": "initech", "permissions": "read:tasks"}]}`, `users[0]: field "permissions" must be an array`},
		{"client without id", client(`"grants": ["client_credentials"], "scopes": ["read:tasks"], "organization": "initech"`), "clients[0].id"},
		{"client unknown grant", client(`"id": "c", "grants": ["password"], "scopes": ["read:tasks"]`), `clients[0].grants[0]: unknown grant "password"`},
		{"public client credentials", client(`"id": "c", "public": true, "grants": ["client_credentials"], "scopes": ["read:tasks"], "organization": "initech"`), "clients[0].grants[0]: a public client cannot use client_credentials"},
		{"public with secret", client(`"id": "c", "public": true, "secret": "x", "grants": ["authorization_code"], "scopes": ["read:tasks"], "redirect_uris": ["http://127.0.0.1/cb"]`), "clients[0].secret: a public client has no secret"},
		{"secret not tap_secret_", client(`"id": "c", "secret": "hunter2", "grants": ["client_credentials"], "scopes": ["read:tasks"], "organization": "initech"`), "clients[0].secret: must be a tap_secret_"},
		{"code without redirect", client(`"id": "c", "grants": ["authorization_code"], "scopes": ["read:tasks"]`), "clients[0].redirect_uris"},
		{"http redirect", client(`"id": "c", "grants": ["authorization_code"], "scopes": ["read:tasks"], "redirect_uris": ["https://ok.example/cb", "http://example.com/cb"]`), "clients[0].redirect_uris[1]"},
		{"fragment redirect", client(`"id": "c", "grants": ["authorization_code"], "scopes": ["read:tasks"], "redirect_uris": ["https://ok.example/cb#x"]`), "clients[0].redirect_uris[0]"},
		{"wildcard redirect", client(`"id": "c", "grants": ["authorization_code"], "scopes": ["read:tasks"], "redirect_uris": ["https://*.example/cb"]`), "clients[0].redirect_uris[0]"},
		{"client unknown scope", client(`"id": "c", "grants": ["client_credentials"], "scopes": ["everything"], "organization": "initech"`), `clients[0].scopes[0]: unknown scope "everything"`},
		{"client credentials without org", client(`"id": "c", "grants": ["client_credentials"], "scopes": ["read:tasks"]`), "clients[0].organization"},
		{"client of unknown org", client(`"id": "c", "grants": ["client_credentials"], "scopes": ["read:tasks"], "organization": "hooli"`), `clients[0].organization: no user belongs to organization "hooli"`},
		{"unknown client field", client(`"id": "c", "redirect_uri": "x"`), `clients[0]: unknown field "redirect_uri"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseData([]byte(tt.file))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.says)
		})
	}

	t.Run("valid", func(t *testing.T) {
		ds, err := parseData([]byte(client(`"id": "web", "secret": "` + secret.Reveal() + `", "grants": ["authorization_code", "refresh_token"], "scopes": ["read:tasks"], "redirect_uris": ["https://app.example/callback", "http://127.0.0.1/callback"]`)))
		require.NoError(t, err)
		require.Len(t, ds.users, 1)
		require.Len(t, ds.clients, 1)
		assert.Equal(t, "zoe", ds.users[0].Name, "the name defaults to the username")
		assert.False(t, ds.builtin)
	})
}

func TestBuiltinDataIsValid(t *testing.T) {
	ds := builtinData()
	orgs := map[string]bool{}
	for _, u := range ds.users {
		orgs[u.Organization] = true
		_, err := scopes(u.Permissions, "permissions")
		require.NoError(t, err)
	}
	assert.Len(t, orgs, 2)
	ids := map[string]bool{}
	for i, c := range ds.clients {
		require.NoError(t, checkClient(c, ids, orgs, "clients"), i)
		ids[c.ID] = true
	}
	assert.NotEqual(t, builtinData().users[0].Password, ds.users[0].Password, "passwords are made per start")
	assert.False(t, strings.Contains(ds.users[0].Password, " "))
}

// FuzzParseData: the -data parser never panics, and what it accepts is
// valid.
func FuzzParseData(f *testing.F) {
	f.Add([]byte(`{"users": [` + goodUser + `]}`))
	f.Add([]byte(`{"users": [` + goodUser + `], "clients": [{"id": "c", "grants": ["client_credentials"], "scopes": ["read:tasks"], "organization": "initech"}]}`))
	f.Add([]byte(`{"users": [{}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := parseData(b)
		if err != nil {
			return
		}
		require.NotEmpty(t, ds.users)
		for _, u := range ds.users {
			require.GreaterOrEqual(t, len(u.Password), 8)
			_, err := scopes(u.Permissions, "permissions")
			require.NoError(t, err)
		}
	})
}

// TestExampleDataFile: the example file of the README loads.
func TestExampleDataFile(t *testing.T) {
	ds, err := loadData("../testdata/example-data.json")
	require.NoError(t, err)
	assert.Len(t, ds.users, 3)
	assert.Len(t, ds.clients, 3)
	d := newDemo(t, ds)
	assert.Len(t, d.s.clients, 3)
	assert.True(t, strings.HasPrefix(d.client("initech-web").Secret, "tap_secret_"), "a secret is generated")
	status, _, _ := d.do("GET", "/api/v1/tasks", d.token("ben", "read:tasks"), "")
	assert.Equal(t, 200, status)
}
