package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// The demo's users are split in two. Who a user is — username, display
// name, organization, password hash — is the demo's own and kept in the
// [directory], in memory (the data is per run). Whether the user is active
// and what they are permitted is what the library decides with, and it is
// kept in the store only ([store.Users]): the token manager and the
// authorization server read it there (their Directory is the store), and
// so do sign-in and the API. On a store that several instances share
// (-postgres), a deprovisioning or a demotion through one instance applies
// on every instance's next request.

// profile is a person who signs in to the demo. Passwords are low-entropy
// human secrets, so they are kept as bcrypt hashes (unlike tap_ secrets,
// which are high-entropy and kept as SHA-256 by the library).
type profile struct {
	ID       string
	Username string
	Name     string
	OrgID    string
	Hash     []byte // bcrypt
}

// user is a profile with what the store says about it now.
type user struct {
	profile
	Permissions scope.Set
	Active      bool
}

// directory is the demo's book of profiles.
type directory struct {
	mu     sync.RWMutex
	byID   map[string]*profile
	byName map[string]*profile
	// dummy is a bcrypt hash compared against when the username is unknown,
	// so an unknown user costs the same time as a wrong password.
	dummy []byte
}

func newDirectory(hash func(string) ([]byte, error)) (*directory, error) {
	dummy, err := hash("not a password of anyone")
	if err != nil {
		return nil, err
	}
	return &directory{byID: map[string]*profile{}, byName: map[string]*profile{}, dummy: dummy}, nil
}

func (d *directory) add(p profile) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byID[p.ID] = &p
	d.byName[p.Username] = &p
}

// authenticate checks a username and password. Unknown users and wrong
// passwords take the same bcrypt comparison and give the same answer.
// Whether the user may still sign in is the store's to say.
func (d *directory) authenticate(username, password string) (profile, bool) {
	d.mu.RLock()
	p, ok := d.byName[username]
	var cp profile
	if ok {
		cp = *p
	}
	d.mu.RUnlock()
	hash := d.dummy
	if ok {
		hash = cp.Hash
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if !ok || err != nil {
		return profile{}, false
	}
	return cp, true
}

func (d *directory) get(id string) (profile, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	p, ok := d.byID[id]
	if !ok {
		return profile{}, false
	}
	return *p, true
}

func (d *directory) inOrg(id, orgID string) bool {
	p, ok := d.get(id)
	return ok && p.OrgID == orgID
}

// members returns the profiles of an organization, in username order.
func (d *directory) members(orgID string) []profile {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []profile
	for _, p := range d.byID {
		if p.OrgID == orgID {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b profile) int { return strings.Compare(a.Username, b.Username) })
	return out
}

// rename sets a user's display name (which only this instance shows).
func (d *directory) rename(id, name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p, ok := d.byID[id]; ok {
		p.Name = name
	}
}

// UserUpdater is an optional capability of a [Store]: changing a stored
// user in one atomic step. UpdateUser reads the user with the given ID,
// calls change on it and stores the result, so that concurrent updates —
// from any process on the same store — never lose one another (a
// permissions change racing a deprovisioning must not re-activate the
// user). Not found → an error matching [store.ErrNotFound], and change is
// not called. Without it the demo serializes
// its own updates with a mutex, which is enough for a store only one
// process uses.
type UserUpdater interface {
	UpdateUser(ctx context.Context, id string, change func(*store.User)) (store.User, error)
}

// errUnavailable is a store failure while reading or changing a user.
var errUnavailable = errors.New("the user store failed")

// user returns the user id: its profile and the store's record. A user the
// directory or the store does not know → store.ErrNotFound; a store
// failure → errUnavailable.
func (s *server) user(ctx context.Context, id string) (user, error) {
	p, ok := s.dir.get(id)
	if !ok {
		return user{}, store.ErrNotFound
	}
	return s.withRecord(ctx, p)
}

func (s *server) withRecord(ctx context.Context, p profile) (user, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	rec, err := s.st.User(ctx, p.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return user{}, err
	case err != nil:
		s.log.ErrorContext(ctx, "reading a user failed", "user", p.ID, "error", err)
		return user{}, fmt.Errorf("%w: %v", errUnavailable, err)
	case rec.OrgID != p.OrgID:
		// The store moved the user to another organization: not the user
		// this instance knows.
		return user{}, store.ErrNotFound
	}
	return user{profile: p, Permissions: rec.Permissions, Active: rec.Active}, nil
}

// members returns an organization's users, in username order.
func (s *server) members(ctx context.Context, orgID string) ([]user, error) {
	var out []user
	for _, p := range s.dir.members(orgID) {
		u, err := s.withRecord(ctx, p)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// updateUser changes the store's record of user id atomically (see
// [UserUpdater]) and returns the user as changed. A store failure →
// errUnavailable.
func (s *server) updateUser(ctx context.Context, id string, change func(*store.User)) (user, error) {
	p, ok := s.dir.get(id)
	if !ok {
		return user{}, store.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var (
		rec store.User
		err error
	)
	if uu, ok := s.st.(UserUpdater); ok {
		rec, err = uu.UpdateUser(ctx, id, change)
	} else {
		rec, err = s.updateLocked(ctx, id, change)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return user{}, err
	case err != nil:
		s.log.ErrorContext(ctx, "changing a user failed", "user", id, "error", err)
		return user{}, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	return user{profile: p, Permissions: rec.Permissions, Active: rec.Active}, nil
}

// updateLocked is UpdateUser for a store without [UserUpdater]: atomic
// within this process.
func (s *server) updateLocked(ctx context.Context, id string, change func(*store.User)) (store.User, error) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	rec, err := s.st.User(ctx, id)
	if err != nil {
		return store.User{}, err
	}
	change(&rec)
	return rec, s.st.PutUser(ctx, rec)
}
