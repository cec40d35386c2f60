package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// maxBody caps JSON request bodies.
const maxBody = 64 << 10

// writeJSON answers v as indented JSON (the demo is read by people with curl).
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// apiError is the body of every API error, in the shape RFC 6750 §3 and
// RFC 6749 §5.2 use, so clients parse one format.
type apiError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, apiError{Error: code, Description: desc})
}

func notFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, "not_found", what+" not found")
}

// decodeJSON reads exactly one JSON object into dst: the media type must be
// application/json, the body at most maxBody bytes, with no unknown fields
// and nothing after the value. On failure it writes the error and returns
// false; dst is then not to be used.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "invalid_request", `send the body as JSON with "Content-Type: application/json"`)
		return false
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(dst)
		if err == nil {
			if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
				err = errors.New("the body must hold exactly one JSON value")
			}
		}
	}
	if err == nil {
		err = exactFields(data, dst)
	}
	if err == nil {
		return true
	}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("the body is larger than %d bytes", maxBody))
		return false
	}
	writeError(w, http.StatusBadRequest, "invalid_request", "invalid JSON body: "+jsonError(err).Error())
	return false
}

// exactFields checks what encoding/json lets through: data, already
// decoded into dst, must be an object (not null) whose every key is a field
// of dst spelled exactly (encoding/json matches names case-insensitively)
// and appears once (it keeps the last of duplicates).
func exactFields(data []byte, dst any) error {
	fields := jsonFields(reflect.TypeOf(dst))
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return errors.New("expected a JSON object, got null")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("expected a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch {
		case fields != nil && !fields[key]:
			return fmt.Errorf("unknown field %q", key)
		case seen[key]:
			return fmt.Errorf("duplicate field %q", key)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// jsonFields returns the JSON names of the fields of the struct t points
// to, or nil when t is not a pointer to a struct.
func jsonFields(t reflect.Type) map[string]bool {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	t = t.Elem()
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case !f.IsExported() || name == "-":
			continue
		case name == "":
			name = f.Name
		}
		out[name] = true
	}
	return out
}

// jsonError turns a decoding error into a message for people.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends too early")
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("expected a JSON object, got %s", te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("field %q must be %s, got %s", te.Field, jsonType(te.Type.Kind().String()), te.Value)
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case kind == "slice":
		return "an array"
	}
	return "an object"
}

// deleted is the answer to every DELETE: 200 with a small JSON body
// rather than 204 without one, so a client that parses every successful
// answer (as the API docs' JavaScript client does) works for every route.
type deleted struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// list is the envelope of collection answers.
type list[T any] struct {
	Data []T `json:"data"`
}

// crud describes a per-organization collection served at
// /api/v1/{name}: GET (read scope), POST, PATCH and DELETE (write scope).
type crud[T any, I any] struct {
	name        string // path segment and singular noun below
	noun        string
	read, write string
	table       func(*org) *table[T]
	apply       func(in *I, c *call, rec *T, creating bool) error
	// inUse reports why a record cannot be deleted ("" if it can).
	inUse func(o *org, id string) string
}

// orgRoute registers an API route that needs the given scope and serves it
// with the caller's organization resolved (see [server.call]).
func (s *server) orgRoute(pattern, need string, h func(http.ResponseWriter, *http.Request, *call)) {
	s.route(pattern, need, func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.call(w, r)
		if !ok {
			return
		}
		h(w, r, c)
	})
}

// badRequest answers a refused input.
func badRequest(w http.ResponseWriter, err error) {
	writeError(w, http.StatusBadRequest, "invalid_request", err.Error())
}

// missing answers for a record that is not in the caller's organization:
// 403 through [middleware.CheckOrg] when another organization has it (the
// API docs: "403 Forbidden … check organization membership"), else 404.
// It takes no lock of the caller's organization: call it after releasing it.
func (s *server) missing(w http.ResponseWriter, r *http.Request, noun string, has func(*org) bool) {
	if owner := s.orgs.owner(has); owner != "" && !middleware.CheckOrg(w, r, owner) {
		return
	}
	notFound(w, noun)
}

// inTable is, for missing, whether a table of an organization has id.
func inTable[T any](tbl func(*org) *table[T], id string) func(*org) bool {
	return func(o *org) bool {
		_, ok := tbl(o).get(id)
		return ok
	}
}

// ownUser returns user id when the caller's organization is theirs, and
// otherwise answers 404. Unlike records, another organization's user is not
// told apart from no user: user IDs are made of usernames, and sign-in
// keeps usernames from being enumerated. A store failure answers 503.
func (s *server) ownUser(w http.ResponseWriter, r *http.Request, id string, c *call) (user, bool) {
	if !s.dir.inOrg(id, c.org.settings.ID) {
		notFound(w, "user")
		return user{}, false
	}
	u, err := s.user(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		notFound(w, "user")
		return user{}, false
	case err != nil:
		userStoreFailed(w)
		return user{}, false
	}
	return u, true
}

// userStoreFailed answers a failure of the store while reading or
// changing a user: the decision is the store's, so nothing is guessed.
func userStoreFailed(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the user store failed; try again")
}

// mountCRUD registers the five routes of a collection.
func mountCRUD[T any, PT interface {
	*T
	base() *meta
}, I any](s *server, r crud[T, I]) {
	base := "/api/v1/" + r.name
	mountRead(s, base, r.noun, r.read, r.table)
	s.orgRoute("POST "+base, r.write, func(w http.ResponseWriter, req *http.Request, c *call) {
		var in I
		if !decodeJSON(w, req, &in) {
			return
		}
		now := s.now().UTC().Truncate(time.Second)
		c.org.mu.Lock()
		var rec T
		err := r.apply(&in, c, &rec, true)
		if err == nil {
			m := PT(&rec).base()
			*m = meta{ID: newID(r.table(c.org).prefix), CreatedAt: now, UpdatedAt: now}
			cp := rec
			r.table(c.org).put(m.ID, &cp)
		}
		c.org.mu.Unlock()
		if err != nil {
			badRequest(w, err)
			return
		}
		w.Header().Set("Location", base+"/"+PT(&rec).base().ID)
		writeJSON(w, http.StatusCreated, rec)
	})
	s.orgRoute("PATCH "+base+"/{id}", r.write, func(w http.ResponseWriter, req *http.Request, c *call) {
		var in I
		if !decodeJSON(w, req, &in) {
			return
		}
		now := s.now().UTC().Truncate(time.Second)
		c.org.mu.Lock()
		p, found := r.table(c.org).get(req.PathValue("id"))
		var rec T
		var err error
		if found {
			rec = *p // work on a copy: a refused patch changes nothing
			if err = r.apply(&in, c, &rec, false); err == nil {
				PT(&rec).base().UpdatedAt = now
				*p = rec
			}
		}
		c.org.mu.Unlock()
		switch {
		case !found:
			s.missing(w, req, r.noun, inTable(r.table, req.PathValue("id")))
		case err != nil:
			badRequest(w, err)
		default:
			writeJSON(w, http.StatusOK, rec)
		}
	})
	s.orgRoute("DELETE "+base+"/{id}", r.write, func(w http.ResponseWriter, req *http.Request, c *call) {
		id := req.PathValue("id")
		c.org.mu.Lock()
		_, found := r.table(c.org).get(id)
		why := ""
		if found && r.inUse != nil {
			why = r.inUse(c.org, id)
		}
		if found && why == "" {
			r.table(c.org).delete(id)
		}
		c.org.mu.Unlock()
		switch {
		case !found:
			s.missing(w, req, r.noun, inTable(r.table, id))
		case why != "":
			writeError(w, http.StatusConflict, "conflict", why)
		default:
			writeJSON(w, http.StatusOK, deleted{ID: id, Deleted: true})
		}
	})
}

// mountRead registers GET base (every row, in creation order) and
// GET base/{id} (one row) of a per-organization table.
func mountRead[T any](s *server, base, noun, need string, tbl func(*org) *table[T]) {
	s.orgRoute("GET "+base, need, func(w http.ResponseWriter, _ *http.Request, c *call) {
		c.org.mu.RLock()
		rows := tbl(c.org).list()
		out := make([]T, len(rows))
		for i, p := range rows {
			out[i] = *p
		}
		c.org.mu.RUnlock()
		writeJSON(w, http.StatusOK, list[T]{Data: out})
	})
	s.orgRoute("GET "+base+"/{id}", need, func(w http.ResponseWriter, req *http.Request, c *call) {
		c.org.mu.RLock()
		p, found := tbl(c.org).get(req.PathValue("id"))
		var rec T
		if found {
			rec = *p
		}
		c.org.mu.RUnlock()
		if !found {
			s.missing(w, req, noun, inTable(tbl, req.PathValue("id")))
			return
		}
		writeJSON(w, http.StatusOK, rec)
	})
}

// mountObject registers GET and PATCH of an object each organization has
// one of, at path. A refused PATCH changes nothing.
func mountObject[T, I any](s *server, path, need string, field func(*org) *T, apply func(*I, *T) error) {
	s.orgRoute("GET "+path, need, func(w http.ResponseWriter, _ *http.Request, c *call) {
		c.org.mu.RLock()
		v := *field(c.org)
		c.org.mu.RUnlock()
		writeJSON(w, http.StatusOK, v)
	})
	s.orgRoute("PATCH "+path, need, func(w http.ResponseWriter, req *http.Request, c *call) {
		var in I
		if !decodeJSON(w, req, &in) {
			return
		}
		c.org.mu.Lock()
		v := *field(c.org) // work on a copy
		err := apply(&in, &v)
		if err == nil {
			*field(c.org) = v
		}
		c.org.mu.Unlock()
		if err != nil {
			badRequest(w, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// any reports whether some row of t satisfies f.
func anyRow[T any](t *table[T], f func(*T) bool) bool {
	for _, r := range t.rows {
		if f(r) {
			return true
		}
	}
	return false
}

// mountAPI registers every /api/v1 route with the scope the API docs'
// scope table gives it.
func (s *server) mountAPI() {
	mountCRUD[project](s, crud[project, projectInput]{
		name: "projects", noun: "project", read: scope.ReadTasks, write: scope.WriteTasks,
		table: func(o *org) *table[project] { return o.projects },
		apply: (*projectInput).apply,
		inUse: func(o *org, id string) string {
			switch {
			case anyRow(o.tasks, func(t *task) bool { return t.ProjectID == id }):
				return "the project still has tasks"
			case anyRow(o.sprints, func(s *sprint) bool { return s.ProjectID == id }):
				return "the project still has sprints"
			case anyRow(o.budgets, func(b *budget) bool { return b.ProjectID == id }):
				return "a budget refers to the project"
			}
			return ""
		},
	})
	mountCRUD[sprint](s, crud[sprint, sprintInput]{
		name: "sprints", noun: "sprint", read: scope.ReadTasks, write: scope.WriteTasks,
		table: func(o *org) *table[sprint] { return o.sprints },
		apply: (*sprintInput).apply,
		inUse: func(o *org, id string) string {
			if anyRow(o.tasks, func(t *task) bool { return t.SprintID == id }) {
				return "the sprint still has tasks"
			}
			return ""
		},
	})
	mountCRUD[task](s, crud[task, taskInput]{
		name: "tasks", noun: "task", read: scope.ReadTasks, write: scope.WriteTasks,
		table: func(o *org) *table[task] { return o.tasks },
		apply: (*taskInput).apply,
		inUse: func(o *org, id string) string {
			if anyRow(o.timeEntries, func(e *timeEntry) bool { return e.TaskID == id }) {
				return "time was logged on the task"
			}
			return ""
		},
	})
	mountCRUD[timeEntry](s, crud[timeEntry, timeEntryInput]{
		name: "time-entries", noun: "time entry", read: scope.ReadTime, write: scope.WriteTime,
		table: func(o *org) *table[timeEntry] { return o.timeEntries },
		apply: (*timeEntryInput).apply,
	})
	mountCRUD[timesheet](s, crud[timesheet, timesheetInput]{
		name: "timesheets", noun: "timesheet", read: scope.ReadTime, write: scope.WriteTime,
		table: func(o *org) *table[timesheet] { return o.timesheets },
		apply: (*timesheetInput).apply,
	})
	mountCRUD[budget](s, crud[budget, budgetInput]{
		name: "budgets", noun: "budget", read: scope.ReadFinance, write: scope.WriteFinance,
		table: func(o *org) *table[budget] { return o.budgets },
		apply: (*budgetInput).apply,
		inUse: func(o *org, id string) string {
			if anyRow(o.transactions, func(t *transaction) bool { return t.BudgetID == id }) {
				return "the budget still has transactions"
			}
			return ""
		},
	})
	mountCRUD[transaction](s, crud[transaction, transactionInput]{
		name: "transactions", noun: "transaction", read: scope.ReadFinance, write: scope.WriteFinance,
		table: func(o *org) *table[transaction] { return o.transactions },
		apply: (*transactionInput).apply,
	})

	// Users and teams: read:users. Profiles come from the directory, whether
	// they are active and their permissions from the store.
	s.orgRoute("GET /api/v1/users", scope.ReadUsers, func(w http.ResponseWriter, r *http.Request, c *call) {
		us, err := s.members(r.Context(), c.org.settings.ID)
		if err != nil {
			userStoreFailed(w)
			return
		}
		out := []userView{}
		for _, u := range us {
			out = append(out, viewUser(u))
		}
		writeJSON(w, http.StatusOK, list[userView]{Data: out})
	})
	s.orgRoute("GET /api/v1/users/{id}", scope.ReadUsers, func(w http.ResponseWriter, r *http.Request, c *call) {
		u, ok := s.ownUser(w, r, r.PathValue("id"), c)
		if !ok {
			return
		}
		writeJSON(w, http.StatusOK, viewUser(u))
	})
	s.orgRoute("PATCH /api/v1/users/{id}", scope.AdminOrg, s.patchUser)
	s.orgRoute("POST /api/v1/users/{id}/deprovision", scope.AdminOrg, s.deprovisionUser)
	mountRead(s, "/api/v1/teams", "team", scope.ReadUsers, func(o *org) *table[team] { return o.teams })

	// Organization settings: admin:org.
	mountObject(s, "/api/v1/organization", scope.AdminOrg,
		func(o *org) *settings { return &o.settings }, (*settingsInput).apply)

	// Billing and subscription: admin:billing.
	mountObject(s, "/api/v1/billing/subscription", scope.AdminBilling,
		func(o *org) *subscription { return &o.subscription }, (*subscriptionInput).apply)
	s.orgRoute("GET /api/v1/billing/invoices", scope.AdminBilling, func(w http.ResponseWriter, _ *http.Request, c *call) {
		c.org.mu.RLock()
		out := append([]invoice{}, c.org.invoices...)
		c.org.mu.RUnlock()
		writeJSON(w, http.StatusOK, list[invoice]{Data: out})
	})
}

// userView is a user as the API shows it.
type userView struct {
	ID           string   `json:"id"`
	Username     string   `json:"username"`
	Name         string   `json:"name"`
	Organization string   `json:"organization"`
	Permissions  []string `json:"permissions"`
	Active       bool     `json:"active"`
}

func viewUser(u user) userView {
	return userView{ID: u.ID, Username: u.Username, Name: u.Name, Organization: u.OrgID,
		Permissions: u.Permissions.Names(), Active: u.Active}
}

type userInput struct {
	Name        *string   `json:"name"`
	Permissions *[]string `json:"permissions"`
}

// patchUser changes a user's name or permissions (admin:org). A demotion
// applies to the user's tokens on their next request, on every instance,
// since every verification asks the store. An administrator grants only
// what the administrator has. The display name is this instance's own.
func (s *server) patchUser(w http.ResponseWriter, r *http.Request, c *call) {
	var in userInput
	if !decodeJSON(w, r, &in) {
		return
	}
	id := r.PathValue("id")
	if _, ok := s.ownUser(w, r, id, c); !ok {
		return
	}
	var perms scope.Set
	if in.Permissions != nil {
		var err error
		if perms, err = scopes(*in.Permissions, "permissions"); err != nil {
			badRequest(w, err)
			return
		}
		if !c.principal.Scopes.Satisfies(perms) {
			writeError(w, http.StatusForbidden, "insufficient_scope", "you can grant only permissions you have")
			return
		}
	}
	var name string
	if err := text("name", in.Name, &name, in.Name != nil); err != nil {
		badRequest(w, err)
		return
	}
	var (
		u   user
		err error
	)
	if in.Permissions != nil {
		u, err = s.updateUser(r.Context(), id, func(rec *store.User) { rec.Permissions = perms })
	} else {
		u, err = s.user(r.Context(), id)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		notFound(w, "user")
		return
	case err != nil:
		userStoreFailed(w)
		return
	}
	if in.Name != nil {
		s.dir.rename(id, name)
		u.Name = name
	}
	writeJSON(w, http.StatusOK, viewUser(u))
}

// deprovisionUser is what an SSO deprovisioning does (admin:org): the user
// can no longer sign in, and every token, refresh token, code and session of
// theirs stops working at once, on every instance that shares the store.
func (s *server) deprovisionUser(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	if _, ok := s.ownUser(w, r, id, c); !ok {
		return
	}
	if id == c.principal.UserID {
		writeError(w, http.StatusBadRequest, "invalid_request", "you cannot deprovision yourself")
		return
	}
	u, err := s.updateUser(r.Context(), id, func(rec *store.User) { rec.Active = false })
	switch {
	case errors.Is(err, store.ErrNotFound):
		notFound(w, "user")
		return
	case err != nil:
		userStoreFailed(w)
		return
	}
	if err := s.tokens.Deprovision(r.Context(), id); err != nil {
		s.log.ErrorContext(r.Context(), "deprovision failed", "user", id, "error", err)
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the token store failed; try again")
		return
	}
	writeJSON(w, http.StatusOK, viewUser(u))
}
