package demo

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the demo's own domain: what a Tapioca service keeps for each
// organization. None of it knows about authentication; the handlers in
// api.go receive the organization from the verified principal.

// meta is what every record carries. The fields are read-only through the
// API: an input that names them is refused as an unknown field.
type meta struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (m *meta) base() *meta { return m }

type project struct {
	meta
	Name        string `json:"name"`
	Description string `json:"description"`
}

type sprint struct {
	meta
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	StartsOn  string `json:"starts_on"` // YYYY-MM-DD
	EndsOn    string `json:"ends_on"`   // YYYY-MM-DD
}

type task struct {
	meta
	ProjectID   string `json:"project_id"`
	SprintID    string `json:"sprint_id,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"` // todo, in_progress, done
	AssigneeID  string `json:"assignee_id,omitempty"`
}

type timeEntry struct {
	meta
	UserID  string `json:"user_id"`
	TaskID  string `json:"task_id,omitempty"`
	Date    string `json:"date"` // YYYY-MM-DD
	Minutes int    `json:"minutes"`
	Note    string `json:"note"`
}

type timesheet struct {
	meta
	UserID    string `json:"user_id"`
	WeekStart string `json:"week_start"` // YYYY-MM-DD, a Monday
	Status    string `json:"status"`     // open, submitted, approved
}

type budget struct {
	meta
	ProjectID   string `json:"project_id,omitempty"`
	Name        string `json:"name"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
}

type transaction struct {
	meta
	BudgetID    string `json:"budget_id"`
	AmountCents int64  `json:"amount_cents"`
	Description string `json:"description"`
	Date        string `json:"date"` // YYYY-MM-DD
}

type team struct {
	meta
	Name      string   `json:"name"`
	MemberIDs []string `json:"member_ids"`
}

// settings are an organization's settings (admin:org).
type settings struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Timezone        string `json:"timezone"`
	WeekStartsOn    string `json:"week_starts_on"` // monday or sunday
	DefaultCurrency string `json:"default_currency"`
}

// subscription is an organization's plan (admin:billing).
type subscription struct {
	Plan     string `json:"plan"` // free, team, enterprise
	Seats    int    `json:"seats"`
	Status   string `json:"status"`
	RenewsOn string `json:"renews_on"`
}

type invoice struct {
	ID          string `json:"id"`
	Date        string `json:"date"`
	AmountCents int64  `json:"amount_cents"`
	Currency    string `json:"currency"`
	Status      string `json:"status"`
}

// table is an ordered collection of records of one kind.
type table[T any] struct {
	prefix string
	rows   map[string]*T
	order  []string
}

func newTable[T any](prefix string) *table[T] {
	return &table[T]{prefix: prefix, rows: map[string]*T{}}
}

func (t *table[T]) get(id string) (*T, bool) {
	r, ok := t.rows[id]
	return r, ok
}

func (t *table[T]) list() []*T {
	out := make([]*T, 0, len(t.order))
	for _, id := range t.order {
		out = append(out, t.rows[id])
	}
	return out
}

func (t *table[T]) put(id string, r *T) {
	if _, ok := t.rows[id]; !ok {
		t.order = append(t.order, id)
	}
	t.rows[id] = r
}

func (t *table[T]) delete(id string) {
	delete(t.rows, id)
	t.order = slices.DeleteFunc(t.order, func(s string) bool { return s == id })
}

// ids are unique across organizations, so an ID names one record: not
// found in yours, it is another organization's (403) or nobody's (404).
var idSeq atomic.Int64

func newID(prefix string) string { return prefix + strconv.FormatInt(idSeq.Add(1), 10) }

// org is one organization's data. mu guards everything in it; every
// handler holds it for the whole read-check-write, so a request either
// applies completely or not at all.
type org struct {
	mu           sync.RWMutex
	settings     settings
	subscription subscription
	invoices     []invoice
	projects     *table[project]
	sprints      *table[sprint]
	tasks        *table[task]
	timeEntries  *table[timeEntry]
	timesheets   *table[timesheet]
	budgets      *table[budget]
	transactions *table[transaction]
	teams        *table[team]
}

func newOrg(id, name string) *org {
	return &org{
		settings: settings{ID: id, Name: name, Timezone: "UTC", WeekStartsOn: "monday", DefaultCurrency: "USD"},
		subscription: subscription{
			Plan: "team", Seats: 10, Status: "active", RenewsOn: "2027-01-01",
		},
		projects:     newTable[project]("proj_"),
		sprints:      newTable[sprint]("spr_"),
		tasks:        newTable[task]("task_"),
		timeEntries:  newTable[timeEntry]("time_"),
		timesheets:   newTable[timesheet]("ts_"),
		budgets:      newTable[budget]("bud_"),
		transactions: newTable[transaction]("txn_"),
		teams:        newTable[team]("team_"),
	}
}

// seed fills a new organization with a small sample so the API has
// something to show. members are the organization's user IDs.
func (o *org) seed(now time.Time, members []string) {
	m := func(prefix string) meta { return meta{ID: newID(prefix), CreatedAt: now, UpdatedAt: now} }
	name := o.settings.Name
	p := &project{meta: m("proj_"), Name: name + " website", Description: "The public website of " + name + "."}
	o.projects.put(p.ID, p)
	s := &sprint{meta: m("spr_"), ProjectID: p.ID, Name: "Sprint 1", StartsOn: now.Format(time.DateOnly), EndsOn: now.AddDate(0, 0, 13).Format(time.DateOnly)}
	o.sprints.put(s.ID, s)
	assignee := ""
	if len(members) > 0 {
		assignee = members[0]
	}
	for _, tt := range []struct{ title, status string }{
		{"Write the landing page copy", "in_progress"},
		{"Set up the build pipeline", "todo"},
		{"Choose a colour palette", "done"},
	} {
		t := &task{meta: m("task_"), ProjectID: p.ID, SprintID: s.ID, Title: tt.title, Status: tt.status, AssigneeID: assignee}
		o.tasks.put(t.ID, t)
	}
	if assignee != "" {
		first := o.tasks.list()[0]
		e := &timeEntry{meta: m("time_"), UserID: assignee, TaskID: first.ID, Date: now.Format(time.DateOnly), Minutes: 90, Note: "First draft"}
		o.timeEntries.put(e.ID, e)
		ts := &timesheet{meta: m("ts_"), UserID: assignee, WeekStart: weekStart(now).Format(time.DateOnly), Status: "open"}
		o.timesheets.put(ts.ID, ts)
	}
	b := &budget{meta: m("bud_"), ProjectID: p.ID, Name: "Website", AmountCents: 1_200_000, Currency: "USD"}
	o.budgets.put(b.ID, b)
	tx := &transaction{meta: m("txn_"), BudgetID: b.ID, AmountCents: -45_000, Description: "Stock photos", Date: now.Format(time.DateOnly)}
	o.transactions.put(tx.ID, tx)
	tm := &team{meta: m("team_"), Name: "Everyone", MemberIDs: slices.Clone(members)}
	o.teams.put(tm.ID, tm)
	o.invoices = []invoice{{ID: newID("inv_"), Date: now.AddDate(0, -1, 0).Format(time.DateOnly), AmountCents: 9_900, Currency: "USD", Status: "paid"}}
}

func weekStart(t time.Time) time.Time {
	d := (int(t.Weekday()) + 6) % 7 // days since Monday
	y, mo, da := t.AddDate(0, 0, -d).Date()
	return time.Date(y, mo, da, 0, 0, 0, 0, time.UTC)
}

// orgs holds every organization by ID.
type orgs struct {
	mu sync.RWMutex
	m  map[string]*org
}

func (os *orgs) get(id string) (*org, bool) {
	os.mu.RLock()
	defer os.mu.RUnlock()
	o, ok := os.m[id]
	return o, ok
}

// owner returns the ID of an organization for which has, called under
// that organization's read lock, reports true; "" if none.
func (os *orgs) owner(has func(*org) bool) string {
	os.mu.RLock()
	defer os.mu.RUnlock()
	for id, o := range os.m {
		o.mu.RLock()
		ok := has(o)
		o.mu.RUnlock()
		if ok {
			return id
		}
	}
	return ""
}

func (os *orgs) add(id string, o *org) {
	os.mu.Lock()
	defer os.mu.Unlock()
	if os.m == nil {
		os.m = map[string]*org{}
	}
	os.m[id] = o
}

// validation errors are reported to the client as 400s.
type validationError struct{ msg string }

func (e *validationError) Error() string { return e.msg }

func invalid(format string, args ...any) error {
	return &validationError{msg: fmt.Sprintf(format, args...)}
}
