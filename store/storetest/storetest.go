package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// Fixtures writes the records that belong to the host and that
// [store.Store] only reads: users and clients. [Test] uses it to set up
// each behaviour. Both methods create the record or replace the one with
// the same ID; the suite's IDs are unique to each run.
type Fixtures interface {
	// PutUser creates or replaces the user with u.ID; afterwards
	// [store.Users.User] returns u.
	PutUser(ctx context.Context, u store.User) error
	// PutClient creates or replaces the client with c.ID; afterwards
	// [store.Clients.Client] returns c.
	PutClient(ctx context.Context, c store.Client) error
}

// Concurrency is how many goroutines race in the concurrency tests
// (consuming one code, rotating one refresh token).
const Concurrency = 50

// t0 is the suite's fixed "now". Every timestamp is t0 plus or minus whole
// seconds, except the zero time and the Unix epoch of the ZeroTime
// behaviour.
var t0 = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

// epoch is what a revocation or expiry given the zero time records.
var epoch = time.Unix(0, 0).UTC()

// Test runs the conformance suite: one subtest per behaviour, each with a
// store from newStore. See the package documentation for how to call it.
func Test(t *testing.T, newStore func(t *testing.T) (store.Store, Fixtures)) {
	t.Helper()
	run := randomHex(4) // per-run prefix: reruns on one database never collide
	var seq atomic.Int64
	for _, tc := range behaviours {
		t.Run(tc.name, func(t *testing.T) {
			s, fx := newStore(t)
			if s == nil || fx == nil {
				t.Fatal("storetest: newStore returned a nil store or nil fixtures")
			}
			h := &harness{t: t, ctx: t.Context(), s: s, fx: fx, run: run, seq: &seq}
			tc.fn(h)
		})
	}
}

var behaviours = []struct {
	name string
	fn   func(h *harness)
}{
	{"NotFound", testNotFound},
	{"TokenRoundTrip", testTokenRoundTrip},
	{"TokenExists", testTokenExists},
	{"ListTokens", testListTokens},
	{"RevokeToken", testRevokeToken},
	{"ExpireToken", testExpireToken},
	{"TouchToken", testTouchToken},
	{"ClientRoundTrip", testClientRoundTrip},
	{"UserRoundTrip", testUserRoundTrip},
	{"CodeRoundTrip", testCodeRoundTrip},
	{"CodeConsumedOnce", testCodeConsumedOnce},
	{"CodeExpired", testCodeExpired},
	{"CodeUsedAfterExpiry", testCodeUsedAfterExpiry},
	{"CodeConcurrent", testCodeConcurrent},
	{"FamilyExists", testFamilyExists},
	{"RefreshRotation", testRefreshRotation},
	{"RefreshReuse", testRefreshReuse},
	{"RefreshConcurrent", testRefreshConcurrent},
	{"RevokeFamily", testRevokeFamily},
	{"RevokeFamilyWithoutRecord", testRevokeFamilyWithoutRecord},
	{"RevokedFamilyRotate", testRevokedFamilyRotate},
	{"Deprovision", testDeprovision},
	{"ZeroTime", testZeroTime},
	{"Copies", testCopies},
	{"Sweeper", testSweeper},
	{"ClientLister", testClientLister},
	{"TokenUsers", testTokenUsers},
}

// harness is one behaviour's store, fixtures and unique-name source.
type harness struct {
	t   *testing.T
	ctx context.Context
	s   store.Store
	fx  Fixtures
	run string
	seq *atomic.Int64
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// id returns an ID unique to this run, e.g. "storetest-tok-3fa9c2d1-17".
func (h *harness) id(kind string) string {
	return fmt.Sprintf("storetest-%s-%s-%d", kind, h.run, h.seq.Add(1))
}

// hash returns a random hash.
func (h *harness) hash() store.Hash {
	var x store.Hash
	_, _ = rand.Read(x[:])
	return x
}

func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.t.Fatalf(format, args...)
}

// user stores an active user of a fresh organization.
func (h *harness) user() store.User {
	h.t.Helper()
	u := store.User{
		ID:          h.id("user"),
		OrgID:       h.id("org"),
		Active:      true,
		Permissions: scope.MustParse("write:tasks read:time"),
	}
	if err := h.fx.PutUser(h.ctx, u); err != nil {
		h.fatalf("Fixtures.PutUser: %v", err)
	}
	return u
}

// client stores a confidential client.
func (h *harness) client() store.Client {
	h.t.Helper()
	c := store.Client{
		ID:           h.id("client"),
		SecretHashes: []store.Hash{h.hash(), h.hash()},
		RedirectURIs: []string{"https://app.example/callback", "http://127.0.0.1/cb"},
		GrantTypes:   []string{"authorization_code", "refresh_token", "client_credentials"},
		Scopes:       scope.MustParse("read:tasks write:time"),
		OrgID:        h.id("org"),
		Name:         "Storetest App",
	}
	if err := h.fx.PutClient(h.ctx, c); err != nil {
		h.fatalf("Fixtures.PutClient: %v", err)
	}
	return c
}

// token returns (without storing it) a live token of u of the given kind,
// created at t0 and expiring a day later.
func (h *harness) token(u store.User, c store.Client, kind store.Kind) store.Token {
	t := store.Token{
		ID:        h.id("tok"),
		Hash:      h.hash(),
		Kind:      kind,
		UserID:    u.ID,
		OrgID:     u.OrgID,
		Scopes:    scope.MustParse("read:tasks"),
		CreatedAt: t0,
		ExpiresAt: t0.Add(24 * time.Hour),
	}
	switch kind {
	case store.KindAPI:
		t.Name = "laptop"
	case store.KindSession:
	default:
		t.ClientID = c.ID
	}
	return t
}

func (h *harness) create(t store.Token) store.Token {
	h.t.Helper()
	if err := h.s.CreateToken(h.ctx, t); err != nil {
		h.fatalf("CreateToken(%s): %v", t.ID, err)
	}
	return t
}

// lookup returns the stored token with t's hash.
func (h *harness) lookup(t store.Token) store.Token {
	h.t.Helper()
	got, err := h.s.TokenByHash(h.ctx, t.Hash)
	if err != nil {
		h.fatalf("TokenByHash(%s): %v", t.ID, err)
	}
	return got
}

// family stores a refresh family of u and c, with current refresh token
// hash cur, and a refresh token record with that hash.
func (h *harness) family(u store.User, c store.Client) (store.Family, store.Token) {
	h.t.Helper()
	f := store.Family{
		ID:        h.id("fam"),
		ClientID:  c.ID,
		UserID:    u.ID,
		OrgID:     u.OrgID,
		Scopes:    scope.MustParse("read:tasks write:time"),
		CreatedAt: t0,
		ExpiresAt: t0.Add(30 * 24 * time.Hour),
	}
	rt := h.token(u, c, store.KindRefresh)
	rt.FamilyID = f.ID
	f.Current = rt.Hash
	if err := h.s.CreateFamily(h.ctx, f); err != nil {
		h.fatalf("CreateFamily(%s): %v", f.ID, err)
	}
	h.create(rt)
	return f, rt
}

// code returns (without saving it) a code of u for c, expiring a minute
// after t0.
func (h *harness) code(u store.User, c store.Client) store.Code {
	return store.Code{
		Hash:        h.hash(),
		ClientID:    c.ID,
		UserID:      u.ID,
		OrgID:       u.OrgID,
		RedirectURI: c.RedirectURIs[0],
		Scopes:      scope.MustParse("read:tasks"),
		Challenge:   "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		FamilyID:    h.id("fam"),
		CreatedAt:   t0,
		ExpiresAt:   t0.Add(time.Minute),
	}
}

func (h *harness) save(c store.Code) store.Code {
	h.t.Helper()
	if err := h.s.SaveCode(h.ctx, c); err != nil {
		h.fatalf("SaveCode: %v", err)
	}
	return c
}

// wantErr fails unless err matches target.
func (h *harness) wantErr(what string, err, target error) {
	h.t.Helper()
	if !errors.Is(err, target) {
		h.t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}

// noErr fails the test at once on err.
func (h *harness) noErr(what string, err error) {
	h.t.Helper()
	if err != nil {
		h.fatalf("%s: %v", what, err)
	}
}

// Comparisons. Times are compared with Equal; scope sets by their
// canonical string.

type diff []string

func (d *diff) str(field, got, want string) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %q, want %q", field, got, want))
	}
}

func (d *diff) time(field string, got, want time.Time) {
	if !got.Equal(want) {
		*d = append(*d, fmt.Sprintf("%s = %v, want %v", field, got, want))
	}
}

func (d *diff) hash(field string, got, want store.Hash) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %x…, want %x…", field, got[:4], want[:4]))
	}
}

func (d *diff) scopes(field string, got, want scope.Set) {
	d.str(field, got.String(), want.String())
}

func (d *diff) other(field string, got, want any) {
	if got != want {
		*d = append(*d, fmt.Sprintf("%s = %v, want %v", field, got, want))
	}
}

func (d diff) report(t *testing.T, what string) {
	t.Helper()
	if len(d) > 0 {
		t.Errorf("%s:\n\t%s", what, strings.Join(d, "\n\t"))
	}
}

func tokenDiff(got, want store.Token) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.hash("Hash", got.Hash, want.Hash)
	d.other("Kind", got.Kind, want.Kind)
	d.str("UserID", got.UserID, want.UserID)
	d.str("OrgID", got.OrgID, want.OrgID)
	d.str("ClientID", got.ClientID, want.ClientID)
	d.str("FamilyID", got.FamilyID, want.FamilyID)
	d.str("Name", got.Name, want.Name)
	d.scopes("Scopes", got.Scopes, want.Scopes)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.time("LastUsedAt", got.LastUsedAt, want.LastUsedAt)
	d.time("RevokedAt", got.RevokedAt, want.RevokedAt)
	return d
}

func codeDiff(got, want store.Code) diff {
	var d diff
	d.hash("Hash", got.Hash, want.Hash)
	d.str("ClientID", got.ClientID, want.ClientID)
	d.str("UserID", got.UserID, want.UserID)
	d.str("OrgID", got.OrgID, want.OrgID)
	d.str("RedirectURI", got.RedirectURI, want.RedirectURI)
	d.scopes("Scopes", got.Scopes, want.Scopes)
	d.str("Challenge", got.Challenge, want.Challenge)
	d.str("FamilyID", got.FamilyID, want.FamilyID)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	return d
}

func familyDiff(got, want store.Family) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("ClientID", got.ClientID, want.ClientID)
	d.str("UserID", got.UserID, want.UserID)
	d.str("OrgID", got.OrgID, want.OrgID)
	d.scopes("Scopes", got.Scopes, want.Scopes)
	d.hash("Current", got.Current, want.Current)
	d.other("Rotations", got.Rotations, want.Rotations)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.time("RevokedAt", got.RevokedAt, want.RevokedAt)
	return d
}

func clientDiff(got, want store.Client) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	if !slices.Equal(got.SecretHashes, want.SecretHashes) {
		d = append(d, fmt.Sprintf("SecretHashes: %d hashes, not the %d stored", len(got.SecretHashes), len(want.SecretHashes)))
	}
	d.other("Public", got.Public, want.Public)
	if !slices.Equal(got.RedirectURIs, want.RedirectURIs) {
		d = append(d, fmt.Sprintf("RedirectURIs = %q, want %q", got.RedirectURIs, want.RedirectURIs))
	}
	if !slices.Equal(got.GrantTypes, want.GrantTypes) {
		d = append(d, fmt.Sprintf("GrantTypes = %q, want %q", got.GrantTypes, want.GrantTypes))
	}
	d.scopes("Scopes", got.Scopes, want.Scopes)
	d.str("OrgID", got.OrgID, want.OrgID)
	d.str("Name", got.Name, want.Name)
	return d
}

func userDiff(got, want store.User) diff {
	var d diff
	d.str("ID", got.ID, want.ID)
	d.str("OrgID", got.OrgID, want.OrgID)
	d.other("Active", got.Active, want.Active)
	d.scopes("Permissions", got.Permissions, want.Permissions)
	return d
}

// race starts n goroutines that call fn(i) at the same moment and returns
// their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}
