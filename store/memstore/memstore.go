package memstore

import (
	"cmp"
	"context"
	"errors"
	"hash/maphash"
	"math"
	"slices"
	"sync"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// Compile-time checks that Store implements every interface of package
// store.
var (
	_ store.Store         = (*Store)(nil)
	_ store.Tokens        = (*Store)(nil)
	_ store.Codes         = (*Store)(nil)
	_ store.Families      = (*Store)(nil)
	_ store.Clients       = (*Store)(nil)
	_ store.Users         = (*Store)(nil)
	_ store.Deprovisioner = (*Store)(nil)
	_ store.Sweeper       = (*Store)(nil)
	_ store.ClientLister  = (*Store)(nil)
)

// ErrInvalid is returned by the host-side writers ([Store.PutUser],
// [Store.PutClient]) for a record without an ID, and by
// [Store.CreateToken] for a token whose strings are too long to store.
var ErrInvalid = errors.New("memstore: invalid record")

// chunkSize is how many token records one slab chunk holds.
const chunkSize = 512

// Store is an in-memory implementation of every interface of package
// store. The zero Store is not usable; create one with [New].
type Store struct {
	mu sync.RWMutex

	// Tokens live in a slab of fixed-size chunks, addressed by int32 slot;
	// freed slots are reused.
	chunks   [][]tokenRec
	used     int32   // slots handed out from the chunks so far
	free     []int32 // freed slots
	byHash   index   // tag hashTag(Hash)
	byID     index   // tag maphash(seed, ID)
	seed     maphash.Seed
	byUser   map[string][]int32 // slots in creation order
	byFamily map[string][]int32
	sweepPos int32 // where DeleteExpired resumes its scan of the slab

	// Interned parties (user, organization, client) and scope sets,
	// referred to by index; index 0 is the zero value.
	parties  []party
	partyIdx map[party]uint32
	sets     []scope.Set
	setIdx   map[scope.Set]uint32

	codes      map[store.Hash]codeRec
	families   map[string]*store.Family
	famsByUser map[string][]string

	clients map[string]store.Client
	users   map[string]store.User
}

// tokenRec is a stored token in 96 bytes, so that with the 64-byte
// aligned chunks a record spans exactly two cache lines.
type tokenRec struct {
	hash store.Hash
	// text is ID + FamilyID + Name; idEnd and famEnd split it.
	text          string
	idEnd, famEnd uint16
	party         uint32 // interned user, organization and client
	scope         uint32 // interned scope set
	kind          store.Kind
	live          bool  // the slot holds a token
	created       int64 // unix nanoseconds; 0 is the zero time
	expires       int64
	lastUsed      int64
	revoked       int64
}

// party is who a token belongs to. Tokens share few distinct parties, so
// they are interned.
type party struct {
	user, org, client string
}

type codeRec struct {
	code store.Code
	used bool
}

// New returns an empty store.
func New() *Store {
	return &Store{
		seed:       maphash.MakeSeed(),
		byUser:     make(map[string][]int32),
		byFamily:   make(map[string][]int32),
		parties:    []party{{}},
		partyIdx:   map[party]uint32{{}: 0},
		sets:       []scope.Set{{}},
		setIdx:     map[scope.Set]uint32{{}: 0},
		codes:      make(map[store.Hash]codeRec),
		families:   make(map[string]*store.Family),
		famsByUser: make(map[string][]string),
		clients:    make(map[string]store.Client),
		users:      make(map[string]store.User),
	}
}

// Time encoding: int64 nanoseconds since the Unix epoch, 0 for the zero
// time, clamped to the representable range. The epoch itself is stored as
// 1 and 1 reads back as the epoch, so the epoch round-trips (and the
// instant one nanosecond after it reads back a nanosecond early).

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
	epoch   = time.Unix(0, 0).UTC()
)

// orEpoch returns at, or the epoch for the zero time: what a revocation or
// an expiry records, since a zero RevokedAt would mean "not revoked" (the
// contract of package store: a zero time still revokes).
func orEpoch(at time.Time) time.Time {
	if at.IsZero() {
		return epoch
	}
	return at
}

func fromTime(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case !t.After(minTime):
		return math.MinInt64 + 1
	case !t.Before(maxTime):
		return math.MaxInt64
	}
	n := t.UnixNano()
	if n == 0 {
		n = 1 // the epoch itself: 1 ns later, since 0 means the zero time
	}
	return n
}

func toTime(n int64) time.Time {
	switch n {
	case 0:
		return time.Time{}
	case 1:
		return epoch
	}
	return time.Unix(0, n).UTC()
}

// intern returns the index of p, adding it. Callers hold the write lock.
func (s *Store) intern(p party) uint32 {
	if i, ok := s.partyIdx[p]; ok {
		return i
	}
	i := uint32(len(s.parties))
	s.parties = append(s.parties, p)
	s.partyIdx[p] = i
	return i
}

func (s *Store) internSet(v scope.Set) uint32 {
	if i, ok := s.setIdx[v]; ok {
		return i
	}
	i := uint32(len(s.sets))
	s.sets = append(s.sets, v)
	s.setIdx[v] = i
	return i
}

// findHash returns the slot of the token with hash h, or -1. Callers hold
// the lock.
func (s *Store) findHash(h *store.Hash) int32 {
	return s.byHash.lookup(hashTag(h), func(i int32) bool { return s.rec(i).hash == *h })
}

func (s *Store) idTag(id string) uint32 { return uint32(maphash.String(s.seed, id)) }

// findID returns the slot of the token with the given ID, or -1. Callers
// hold the lock.
func (s *Store) findID(id string) int32 {
	return s.byID.lookup(s.idTag(id), func(i int32) bool { r := s.rec(i); return r.text[:r.idEnd] == id })
}

// rec returns the record in slot i. Callers hold the lock.
func (s *Store) rec(i int32) *tokenRec {
	return &s.chunks[i/chunkSize][i%chunkSize]
}

// alloc returns a free slot. Callers hold the write lock.
func (s *Store) alloc() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i
	}
	if int(s.used) == len(s.chunks)*chunkSize {
		s.chunks = append(s.chunks, make([]tokenRec, chunkSize))
	}
	s.used++
	return s.used - 1
}

func (s *Store) export(r *tokenRec) store.Token {
	p := &s.parties[r.party]
	return store.Token{
		ID:         r.text[:r.idEnd],
		Hash:       r.hash,
		Kind:       r.kind,
		UserID:     p.user,
		OrgID:      p.org,
		ClientID:   p.client,
		FamilyID:   r.text[r.idEnd:r.famEnd],
		Name:       r.text[r.famEnd:],
		Scopes:     s.sets[r.scope],
		CreatedAt:  toTime(r.created),
		ExpiresAt:  toTime(r.expires),
		LastUsedAt: toTime(r.lastUsed),
		RevokedAt:  toTime(r.revoked),
	}
}

// CreateToken implements [store.Tokens]. A token whose ID, FamilyID and
// Name together exceed 65,535 bytes is refused with [ErrInvalid].
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(t.ID)+len(t.FamilyID)+len(t.Name) > math.MaxUint16 {
		return ErrInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findHash(&t.Hash) >= 0 || s.findID(t.ID) >= 0 {
		return store.ErrExists
	}
	i := s.alloc()
	r := s.rec(i)
	text := t.ID + t.FamilyID + t.Name // one allocation holding all three
	*r = tokenRec{
		hash:     t.Hash,
		text:     text,
		idEnd:    uint16(len(t.ID)),
		famEnd:   uint16(len(t.ID) + len(t.FamilyID)),
		party:    s.intern(party{t.UserID, t.OrgID, t.ClientID}),
		scope:    s.internSet(t.Scopes),
		created:  fromTime(t.CreatedAt),
		expires:  fromTime(t.ExpiresAt),
		lastUsed: fromTime(t.LastUsedAt),
		revoked:  fromTime(t.RevokedAt),
		kind:     t.Kind,
		live:     true,
	}
	s.byHash.insert(hashTag(&t.Hash), i)
	s.byID.insert(s.idTag(t.ID), i)
	if t.UserID != "" {
		s.byUser[t.UserID] = append(s.byUser[t.UserID], i)
	}
	if t.FamilyID != "" {
		s.byFamily[t.FamilyID] = append(s.byFamily[t.FamilyID], i)
	}
	return nil
}

// TokenByHash implements [store.Tokens]. It takes only a read lock and
// allocates nothing.
func (s *Store) TokenByHash(ctx context.Context, h store.Hash) (store.Token, error) {
	if err := ctx.Err(); err != nil {
		return store.Token{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := s.findHash(&h)
	if i < 0 {
		return store.Token{}, store.ErrNotFound
	}
	return s.export(s.rec(i)), nil
}

// ListTokens implements [store.Tokens]. Tokens without a user
// (client_credentials) belong to no user's list.
func (s *Store) ListTokens(ctx context.Context, userID string) ([]store.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if userID == "" {
		return []store.Token{}, nil
	}
	slots := s.byUser[userID]
	out := make([]store.Token, 0, len(slots))
	for _, i := range slots {
		out = append(out, s.export(s.rec(i)))
	}
	return out, nil
}

// update runs fn on the record of the token with the given ID under the
// write lock.
func (s *Store) update(ctx context.Context, id string, fn func(r *tokenRec)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.findID(id)
	if i < 0 {
		return store.ErrNotFound
	}
	fn(s.rec(i))
	return nil
}

// revoke marks r revoked at, keeping an earlier revocation.
func revoke(r *tokenRec, at int64) {
	if r.revoked == 0 {
		r.revoked = at
	}
}

// RevokeToken implements [store.Tokens]. A zero at revokes at the epoch.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	n := fromTime(orEpoch(at))
	return s.update(ctx, id, func(r *tokenRec) { revoke(r, n) })
}

// ExpireToken implements [store.Tokens]. A zero at expires the token at
// the epoch.
func (s *Store) ExpireToken(ctx context.Context, id string, at time.Time) error {
	n := fromTime(orEpoch(at))
	return s.update(ctx, id, func(r *tokenRec) {
		if n < r.expires {
			r.expires = n
		}
	})
}

// TouchToken implements [store.Tokens]. A zero at records nothing.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	n := fromTime(at)
	return s.update(ctx, id, func(r *tokenRec) {
		if n != 0 && n > r.lastUsed {
			r.lastUsed = n
		}
	})
}

// SaveCode implements [store.Codes].
func (s *Store) SaveCode(ctx context.Context, c store.Code) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.codes[c.Hash]; ok {
		return store.ErrExists
	}
	s.codes[c.Hash] = codeRec{code: c}
	return nil
}

// ConsumeCode implements [store.Codes]. A consumed code keeps reporting
// [store.CodeUsedError] until [Store.DeleteExpired] removes it after its
// expiry; an expired unconsumed code is deleted when presented.
func (s *Store) ConsumeCode(ctx context.Context, h store.Hash, at time.Time) (store.Code, error) {
	if err := ctx.Err(); err != nil {
		return store.Code{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cr, ok := s.codes[h]
	switch {
	case !ok:
		return store.Code{}, store.ErrNotFound
	case cr.used:
		return store.Code{}, &store.CodeUsedError{FamilyID: cr.code.FamilyID,
			ClientID: cr.code.ClientID, UserID: cr.code.UserID, OrgID: cr.code.OrgID}
	case !cr.code.ExpiresAt.After(at):
		delete(s.codes, h)
		return store.Code{}, store.ErrNotFound
	}
	cr.used = true
	s.codes[h] = cr
	return cr.code, nil
}

// CreateFamily implements [store.Families].
func (s *Store) CreateFamily(ctx context.Context, f store.Family) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.families[f.ID]; ok {
		return store.ErrExists
	}
	s.families[f.ID] = &f
	if f.UserID != "" {
		s.famsByUser[f.UserID] = append(s.famsByUser[f.UserID], f.ID)
	}
	return nil
}

// RotateFamily implements [store.Families].
func (s *Store) RotateFamily(ctx context.Context, id string, presented, next store.Hash, at time.Time) (store.Family, error) {
	if err := ctx.Err(); err != nil {
		return store.Family{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[id]
	switch {
	case !ok:
		return store.Family{}, store.ErrNotFound
	case f.Revoked():
		return store.Family{}, store.ErrRevoked
	case f.Current != presented:
		return store.Family{}, store.ErrReused
	}
	f.Current = next
	f.Rotations++
	if i := s.findHash(&presented); i >= 0 {
		revoke(s.rec(i), fromTime(orEpoch(at)))
	}
	return *f, nil
}

// RevokeFamily implements [store.Families]. A zero at revokes at the
// epoch.
func (s *Store) RevokeFamily(ctx context.Context, id string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeFamily(id, orEpoch(at))
	return nil
}

// revokeFamily revokes the family and its tokens at at, which is not the
// zero time. Callers hold the write lock.
func (s *Store) revokeFamily(id string, at time.Time) {
	if f, ok := s.families[id]; ok && !f.Revoked() {
		f.RevokedAt = at
	}
	n := fromTime(at)
	for _, i := range s.byFamily[id] {
		revoke(s.rec(i), n)
	}
}

// RevokeUser implements [store.Deprovisioner]. It deletes the user's
// codes, consumed or not: the families their redemptions started are
// revoked with the user's other families and tokens. A zero at revokes at
// the epoch.
func (s *Store) RevokeUser(ctx context.Context, userID string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if userID == "" {
		return nil
	}
	at = orEpoch(at)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := fromTime(at)
	for _, i := range s.byUser[userID] {
		revoke(s.rec(i), n)
	}
	for _, id := range s.famsByUser[userID] {
		s.revokeFamily(id, at)
	}
	for h, cr := range s.codes {
		if cr.code.UserID == userID {
			delete(s.codes, h)
		}
	}
	return nil
}

// Client implements [store.Clients]. The returned client's slices are
// copies.
func (s *Store) Client(ctx context.Context, id string) (store.Client, error) {
	if err := ctx.Err(); err != nil {
		return store.Client{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.clients[id]
	if !ok {
		return store.Client{}, store.ErrNotFound
	}
	return cloneClient(c), nil
}

// ListClients implements [store.ClientLister].
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]store.Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, cloneClient(c))
	}
	slices.SortFunc(out, func(a, b store.Client) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func cloneClient(c store.Client) store.Client {
	c.SecretHashes = slices.Clone(c.SecretHashes)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	return c
}

// User implements [store.Users].
func (s *Store) User(ctx context.Context, id string) (store.User, error) {
	if err := ctx.Err(); err != nil {
		return store.User{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

// DeleteExpired implements [store.Sweeper]: it deletes at most limit codes,
// families and tokens whose ExpiresAt is before the given time. Consumed
// codes are deleted once expired like the others. A zero before deletes
// nothing. Each call scans the token slab from where the previous one
// stopped, so a sweep in batches costs one pass over the store.
func (s *Store) DeleteExpired(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if limit <= 0 || before.IsZero() {
		// Nothing is before the zero time; its encoding, 0, is after
		// every token expiry before 1970.
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for h, cr := range s.codes {
		if n == limit {
			return n, nil
		}
		if cr.code.ExpiresAt.Before(before) {
			delete(s.codes, h)
			n++
		}
	}
	for id, f := range s.families {
		if n == limit {
			return n, nil
		}
		if f.ExpiresAt.Before(before) {
			delete(s.families, id)
			s.famsByUser[f.UserID] = deleteValue(s.famsByUser[f.UserID], id)
			if len(s.famsByUser[f.UserID]) == 0 {
				delete(s.famsByUser, f.UserID)
			}
			n++
		}
	}
	b := fromTime(before)
	for k := int32(0); k < s.used && n < limit; k++ {
		i := s.sweepPos
		if s.sweepPos++; s.sweepPos >= s.used {
			s.sweepPos = 0
		}
		if r := s.rec(i); r.live && r.expires < b {
			s.deleteToken(i, r)
			n++
		}
	}
	return n, nil
}

// deleteToken removes the token in slot i from every index and frees the
// slot. Callers hold the write lock.
func (s *Store) deleteToken(i int32, r *tokenRec) {
	s.byHash.remove(hashTag(&r.hash), i)
	s.byID.remove(s.idTag(r.text[:r.idEnd]), i)
	if user := s.parties[r.party].user; user != "" {
		s.byUser[user] = deleteValue(s.byUser[user], i)
		if len(s.byUser[user]) == 0 {
			delete(s.byUser, user)
		}
	}
	if fam := r.text[r.idEnd:r.famEnd]; fam != "" {
		s.byFamily[fam] = deleteValue(s.byFamily[fam], i)
		if len(s.byFamily[fam]) == 0 {
			delete(s.byFamily, fam)
		}
	}
	*r = tokenRec{}
	s.free = append(s.free, i)
}

func deleteValue[T comparable](list []T, v T) []T {
	if k := slices.Index(list, v); k >= 0 {
		return slices.Delete(list, k, k+1)
	}
	return list
}

// PutUser creates or replaces the user with u.ID in the directory. An
// empty ID → [ErrInvalid]. Putting an active user back does not revive
// anything [Store.RevokeUser] revoked.
func (s *Store) PutUser(u store.User) error {
	if u.ID == "" {
		return ErrInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
	return nil
}

// DeleteUser removes the user from the directory; [Store.User] then
// reports [store.ErrNotFound]. The user's tokens stay stored. Deleting an
// unknown user does nothing.
func (s *Store) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
}

// SetUserActive sets the user's Active flag: false suspends or
// deprovisions the user in the directory (it does not revoke tokens; see
// [Store.RevokeUser]). Unknown user → [store.ErrNotFound].
func (s *Store) SetUserActive(id string, active bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return store.ErrNotFound
	}
	u.Active = active
	s.users[id] = u
	return nil
}

// SetUserPermissions replaces the user's permissions (a promotion or a
// demotion). Unknown user → [store.ErrNotFound].
func (s *Store) SetUserPermissions(id string, perms scope.Set) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return store.ErrNotFound
	}
	u.Permissions = perms
	s.users[id] = u
	return nil
}

// PutClient registers c, replacing the client with the same ID. An empty
// ID → [ErrInvalid]. The store keeps copies of c's slices.
func (s *Store) PutClient(c store.Client) error {
	if c.ID == "" {
		return ErrInvalid
	}
	c = cloneClient(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
	return nil
}

// DeleteClient removes the client; [Store.Client] then reports
// [store.ErrNotFound]. Deleting an unknown client does nothing.
func (s *Store) DeleteClient(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, id)
}
