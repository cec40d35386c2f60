package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/token"
)

// first returns the ID of the first record of a table of acme.
func first[T any, PT interface {
	*T
	base() *meta
}](tbl func(*org) *table[T]) func(d *demo) string {
	return func(d *demo) string {
		o := d.org("acme")
		o.mu.RLock()
		defer o.mu.RUnlock()
		rows := tbl(o).list()
		require.NotEmpty(d.t, rows)
		return PT(rows[0]).base().ID
	}
}

// fresh inserts an unreferenced record into acme and returns its ID, for
// DELETE cases.
func fresh[T any, PT interface {
	*T
	base() *meta
}](tbl func(*org) *table[T]) func(d *demo) string {
	return func(d *demo) string {
		o := d.org("acme")
		o.mu.Lock()
		defer o.mu.Unlock()
		var r T
		t := tbl(o)
		id := newID(t.prefix)
		PT(&r).base().ID = id
		t.put(id, &r)
		return id
	}
}

var (
	projects     = func(o *org) *table[project] { return o.projects }
	sprints      = func(o *org) *table[sprint] { return o.sprints }
	tasks        = func(o *org) *table[task] { return o.tasks }
	timeEntries  = func(o *org) *table[timeEntry] { return o.timeEntries }
	timesheets   = func(o *org) *table[timesheet] { return o.timesheets }
	budgets      = func(o *org) *table[budget] { return o.budgets }
	transactions = func(o *org) *table[transaction] { return o.transactions }
	teams        = func(o *org) *table[team] { return o.teams }
	bob          = func(*demo) string { return "user_bob" }
)

// route is one API route with what a correct request looks like.
type route struct {
	method, path string // path may hold {id}
	scope        string // the scope of the docs' scope table; "" for the token API, which needs none
	caller       string // the scopes of the right token; "" means scope
	body         func(d *demo) string
	id           func(d *demo) string
	ok           int // status with the right scope
	other        int // status with the right scope of another organization: 403 for a record it does not own, as the API docs say; 404 for a user or a token
	wrong        int // status with a wrong scope; 0 means 403 insufficient_scope from the scope check
}

// callerScope is the scope of the token that makes the right request.
func (rt route) callerScope() string {
	if rt.caller != "" {
		return rt.caller
	}
	return rt.scope
}

// aliceToken makes an API token of alice with read:tasks that expires in
// a day (sooner than the caller's), for the token routes to act on.
func aliceToken(d *demo) string {
	_, rec, err := d.s.tokens.Create(context.Background(), token.CreateRequest{
		UserID: "user_alice", Name: "target", Scopes: scope.Default.MustParse("read:tasks"), ExpiresAt: d.s.now().Add(24 * time.Hour),
	})
	require.NoError(d.t, err)
	return rec.ID
}

func body(s string) func(*demo) string { return func(*demo) string { return s } }

// refBody fills %s with the first record of a table of acme.
func refBody[T any, PT interface {
	*T
	base() *meta
}](format string, tbl func(*org) *table[T]) func(d *demo) string {
	return func(d *demo) string { return fmt.Sprintf(format, first[T, PT](tbl)(d)) }
}

func routes() []route {
	r := []route{}
	crudRoutes := func(name, read, write string, getID, delID func(*demo) string, create func(*demo) string, createOther int, patch string) {
		r = append(r,
			route{method: "GET", path: "/api/v1/" + name, scope: read, ok: 200, other: 200},
			route{method: "GET", path: "/api/v1/" + name + "/{id}", scope: read, id: getID, ok: 200, other: 403},
			route{method: "POST", path: "/api/v1/" + name, scope: write, body: create, ok: 201, other: createOther},
			route{method: "PATCH", path: "/api/v1/" + name + "/{id}", scope: write, id: getID, body: body(patch), ok: 200, other: 403},
			route{method: "DELETE", path: "/api/v1/" + name + "/{id}", scope: write, id: delID, ok: 200, other: 403},
		)
	}
	crudRoutes("projects", "read:tasks", "write:tasks", first[project](projects), fresh[project](projects),
		body(`{"name": "Mobile app"}`), 201, `{"description": "Renamed"}`)
	crudRoutes("sprints", "read:tasks", "write:tasks", first[sprint](sprints), fresh[sprint](sprints),
		refBody[project](`{"project_id": %q, "name": "Sprint 2", "starts_on": "2026-01-05", "ends_on": "2026-01-16"}`, projects), 400,
		`{"name": "Sprint one"}`)
	crudRoutes("tasks", "read:tasks", "write:tasks", first[task](tasks), fresh[task](tasks),
		refBody[project](`{"project_id": %q, "title": "Write tests"}`, projects), 400, `{"status": "done"}`)
	crudRoutes("time-entries", "read:time", "write:time", first[timeEntry](timeEntries), fresh[timeEntry](timeEntries),
		body(`{"date": "2026-01-05", "minutes": 30, "note": "review"}`), 201, `{"minutes": 45}`)
	crudRoutes("timesheets", "read:time", "write:time", first[timesheet](timesheets), fresh[timesheet](timesheets),
		body(`{"week_start": "2026-01-05"}`), 201, `{"status": "submitted"}`)
	crudRoutes("budgets", "read:finance", "write:finance", first[budget](budgets), fresh[budget](budgets),
		body(`{"name": "Ads", "amount_cents": 50000}`), 201, `{"amount_cents": 60000}`)
	crudRoutes("transactions", "read:finance", "write:finance", first[transaction](transactions), fresh[transaction](transactions),
		refBody[budget](`{"budget_id": %q, "amount_cents": -1500, "description": "Fonts", "date": "2026-01-06"}`, budgets), 400,
		`{"description": "Web fonts"}`)
	r = append(r,
		route{method: "GET", path: "/api/v1/users", scope: "read:users", ok: 200, other: 200},
		route{method: "GET", path: "/api/v1/users/{id}", scope: "read:users", id: bob, ok: 200, other: 404},
		route{method: "PATCH", path: "/api/v1/users/{id}", scope: "admin:org", id: bob, body: body(`{"permissions": ["read:tasks"]}`), ok: 200, other: 404},
		route{method: "POST", path: "/api/v1/users/{id}/deprovision", scope: "admin:org", id: bob, ok: 200, other: 404},
		route{method: "GET", path: "/api/v1/teams", scope: "read:users", ok: 200, other: 200},
		route{method: "GET", path: "/api/v1/teams/{id}", scope: "read:users", id: first[team](teams), ok: 200, other: 403},
		route{method: "GET", path: "/api/v1/organization", scope: "admin:org", ok: 200, other: 200},
		route{method: "PATCH", path: "/api/v1/organization", scope: "admin:org", body: body(`{"timezone": "Europe/Lisbon"}`), ok: 200, other: 200},
		route{method: "GET", path: "/api/v1/billing/subscription", scope: "admin:billing", ok: 200, other: 200},
		route{method: "PATCH", path: "/api/v1/billing/subscription", scope: "admin:billing", body: body(`{"seats": 25}`), ok: 200, other: 200},
		route{method: "GET", path: "/api/v1/billing/invoices", scope: "admin:billing", ok: 200, other: 200},
		// The token API needs a user's API token (or session) of any scope;
		// what a wrong one meets is the token rules: a new token only
		// within the caller's scopes (400), revoking and rotating only
		// tokens the caller could have made (403). Another organization's
		// user manages only their own tokens.
		route{method: "GET", path: "/api/v1/tokens", caller: "read:tasks", ok: 200, other: 200, wrong: 200},
		route{method: "POST", path: "/api/v1/tokens", caller: "read:tasks", body: body(`{"name": "script", "scopes": ["read:tasks"], "expires_in_days": 7}`),
			ok: 201, other: 201, wrong: 400},
		route{method: "DELETE", path: "/api/v1/tokens/{id}", caller: "read:tasks", id: aliceToken, ok: 200, other: 404, wrong: 403},
		route{method: "POST", path: "/api/v1/tokens/{id}/rotate", caller: "read:tasks", id: aliceToken, ok: 201, other: 404, wrong: 403},
	)
	return r
}

// TestUnknownID: an ID no organization has answers 404; a record another
// organization has answers 403 (the API docs' "403 Forbidden: check
// organization membership"); a user of another organization 404.
func TestUnknownID(t *testing.T) {
	d := newDemo(t)
	tok := d.token("dave", "admin:org")
	for _, path := range []string{"/api/v1/tasks/task_0", "/api/v1/teams/team_0", "/api/v1/users/user_nobody"} {
		status, _, resp := d.do("GET", path, tok, "")
		assert.Equal(t, http.StatusNotFound, status, resp)
		assert.Contains(t, resp, `"not_found"`)
	}
	status, _, resp := d.do("DELETE", "/api/v1/projects/proj_0", tok, "")
	assert.Equal(t, http.StatusNotFound, status, resp)

	status, h, resp := d.do("GET", "/api/v1/tasks/"+first[task](tasks)(d), tok, "")
	assert.Equal(t, http.StatusForbidden, status, resp)
	assert.Contains(t, resp, `"access_denied"`)
	assert.Contains(t, h.Get("Content-Type"), "application/json")

	// User IDs are made of usernames: another organization's user answers
	// exactly as no user does, so usernames cannot be enumerated.
	s1, _, r1 := d.do("GET", "/api/v1/users/user_alice", tok, "")
	s2, _, r2 := d.do("GET", "/api/v1/users/user_nobody", tok, "")
	assert.Equal(t, http.StatusNotFound, s1, r1)
	assert.Equal(t, s2, s1)
	assert.Equal(t, r2, r1)
}

// wrongScope is a scope that does not grant need.
func wrongScope(need string) string {
	if need == "admin:billing" {
		return "admin:org"
	}
	return "admin:billing"
}

// TestRoutes walks every API route with the right scope, the wrong scope,
// the right scope of another organization, and no token. Each case gets a
// fresh demo.
func TestRoutes(t *testing.T) {
	for _, rt := range routes() {
		name := rt.method + " " + rt.path
		prepare := func(t *testing.T) (*demo, string, string) {
			d := newDemo(t)
			path, b := rt.path, ""
			if rt.id != nil {
				path = strings.Replace(path, "{id}", rt.id(d), 1)
			}
			if rt.body != nil {
				b = rt.body(d)
			}
			return d, path, b
		}
		t.Run(name+"/right scope", func(t *testing.T) {
			d, path, b := prepare(t)
			tok := d.token("alice", rt.callerScope())
			before := d.snapshot("acme")
			status, _, resp := d.do(rt.method, path, tok, b)
			require.Equal(t, rt.ok, status, resp)
			if rt.method != "GET" {
				assert.NotEqual(t, before, d.snapshot("acme"), "a successful %s changes acme's data", rt.method)
			}
			assert.True(t, json.Valid([]byte(resp)), "every answer is JSON (the docs' client parses it): %q", resp)
			if rt.method == "DELETE" {
				assert.JSONEq(t, fmt.Sprintf(`{"id": %q, "deleted": true}`, path[strings.LastIndex(path, "/")+1:]), resp)
			}
		})
		t.Run(name+"/wrong scope", func(t *testing.T) {
			d, path, b := prepare(t)
			tok := d.token("alice", wrongScope(rt.callerScope()))
			before := d.snapshot("acme")
			status, h, resp := d.do(rt.method, path, tok, b)
			if rt.wrong != 0 {
				require.Equal(t, rt.wrong, status, resp)
			} else {
				require.Equal(t, http.StatusForbidden, status, resp)
				assert.Contains(t, h.Get("WWW-Authenticate"), `error="insufficient_scope"`)
				assert.Contains(t, h.Get("WWW-Authenticate"), fmt.Sprintf(`scope="%s"`, rt.scope))
			}
			assert.Equal(t, before, d.snapshot("acme"))
		})
		t.Run(name+"/other organization", func(t *testing.T) {
			d, path, b := prepare(t)
			tok := d.token("dave", rt.callerScope())
			before := d.snapshot("acme")
			acmeIDs := d.ids("acme")
			status, _, resp := d.do(rt.method, path, tok, b)
			require.Equal(t, rt.other, status, resp)
			assert.Equal(t, before, d.snapshot("acme"), "another organization's token changed acme's data")
			for _, id := range append(acmeIDs, "acme") {
				assert.NotContains(t, resp, `"`+id+`"`, "another organization's token read acme's data")
			}
		})
		t.Run(name+"/no token", func(t *testing.T) {
			d, path, b := prepare(t)
			before := d.snapshot("acme")
			status, h, _ := d.do(rt.method, path, "", b)
			require.Equal(t, http.StatusUnauthorized, status)
			assert.Equal(t, `Bearer realm="tapioca"`, h.Get("WWW-Authenticate"))
			assert.Equal(t, before, d.snapshot("acme"))
		})
	}
}

// TestRoutesCoverTheAPI: the table of TestRoutes is every /api/v1 route
// the demo registers, each with the scope it is registered with.
func TestRoutesCoverTheAPI(t *testing.T) {
	d := newDemo(t)
	registered := map[string]string{}
	for _, r := range d.s.routes {
		_, path, _ := strings.Cut(r.pattern, " ")
		if strings.HasPrefix(path, "/api/") || strings.HasPrefix(r.pattern, "/api/") {
			registered[r.pattern] = r.scope
		}
	}
	require.NotEmpty(t, registered)
	walked := map[string]string{}
	for _, rt := range routes() {
		p := rt.method + " " + rt.path
		assert.NotContains(t, walked, p, "walked twice")
		walked[p] = rt.scope
	}
	assert.Equal(t, registered, walked, "TestRoutes walks every API route with the scope it is registered with")
}

// TestStrictJSON: bad bodies are refused with a clear 400 (or 413/415) and
// change nothing.
func TestStrictJSON(t *testing.T) {
	tests := []struct {
		name, body, ctype string
		status            int
		says              string
	}{
		{"malformed", `{"status": "done"`, "application/json", 400, "the JSON ends too early"},
		{"syntax error", `{"status": done}`, "application/json", 400, "malformed JSON at byte"},
		{"unknown field", `{"status": "done", "priority": 1}`, "application/json", 400, `unknown field \"priority\"`},
		{"read-only field", `{"id": "task_999"}`, "application/json", 400, `unknown field \"id\"`},
		{"two values", `{"status": "done"} {"status": "todo"}`, "application/json", 400, "exactly one JSON value"},
		{"wrong type", `{"status": 3}`, "application/json", 400, `field \"status\" must be a string`},
		{"not an object", `["done"]`, "application/json", 400, "expected a JSON object"},
		{"null", `null`, "application/json", 400, "expected a JSON object, got null"},
		{"field name in another case", `{"STATUS": "todo"}`, "application/json", 400, `unknown field \"STATUS\"`},
		{"duplicate field", `{"status": "todo", "status": "done"}`, "application/json", 400, `duplicate field \"status\"`},
		{"empty", ``, "application/json", 400, "the body is empty"},
		{"bad value", `{"status": "finished"}`, "application/json", 400, "status must be one of todo, in_progress, done"},
		{"valid field then bad one", `{"title": "New title", "status": "finished"}`, "application/json", 400, "status must be one of"},
		{"wrong media type", `{"status": "done"}`, "text/plain", 415, "Content-Type: application/json"},
		{"too large", `{"title": "` + strings.Repeat("a", maxBody) + `"}`, "application/json", 413, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDemo(t)
			id := first[task](tasks)(d)
			tok := d.token("alice", "write:tasks")
			before := d.snapshot("acme")
			status, _, resp := d.do("PATCH", "/api/v1/tasks/"+id, tok, tt.body, "Content-Type", tt.ctype)
			require.Equal(t, tt.status, status, resp)
			assert.Contains(t, resp, tt.says)
			assert.Equal(t, before, d.snapshot("acme"), "a refused request changed data")
		})
	}
}

// TestCrossOrgReferences: a record of org A cannot point at org B's.
func TestCrossOrgReferences(t *testing.T) {
	d := newDemo(t)
	globexProject := func() string {
		o := d.org("globex")
		o.mu.RLock()
		defer o.mu.RUnlock()
		return o.projects.list()[0].ID
	}()
	id := first[task](tasks)(d)
	tok := d.token("alice", "write:tasks")
	before := d.snapshot("acme")
	status, _, resp := d.do("PATCH", "/api/v1/tasks/"+id, tok, fmt.Sprintf(`{"project_id": %q}`, globexProject))
	require.Equal(t, http.StatusBadRequest, status, resp)
	status, _, resp = d.do("PATCH", "/api/v1/tasks/"+id, tok, `{"assignee_id": "user_dave"}`)
	require.Equal(t, http.StatusBadRequest, status, resp)
	assert.Equal(t, before, d.snapshot("acme"))
}

// TestDemotionAndDeprovisioning: an admin demotes a user, whose token loses
// the scope on the next request; deprovisioning kills the user's tokens.
func TestDemotionAndDeprovisioning(t *testing.T) {
	d := newDemo(t)
	admin := d.token("alice", "admin:org")
	bobs := d.token("bob", "write:tasks")
	status, _, _ := d.do("POST", "/api/v1/projects", bobs, `{"name": "Bob's"}`)
	require.Equal(t, http.StatusCreated, status)

	status, _, resp := d.do("PATCH", "/api/v1/users/user_bob", admin, `{"permissions": ["read:tasks"]}`)
	require.Equal(t, http.StatusOK, status, resp)
	status, _, _ = d.do("POST", "/api/v1/projects", bobs, `{"name": "Bob's again"}`)
	assert.Equal(t, http.StatusForbidden, status, "a demotion applies on the next request")
	status, _, _ = d.do("GET", "/api/v1/projects", bobs, "")
	assert.Equal(t, http.StatusOK, status)

	status, _, resp = d.do("POST", "/api/v1/users/user_bob/deprovision", admin, "")
	require.Equal(t, http.StatusOK, status, resp)
	status, _, _ = d.do("GET", "/api/v1/projects", bobs, "")
	assert.Equal(t, http.StatusUnauthorized, status, "a deprovisioned user's token dies at once")

	// An administrator grants only what they hold: admin:org does not
	// include admin:billing.
	status, _, _ = d.do("PATCH", "/api/v1/users/user_carol", admin, `{"permissions": ["admin:billing"]}`)
	assert.Equal(t, http.StatusForbidden, status)
	status, _, _ = d.do("POST", "/api/v1/users/user_alice/deprovision", admin, "")
	assert.Equal(t, http.StatusBadRequest, status, "no self-deprovisioning")
}

// TestDeleteInUse: a referenced record cannot be deleted (409), and nothing
// changes.
func TestDeleteInUse(t *testing.T) {
	d := newDemo(t)
	id := first[project](projects)(d)
	tok := d.token("alice", "write:tasks")
	before := d.snapshot("acme")
	status, _, resp := d.do("DELETE", "/api/v1/projects/"+id, tok, "")
	require.Equal(t, http.StatusConflict, status, resp)
	assert.Equal(t, before, d.snapshot("acme"))
}

// FuzzPatchTask: whatever the body, a PATCH answers 200, 400, 413 or 415
// with valid JSON, and a refused request changes nothing.
func FuzzPatchTask(f *testing.F) {
	for _, s := range []string{`{"status": "done"}`, `{"title": "x", "status": "nope"}`, `{"id": "1"}`, `[]`, `{"status": "done"} {}`, ``, `{"assignee_id": "user_dave"}`, `{"sprint_id": ""}`, `null`, `{"STATUS": "done"}`, `{"status": "todo", "status": "done"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		d := newDemo(t)
		id := first[task](tasks)(d)
		tok := d.token("alice", "write:tasks")
		before := d.snapshot("acme")
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("PATCH", "/api/v1/tasks/"+id, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		d.s.ServeHTTP(rec, req)
		require.Contains(t, []int{200, 400, 413, 415}, rec.Code, rec.Body.String())
		require.True(t, json.Valid(rec.Body.Bytes()), rec.Body.String())
		if rec.Code != http.StatusOK {
			require.Equal(t, before, d.snapshot("acme"))
		}
	})
}
