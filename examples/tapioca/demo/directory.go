package demo

import (
	"context"
	"slices"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// user is a person who signs in to the demo. Passwords are low-entropy
// human secrets, so they are kept as bcrypt hashes (unlike tap_ secrets,
// which are high-entropy and kept as SHA-256 by the library).
type user struct {
	ID          string
	Username    string
	Name        string
	OrgID       string
	Hash        []byte // bcrypt
	Permissions scope.Set
	Active      bool
}

func (u *user) record() store.User {
	return store.User{ID: u.ID, OrgID: u.OrgID, Active: u.Active, Permissions: u.Permissions}
}

// directory is the demo's user directory. It is the library's
// store.Users: every token verification asks it who the user is now, so a
// demotion or a deprovisioning applies on the next request.
type directory struct {
	mu     sync.RWMutex
	byID   map[string]*user
	byName map[string]*user
	// dummy is a bcrypt hash compared against when the username is unknown,
	// so an unknown user costs the same time as a wrong password.
	dummy []byte
	// mirror, when set, receives every change (the store's own copy of the
	// directory, for the authorization server).
	mirror func(store.User)
}

var _ store.Users = (*directory)(nil)

func newDirectory(hash func(string) ([]byte, error)) (*directory, error) {
	dummy, err := hash("not a password of anyone")
	if err != nil {
		return nil, err
	}
	return &directory{byID: map[string]*user{}, byName: map[string]*user{}, dummy: dummy}, nil
}

// User implements store.Users.
func (d *directory) User(_ context.Context, id string) (store.User, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	u, ok := d.byID[id]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u.record(), nil
}

func (d *directory) add(u *user) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byID[u.ID] = u
	d.byName[u.Username] = u
	if d.mirror != nil {
		d.mirror(u.record()) // under the lock: the mirror sees changes in order
	}
}

// authenticate checks a username and password. Unknown users and wrong
// passwords take the same bcrypt comparison and give the same answer.
func (d *directory) authenticate(username, password string) (user, bool) {
	d.mu.RLock()
	u, ok := d.byName[username]
	var cp user
	if ok {
		cp = *u
	}
	d.mu.RUnlock()
	hash := d.dummy
	if ok {
		hash = cp.Hash
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if !ok || err != nil || !cp.Active {
		return user{}, false
	}
	return cp, true
}

func (d *directory) get(id string) (user, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	u, ok := d.byID[id]
	if !ok {
		return user{}, false
	}
	return *u, true
}

func (d *directory) inOrg(id, orgID string) bool {
	u, ok := d.get(id)
	return ok && u.OrgID == orgID
}

// members returns the users of an organization, in username order.
func (d *directory) members(orgID string) []user {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []user
	for _, u := range d.byID {
		if u.OrgID == orgID {
			out = append(out, *u)
		}
	}
	slices.SortFunc(out, func(a, b user) int {
		switch {
		case a.Username < b.Username:
			return -1
		case a.Username > b.Username:
			return 1
		}
		return 0
	})
	return out
}

// update changes a user under the lock and mirrors the result.
func (d *directory) update(id string, f func(*user)) (user, bool) {
	d.mu.Lock()
	u, ok := d.byID[id]
	if !ok {
		d.mu.Unlock()
		return user{}, false
	}
	f(u)
	cp := *u
	if d.mirror != nil {
		d.mirror(cp.record())
	}
	d.mu.Unlock()
	return cp, true
}
