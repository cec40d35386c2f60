package demo

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"tapioca.dev/auth/token"
)

// The inputs of POST (create) and PATCH (update) requests. Every field is a
// pointer: nil means "not given". A create needs the required fields; a
// patch changes only the fields it gives. apply checks everything on a copy
// of the record, so a refused request changes nothing.

const maxText = 2000

// call is what an input needs to check itself: the caller's organization,
// the directory and the calling user (empty for a client).
type call struct {
	org       *org
	dir       *directory
	userID    string
	principal token.Principal
}

func text(field string, p *string, dst *string, required bool) error {
	if p == nil {
		if required {
			return invalid("%s is required", field)
		}
		return nil
	}
	v := strings.TrimSpace(*p)
	switch {
	case required && v == "":
		return invalid("%s must not be empty", field)
	case len(v) > maxText:
		return invalid("%s is longer than %d bytes", field, maxText)
	case !utf8.ValidString(v):
		return invalid("%s is not valid UTF-8", field)
	}
	*dst = v
	return nil
}

func oneOf(field string, p *string, dst *string, required bool, allowed ...string) error {
	if p == nil {
		if required {
			return invalid("%s is required", field)
		}
		return nil
	}
	if !slices.Contains(allowed, *p) {
		return invalid("%s must be one of %s", field, strings.Join(allowed, ", "))
	}
	*dst = *p
	return nil
}

func date(field string, p *string, dst *string, required bool) error {
	if p == nil {
		if required {
			return invalid("%s is required", field)
		}
		return nil
	}
	if _, err := time.Parse(time.DateOnly, *p); err != nil {
		return invalid("%s must be a date like 2026-01-31", field)
	}
	*dst = *p
	return nil
}

// ref checks that a reference names a record of the same organization;
// empty clears an optional reference.
func ref[T any](field string, p *string, dst *string, required bool, t *table[T]) error {
	if p == nil {
		if required {
			return invalid("%s is required", field)
		}
		return nil
	}
	if *p == "" && !required {
		*dst = ""
		return nil
	}
	if _, ok := t.get(*p); !ok {
		return invalid("%s: no such record %q", field, *p)
	}
	*dst = *p
	return nil
}

type projectInput struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

func (in *projectInput) apply(c *call, p *project, creating bool) error {
	if err := text("name", in.Name, &p.Name, creating); err != nil {
		return err
	}
	return text("description", in.Description, &p.Description, false)
}

type sprintInput struct {
	ProjectID *string `json:"project_id"`
	Name      *string `json:"name"`
	StartsOn  *string `json:"starts_on"`
	EndsOn    *string `json:"ends_on"`
}

func (in *sprintInput) apply(c *call, s *sprint, creating bool) error {
	if err := ref("project_id", in.ProjectID, &s.ProjectID, creating || in.ProjectID != nil, c.org.projects); err != nil {
		return err
	}
	if err := text("name", in.Name, &s.Name, creating); err != nil {
		return err
	}
	if err := date("starts_on", in.StartsOn, &s.StartsOn, creating); err != nil {
		return err
	}
	if err := date("ends_on", in.EndsOn, &s.EndsOn, creating); err != nil {
		return err
	}
	if s.EndsOn < s.StartsOn {
		return invalid("ends_on is before starts_on")
	}
	return nil
}

type taskInput struct {
	ProjectID   *string `json:"project_id"`
	SprintID    *string `json:"sprint_id"`
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Status      *string `json:"status"`
	AssigneeID  *string `json:"assignee_id"`
}

var taskStatuses = []string{"todo", "in_progress", "done"}

func (in *taskInput) apply(c *call, t *task, creating bool) error {
	if err := ref("project_id", in.ProjectID, &t.ProjectID, creating || in.ProjectID != nil, c.org.projects); err != nil {
		return err
	}
	if err := ref("sprint_id", in.SprintID, &t.SprintID, false, c.org.sprints); err != nil {
		return err
	}
	if err := text("title", in.Title, &t.Title, creating); err != nil {
		return err
	}
	if err := text("description", in.Description, &t.Description, false); err != nil {
		return err
	}
	if creating && in.Status == nil {
		t.Status = "todo"
	}
	if err := oneOf("status", in.Status, &t.Status, false, taskStatuses...); err != nil {
		return err
	}
	if in.AssigneeID != nil {
		if *in.AssigneeID != "" && !c.dir.inOrg(*in.AssigneeID, c.org.settings.ID) {
			return invalid("assignee_id: no such user %q", *in.AssigneeID)
		}
		t.AssigneeID = *in.AssigneeID
	}
	if t.SprintID != "" {
		if s, ok := c.org.sprints.get(t.SprintID); !ok || s.ProjectID != t.ProjectID {
			return invalid("sprint_id: the sprint belongs to another project")
		}
	}
	return nil
}

type timeEntryInput struct {
	UserID  *string `json:"user_id"`
	TaskID  *string `json:"task_id"`
	Date    *string `json:"date"`
	Minutes *int    `json:"minutes"`
	Note    *string `json:"note"`
}

func (in *timeEntryInput) apply(c *call, e *timeEntry, creating bool) error {
	if in.UserID != nil {
		if !c.dir.inOrg(*in.UserID, c.org.settings.ID) {
			return invalid("user_id: no such user %q", *in.UserID)
		}
		e.UserID = *in.UserID
	} else if creating {
		e.UserID = c.userID
	}
	if e.UserID == "" {
		return invalid("user_id is required when a client, not a user, logs time")
	}
	if err := ref("task_id", in.TaskID, &e.TaskID, false, c.org.tasks); err != nil {
		return err
	}
	if err := date("date", in.Date, &e.Date, creating); err != nil {
		return err
	}
	switch {
	case in.Minutes == nil && creating:
		return invalid("minutes is required")
	case in.Minutes != nil && (*in.Minutes <= 0 || *in.Minutes > 24*60):
		return invalid("minutes must be between 1 and 1440")
	case in.Minutes != nil:
		e.Minutes = *in.Minutes
	}
	return text("note", in.Note, &e.Note, false)
}

type timesheetInput struct {
	UserID    *string `json:"user_id"`
	WeekStart *string `json:"week_start"`
	Status    *string `json:"status"`
}

func (in *timesheetInput) apply(c *call, ts *timesheet, creating bool) error {
	if in.UserID != nil {
		if !c.dir.inOrg(*in.UserID, c.org.settings.ID) {
			return invalid("user_id: no such user %q", *in.UserID)
		}
		ts.UserID = *in.UserID
	} else if creating {
		ts.UserID = c.userID
	}
	if ts.UserID == "" {
		return invalid("user_id is required when a client, not a user, makes a timesheet")
	}
	if err := date("week_start", in.WeekStart, &ts.WeekStart, creating); err != nil {
		return err
	}
	if d, _ := time.Parse(time.DateOnly, ts.WeekStart); d.Weekday() != time.Monday {
		return invalid("week_start must be a Monday")
	}
	if creating && in.Status == nil {
		ts.Status = "open"
	}
	return oneOf("status", in.Status, &ts.Status, false, "open", "submitted", "approved")
}

type budgetInput struct {
	ProjectID   *string `json:"project_id"`
	Name        *string `json:"name"`
	AmountCents *int64  `json:"amount_cents"`
	Currency    *string `json:"currency"`
}

func (in *budgetInput) apply(c *call, b *budget, creating bool) error {
	if err := ref("project_id", in.ProjectID, &b.ProjectID, false, c.org.projects); err != nil {
		return err
	}
	if err := text("name", in.Name, &b.Name, creating); err != nil {
		return err
	}
	switch {
	case in.AmountCents == nil && creating:
		return invalid("amount_cents is required")
	case in.AmountCents != nil && *in.AmountCents < 0:
		return invalid("amount_cents must not be negative")
	case in.AmountCents != nil:
		b.AmountCents = *in.AmountCents
	}
	if creating && in.Currency == nil {
		b.Currency = c.org.settings.DefaultCurrency
	}
	return oneOf("currency", in.Currency, &b.Currency, false, currencies...)
}

var currencies = []string{"USD", "EUR", "GBP", "JPY", "BRL"}

type transactionInput struct {
	BudgetID    *string `json:"budget_id"`
	AmountCents *int64  `json:"amount_cents"`
	Description *string `json:"description"`
	Date        *string `json:"date"`
}

func (in *transactionInput) apply(c *call, t *transaction, creating bool) error {
	if err := ref("budget_id", in.BudgetID, &t.BudgetID, creating || in.BudgetID != nil, c.org.budgets); err != nil {
		return err
	}
	switch {
	case in.AmountCents == nil && creating:
		return invalid("amount_cents is required")
	case in.AmountCents != nil && *in.AmountCents == 0:
		return invalid("amount_cents must not be zero")
	case in.AmountCents != nil:
		t.AmountCents = *in.AmountCents
	}
	if err := text("description", in.Description, &t.Description, creating); err != nil {
		return err
	}
	return date("date", in.Date, &t.Date, creating)
}

type settingsInput struct {
	Name            *string `json:"name"`
	Timezone        *string `json:"timezone"`
	WeekStartsOn    *string `json:"week_starts_on"`
	DefaultCurrency *string `json:"default_currency"`
}

func (in *settingsInput) apply(s *settings) error {
	if err := text("name", in.Name, &s.Name, in.Name != nil); err != nil {
		return err
	}
	if in.Timezone != nil {
		if _, err := time.LoadLocation(*in.Timezone); err != nil || *in.Timezone == "" || *in.Timezone == "Local" {
			return invalid("timezone must be an IANA time zone like Europe/Lisbon")
		}
		s.Timezone = *in.Timezone
	}
	if err := oneOf("week_starts_on", in.WeekStartsOn, &s.WeekStartsOn, false, "monday", "sunday"); err != nil {
		return err
	}
	return oneOf("default_currency", in.DefaultCurrency, &s.DefaultCurrency, false, currencies...)
}

type subscriptionInput struct {
	Plan  *string `json:"plan"`
	Seats *int    `json:"seats"`
}

func (in *subscriptionInput) apply(s *subscription) error {
	if err := oneOf("plan", in.Plan, &s.Plan, false, "free", "team", "enterprise"); err != nil {
		return err
	}
	if in.Seats != nil {
		if *in.Seats < 1 || *in.Seats > 10_000 {
			return invalid("seats must be between 1 and 10000")
		}
		s.Seats = *in.Seats
	}
	if s.Plan == "free" && s.Seats > 3 {
		return invalid("the free plan has at most 3 seats")
	}
	return nil
}
