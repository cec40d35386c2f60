package storetest

import (
	"errors"
	"fmt"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
)

// testNotFound: every lookup of an unknown key reports ErrNotFound; the
// idempotent revocations accept unknown keys.
func testNotFound(h *harness) {
	_, err := h.s.TokenByHash(h.ctx, h.hash())
	h.wantErr("TokenByHash(unknown)", err, store.ErrNotFound)
	h.wantErr("RevokeToken(unknown)", h.s.RevokeToken(h.ctx, h.id("tok"), t0), store.ErrNotFound)
	h.wantErr("ExpireToken(unknown)", h.s.ExpireToken(h.ctx, h.id("tok"), t0), store.ErrNotFound)
	h.wantErr("TouchToken(unknown)", h.s.TouchToken(h.ctx, h.id("tok"), t0), store.ErrNotFound)
	_, err = h.s.ConsumeCode(h.ctx, h.hash(), t0)
	h.wantErr("ConsumeCode(unknown)", err, store.ErrNotFound)
	_, err = h.s.RotateFamily(h.ctx, h.id("fam"), h.hash(), h.hash(), t0)
	h.wantErr("RotateFamily(unknown)", err, store.ErrNotFound)
	_, err = h.s.Client(h.ctx, h.id("client"))
	h.wantErr("Client(unknown)", err, store.ErrNotFound)
	_, err = h.s.User(h.ctx, h.id("user"))
	h.wantErr("User(unknown)", err, store.ErrNotFound)

	list, err := h.s.ListTokens(h.ctx, h.id("user"))
	if err != nil || len(list) != 0 {
		h.t.Errorf("ListTokens(unknown user) = %d tokens, %v; want none, nil", len(list), err)
	}
	if err := h.s.RevokeFamily(h.ctx, h.id("fam"), t0); err != nil {
		h.t.Errorf("RevokeFamily(unknown) = %v, want nil", err)
	}
	if err := h.s.RevokeUser(h.ctx, h.id("user"), t0); err != nil {
		h.t.Errorf("RevokeUser(unknown) = %v, want nil", err)
	}
}

// testTokenRoundTrip: every field of every kind comes back as stored.
func testTokenRoundTrip(h *harness) {
	u, c := h.user(), h.client()
	for _, kind := range []store.Kind{store.KindAPI, store.KindAccess, store.KindRefresh, store.KindSession} {
		tok := h.token(u, c, kind)
		tok.FamilyID = h.id("fam")
		tok.ClientID = c.ID
		tok.Name = "name of " + kind.String()
		tok.Scopes = scope.MustParse("write:tasks read:finance admin:billing")
		tok.LastUsedAt = t0.Add(time.Minute)
		if kind == store.KindSession {
			tok.RevokedAt = t0.Add(2 * time.Minute) // a token stored revoked comes back revoked
		}
		h.create(tok)
		tokenDiff(h.lookup(tok), tok).report(h.t, "TokenByHash("+kind.String()+")")
	}
	// A client_credentials token has no user.
	cc := h.token(store.User{OrgID: c.OrgID}, c, store.KindAccess)
	h.create(cc)
	tokenDiff(h.lookup(cc), cc).report(h.t, "TokenByHash(client_credentials token)")
}

// testTokenExists: a second token with the same ID or the same hash is
// refused with ErrExists and changes nothing.
func testTokenExists(h *harness) {
	u, c := h.user(), h.client()
	orig := h.create(h.token(u, c, store.KindAPI))

	sameID := h.token(u, c, store.KindAPI)
	sameID.ID = orig.ID
	h.wantErr("CreateToken(same ID)", h.s.CreateToken(h.ctx, sameID), store.ErrExists)
	_, err := h.s.TokenByHash(h.ctx, sameID.Hash)
	h.wantErr("TokenByHash(refused token)", err, store.ErrNotFound)

	sameHash := h.token(u, c, store.KindAPI)
	sameHash.Hash = orig.Hash
	sameHash.Name = "impostor"
	h.wantErr("CreateToken(same hash)", h.s.CreateToken(h.ctx, sameHash), store.ErrExists)
	h.wantErr("RevokeToken(refused token)", h.s.RevokeToken(h.ctx, sameHash.ID, t0), store.ErrNotFound)

	tokenDiff(h.lookup(orig), orig).report(h.t, "original token after refused duplicates")
}

// testListTokens: every token of the user, every kind, revoked and expired
// included, in creation order; nobody else's.
func testListTokens(h *harness) {
	u, other, c := h.user(), h.user(), h.client()
	var want []store.Token
	for i, kind := range []store.Kind{store.KindSession, store.KindAPI, store.KindAccess, store.KindRefresh, store.KindAPI} {
		tok := h.token(u, c, kind)
		tok.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		switch i {
		case 1:
			tok.ExpiresAt = t0.Add(-time.Hour) // expired
		case 2:
			tok.RevokedAt = t0 // revoked
		}
		want = append(want, h.create(tok))
		h.create(h.token(other, c, kind))
	}
	h.noErr("RevokeToken", h.s.RevokeToken(h.ctx, want[4].ID, t0.Add(time.Hour)))
	want[4].RevokedAt = t0.Add(time.Hour)

	got, err := h.s.ListTokens(h.ctx, u.ID)
	h.noErr("ListTokens", err)
	if len(got) != len(want) {
		h.fatalf("ListTokens = %d tokens, want %d", len(got), len(want))
	}
	for i := range want {
		tokenDiff(got[i], want[i]).report(h.t, fmt.Sprintf("ListTokens[%d]", i))
	}
	// Lookups return expired and revoked tokens too; the caller judges.
	tokenDiff(h.lookup(want[1]), want[1]).report(h.t, "TokenByHash(expired token)")
	tokenDiff(h.lookup(want[2]), want[2]).report(h.t, "TokenByHash(revoked token)")
}

// testRevokeToken: revocation sets RevokedAt, is idempotent and keeps the
// first time, and touches no other token.
func testRevokeToken(h *harness) {
	u, c := h.user(), h.client()
	tok := h.create(h.token(u, c, store.KindAPI))
	bystander := h.create(h.token(u, c, store.KindAPI))

	first := t0.Add(time.Hour)
	h.noErr("RevokeToken", h.s.RevokeToken(h.ctx, tok.ID, first))
	h.noErr("RevokeToken again (idempotent)", h.s.RevokeToken(h.ctx, tok.ID, first.Add(time.Hour)))
	h.noErr("RevokeToken earlier", h.s.RevokeToken(h.ctx, tok.ID, first.Add(-time.Minute)))

	got := h.lookup(tok)
	if !got.RevokedAt.Equal(first) {
		h.t.Errorf("RevokedAt = %v, want the first revocation %v", got.RevokedAt, first)
	}
	if !got.Revoked() {
		h.t.Error("Revoked() = false after RevokeToken")
	}
	tokenDiff(h.lookup(bystander), bystander).report(h.t, "other token after RevokeToken")
}

// testExpireToken: ExpireToken moves ExpiresAt earlier, never later.
func testExpireToken(h *harness) {
	u, c := h.user(), h.client()
	tok := h.create(h.token(u, c, store.KindAPI))
	bystander := h.create(h.token(u, c, store.KindAPI))

	earlier := tok.ExpiresAt.Add(-time.Hour)
	h.noErr("ExpireToken(earlier)", h.s.ExpireToken(h.ctx, tok.ID, earlier))
	if got := h.lookup(tok).ExpiresAt; !got.Equal(earlier) {
		h.t.Errorf("ExpiresAt = %v after ExpireToken, want %v", got, earlier)
	}
	h.noErr("ExpireToken(later)", h.s.ExpireToken(h.ctx, tok.ID, tok.ExpiresAt.Add(time.Hour)))
	if got := h.lookup(tok).ExpiresAt; !got.Equal(earlier) {
		h.t.Errorf("ExpiresAt = %v after a later ExpireToken, want it kept at %v", got, earlier)
	}
	tokenDiff(h.lookup(bystander), bystander).report(h.t, "other token after ExpireToken")
}

// testTouchToken: TouchToken records the latest use and ignores earlier
// ones.
func testTouchToken(h *harness) {
	u, c := h.user(), h.client()
	tok := h.create(h.token(u, c, store.KindAPI))
	bystander := h.create(h.token(u, c, store.KindAPI))

	steps := []struct {
		at, want time.Time
	}{
		{t0.Add(2 * time.Minute), t0.Add(2 * time.Minute)},
		{t0.Add(1 * time.Minute), t0.Add(2 * time.Minute)}, // earlier: ignored
		{t0.Add(3 * time.Minute), t0.Add(3 * time.Minute)},
	}
	for _, st := range steps {
		h.noErr("TouchToken", h.s.TouchToken(h.ctx, tok.ID, st.at))
		if got := h.lookup(tok).LastUsedAt; !got.Equal(st.want) {
			h.t.Errorf("after TouchToken(%v): LastUsedAt = %v, want %v", st.at, got, st.want)
		}
	}
	tokenDiff(h.lookup(bystander), bystander).report(h.t, "other token after TouchToken")
}

// testClientRoundTrip: clients come back as put, public ones too, and a
// second put replaces the first.
func testClientRoundTrip(h *harness) {
	c := h.client()
	got, err := h.s.Client(h.ctx, c.ID)
	h.noErr("Client", err)
	clientDiff(got, c).report(h.t, "Client")

	pub := store.Client{
		ID:           h.id("client"),
		Public:       true,
		RedirectURIs: []string{"http://[::1]/cb"},
		GrantTypes:   []string{"authorization_code"},
		Scopes:       scope.MustParse("read:tasks"),
		OrgID:        h.id("org"),
		Name:         "Public App",
	}
	h.noErr("PutClient(public)", h.fx.PutClient(h.ctx, pub))
	got, err = h.s.Client(h.ctx, pub.ID)
	h.noErr("Client(public)", err)
	if len(got.SecretHashes) != 0 {
		h.t.Errorf("public client has %d secret hashes, want 0", len(got.SecretHashes))
	}
	got.SecretHashes = nil
	clientDiff(got, pub).report(h.t, "Client(public)")

	c.SecretHashes = c.SecretHashes[1:] // the old secret retired
	c.Name = "Renamed"
	h.noErr("PutClient(replace)", h.fx.PutClient(h.ctx, c))
	got, err = h.s.Client(h.ctx, c.ID)
	h.noErr("Client(replaced)", err)
	clientDiff(got, c).report(h.t, "Client after replacement")
}

// testUserRoundTrip: users come back as put, and User reflects the latest
// put (demotion, deactivation).
func testUserRoundTrip(h *harness) {
	u := h.user()
	got, err := h.s.User(h.ctx, u.ID)
	h.noErr("User", err)
	userDiff(got, u).report(h.t, "User")

	u.Permissions = scope.MustParse("read:tasks")
	u.Active = false
	h.noErr("PutUser(update)", h.fx.PutUser(h.ctx, u))
	got, err = h.s.User(h.ctx, u.ID)
	h.noErr("User(updated)", err)
	userDiff(got, u).report(h.t, "User after update")
}

// testCodeRoundTrip: a saved code is consumed with every field intact; a
// second code with the same hash is refused.
func testCodeRoundTrip(h *harness) {
	u, c := h.user(), h.client()
	code := h.save(h.code(u, c))

	dup := h.code(u, c)
	dup.Hash = code.Hash
	h.wantErr("SaveCode(same hash)", h.s.SaveCode(h.ctx, dup), store.ErrExists)

	got, err := h.s.ConsumeCode(h.ctx, code.Hash, t0.Add(time.Second))
	h.noErr("ConsumeCode", err)
	codeDiff(got, code).report(h.t, "ConsumeCode")

	// A code without PKCE challenge round-trips its empty challenge.
	plain := h.code(u, c)
	plain.Challenge = ""
	h.save(plain)
	got, err = h.s.ConsumeCode(h.ctx, plain.Hash, t0.Add(time.Second))
	h.noErr("ConsumeCode(no challenge)", err)
	codeDiff(got, plain).report(h.t, "ConsumeCode(no challenge)")
}

// testCodeConsumedOnce: a second consume reports a *CodeUsedError with the
// family to revoke.
func testCodeConsumedOnce(h *harness) {
	u, c := h.user(), h.client()
	code := h.save(h.code(u, c))
	_, err := h.s.ConsumeCode(h.ctx, code.Hash, t0.Add(time.Second))
	h.noErr("first ConsumeCode", err)

	for i := range 2 {
		_, err = h.s.ConsumeCode(h.ctx, code.Hash, t0.Add(2*time.Second))
		h.wantErr(fmt.Sprintf("ConsumeCode #%d", i+2), err, store.ErrCodeUsed)
		var used *store.CodeUsedError
		if !errors.As(err, &used) {
			h.fatalf("ConsumeCode #%d: error %T is not a *store.CodeUsedError", i+2, err)
		}
		if used.FamilyID != code.FamilyID {
			h.t.Errorf("CodeUsedError.FamilyID = %q, want %q", used.FamilyID, code.FamilyID)
		}
		if used.ClientID != code.ClientID || used.UserID != code.UserID || used.OrgID != code.OrgID {
			h.t.Errorf("CodeUsedError names client %q, user %q, org %q; want %q, %q, %q",
				used.ClientID, used.UserID, used.OrgID, code.ClientID, code.UserID, code.OrgID)
		}
	}
}

// testCodeExpired: a code is redeemable only while ExpiresAt is after the
// given time.
func testCodeExpired(h *harness) {
	u, c := h.user(), h.client()
	code := h.save(h.code(u, c))
	_, err := h.s.ConsumeCode(h.ctx, code.Hash, code.ExpiresAt)
	h.wantErr("ConsumeCode at ExpiresAt", err, store.ErrNotFound)
	_, err = h.s.ConsumeCode(h.ctx, code.Hash, code.ExpiresAt.Add(time.Hour))
	h.wantErr("ConsumeCode after ExpiresAt", err, store.ErrNotFound)

	live := h.save(h.code(u, c))
	_, err = h.s.ConsumeCode(h.ctx, live.Hash, live.ExpiresAt.Add(-time.Second))
	h.noErr("ConsumeCode one second before ExpiresAt", err)
}

// testCodeUsedAfterExpiry: a consumed code that has since expired still
// reports a *CodeUsedError, not ErrNotFound, so a late replay still
// revokes the family its first use started.
func testCodeUsedAfterExpiry(h *harness) {
	u, c := h.user(), h.client()
	code := h.save(h.code(u, c))
	_, err := h.s.ConsumeCode(h.ctx, code.Hash, t0.Add(time.Second))
	h.noErr("first ConsumeCode", err)

	for _, at := range []time.Time{code.ExpiresAt, code.ExpiresAt.Add(time.Hour)} {
		_, err = h.s.ConsumeCode(h.ctx, code.Hash, at)
		what := fmt.Sprintf("ConsumeCode(consumed code) at ExpiresAt%+v", at.Sub(code.ExpiresAt))
		h.wantErr(what, err, store.ErrCodeUsed)
		var used *store.CodeUsedError
		if errors.As(err, &used) && used.FamilyID != code.FamilyID {
			h.t.Errorf("%s: CodeUsedError.FamilyID = %q, want %q", what, used.FamilyID, code.FamilyID)
		}
	}
}

// testCodeConcurrent: of Concurrency simultaneous consumers exactly one
// wins; the others get ErrCodeUsed.
func testCodeConcurrent(h *harness) {
	u, c := h.user(), h.client()
	code := h.save(h.code(u, c))
	errs := race(Concurrency, func(int) error {
		_, err := h.s.ConsumeCode(h.ctx, code.Hash, t0.Add(time.Second))
		return err
	})
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrCodeUsed):
			h.t.Errorf("concurrent ConsumeCode: %v, want nil or ErrCodeUsed", err)
		}
	}
	if wins != 1 {
		h.t.Errorf("%d of %d concurrent ConsumeCode calls won, want exactly 1", wins, Concurrency)
	}
}

// testFamilyExists: a second family with the same ID is refused.
func testFamilyExists(h *harness) {
	u, c := h.user(), h.client()
	f, _ := h.family(u, c)
	dup := f
	dup.Current = h.hash()
	h.wantErr("CreateFamily(same ID)", h.s.CreateFamily(h.ctx, dup), store.ErrExists)
	// The original is intact: its current token still rotates.
	_, err := h.s.RotateFamily(h.ctx, f.ID, f.Current, h.hash(), t0.Add(time.Second))
	h.noErr("RotateFamily after refused duplicate", err)
}

// testRefreshRotation: a rotation swaps Current, counts, revokes the
// presented token and leaves the rest of the family alone.
func testRefreshRotation(h *harness) {
	u, c := h.user(), h.client()
	f, rt := h.family(u, c)

	want := f
	for i := 1; i <= 3; i++ {
		next := h.token(u, c, store.KindRefresh)
		next.FamilyID = f.ID
		at := t0.Add(time.Duration(i) * time.Minute)
		got, err := h.s.RotateFamily(h.ctx, f.ID, want.Current, next.Hash, at)
		h.noErr(fmt.Sprintf("RotateFamily #%d", i), err)
		want.Current = next.Hash
		want.Rotations = i
		familyDiff(got, want).report(h.t, fmt.Sprintf("family after rotation #%d", i))

		// The presented refresh token is revoked at the rotation.
		old := h.lookup(rt)
		if !old.RevokedAt.Equal(at) {
			h.t.Errorf("rotation #%d: presented token RevokedAt = %v, want %v", i, old.RevokedAt, at)
		}
		rt = h.create(next)
	}
	if got := h.lookup(rt); got.Revoked() {
		h.t.Error("current refresh token is revoked")
	}
}

// testRefreshReuse: presenting a rotated-out token reports ErrReused and
// leaves the family unchanged.
func testRefreshReuse(h *harness) {
	u, c := h.user(), h.client()
	f, _ := h.family(u, c)
	h1 := h.hash()
	_, err := h.s.RotateFamily(h.ctx, f.ID, f.Current, h1, t0.Add(time.Minute))
	h.noErr("RotateFamily", err)

	_, err = h.s.RotateFamily(h.ctx, f.ID, f.Current, h.hash(), t0.Add(2*time.Minute))
	h.wantErr("RotateFamily(rotated-out token)", err, store.ErrReused)
	_, err = h.s.RotateFamily(h.ctx, f.ID, h.hash(), h.hash(), t0.Add(2*time.Minute))
	h.wantErr("RotateFamily(unknown token)", err, store.ErrReused)

	// Unchanged: the current token is still h1, and the counter still 1.
	got, err := h.s.RotateFamily(h.ctx, f.ID, h1, h.hash(), t0.Add(3*time.Minute))
	h.noErr("RotateFamily(current) after reuse", err)
	if got.Rotations != 2 {
		h.t.Errorf("Rotations = %d after a reuse and a rotation, want 2", got.Rotations)
	}
	if got.Revoked() {
		h.t.Error("RotateFamily revoked the family itself; revoking is the caller's call")
	}
}

// testRefreshConcurrent: of Concurrency simultaneous rotations of one
// token exactly one wins, and its next token is the current one.
func testRefreshConcurrent(h *harness) {
	u, c := h.user(), h.client()
	f, _ := h.family(u, c)
	nexts := make([]store.Hash, Concurrency)
	for i := range nexts {
		nexts[i] = h.hash()
	}
	errs := race(Concurrency, func(i int) error {
		_, err := h.s.RotateFamily(h.ctx, f.ID, f.Current, nexts[i], t0.Add(time.Minute))
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				h.t.Errorf("concurrent RotateFamily: callers %d and %d both won", winner, i)
			}
			winner = i
		case !errors.Is(err, store.ErrReused):
			h.t.Errorf("concurrent RotateFamily: %v, want nil or ErrReused", err)
		}
	}
	if winner < 0 {
		h.fatalf("none of %d concurrent RotateFamily calls won", Concurrency)
	}
	got, err := h.s.RotateFamily(h.ctx, f.ID, nexts[winner], h.hash(), t0.Add(2*time.Minute))
	h.noErr("RotateFamily(winner's token)", err)
	if got.Rotations != 2 {
		h.t.Errorf("Rotations = %d, want 2", got.Rotations)
	}
}

// testRevokeFamily: RevokeFamily revokes the family and every token that
// names it, idempotently, and nothing else.
func testRevokeFamily(h *harness) {
	u, c := h.user(), h.client()
	f, old := h.family(u, c)
	// One rotation first: the rotated-out token keeps its revocation time.
	rt := h.token(u, c, store.KindRefresh)
	rt.FamilyID = f.ID
	rotatedAt := t0.Add(time.Minute)
	_, err := h.s.RotateFamily(h.ctx, f.ID, old.Hash, rt.Hash, rotatedAt)
	h.noErr("RotateFamily", err)
	h.create(rt)
	f.Current = rt.Hash
	at := h.token(u, c, store.KindAccess)
	at.FamilyID = f.ID
	h.create(at)
	bystander := h.create(h.token(u, c, store.KindAccess))

	when := t0.Add(time.Hour)
	h.noErr("RevokeFamily", h.s.RevokeFamily(h.ctx, f.ID, when))
	h.noErr("RevokeFamily again (idempotent)", h.s.RevokeFamily(h.ctx, f.ID, when.Add(time.Hour)))
	for _, tok := range []store.Token{rt, at} {
		if got := h.lookup(tok); !got.RevokedAt.Equal(when) {
			h.t.Errorf("%s token of the family: RevokedAt = %v, want %v", tok.Kind, got.RevokedAt, when)
		}
	}
	if got := h.lookup(old); !got.RevokedAt.Equal(rotatedAt) {
		h.t.Errorf("rotated-out token: RevokedAt = %v, want its first revocation %v", got.RevokedAt, rotatedAt)
	}
	_, err = h.s.RotateFamily(h.ctx, f.ID, f.Current, h.hash(), when.Add(time.Minute))
	h.wantErr("RotateFamily(revoked family)", err, store.ErrRevoked)
	tokenDiff(h.lookup(bystander), bystander).report(h.t, "token outside the family")
}

// testRevokeFamilyWithoutRecord: tokens naming a family that has no record
// (a code redeemed without a refresh token) are revoked too.
func testRevokeFamilyWithoutRecord(h *harness) {
	u, c := h.user(), h.client()
	famID := h.id("fam")
	var toks []store.Token
	for range 2 {
		tok := h.token(u, c, store.KindAccess)
		tok.FamilyID = famID
		toks = append(toks, h.create(tok))
	}
	bystander := h.create(h.token(u, c, store.KindAccess))
	when := t0.Add(time.Hour)
	h.noErr("RevokeFamily(no record)", h.s.RevokeFamily(h.ctx, famID, when))
	for i, tok := range toks {
		if got := h.lookup(tok); !got.RevokedAt.Equal(when) {
			h.t.Errorf("token %d naming the family: RevokedAt = %v, want %v", i, got.RevokedAt, when)
		}
	}
	tokenDiff(h.lookup(bystander), bystander).report(h.t, "token outside the family")
}

// testRevokedFamilyRotate: a revoked family never rotates again, not even
// with its current token, and keeps its first revocation time.
func testRevokedFamilyRotate(h *harness) {
	u, c := h.user(), h.client()
	f, _ := h.family(u, c)
	h.noErr("RevokeFamily", h.s.RevokeFamily(h.ctx, f.ID, t0.Add(time.Minute)))
	for i := range 2 {
		_, err := h.s.RotateFamily(h.ctx, f.ID, f.Current, h.hash(), t0.Add(time.Duration(i+2)*time.Minute))
		h.wantErr("RotateFamily(revoked family, current token)", err, store.ErrRevoked)
	}
}

// testDeprovision: RevokeUser revokes every token, family and unredeemed
// code of the user and nothing of anyone else; re-provisioning revives
// nothing.
func testDeprovision(h *harness) {
	c := h.client()
	type estate struct {
		user   store.User
		tokens []store.Token
		fam    store.Family
		code   store.Code
	}
	provision := func() estate {
		e := estate{user: h.user()}
		for _, kind := range []store.Kind{store.KindAPI, store.KindAccess, store.KindSession} {
			e.tokens = append(e.tokens, h.create(h.token(e.user, c, kind)))
		}
		var rt store.Token
		e.fam, rt = h.family(e.user, c)
		e.tokens = append(e.tokens, rt)
		e.code = h.save(h.code(e.user, c))
		return e
	}
	gone, kept := provision(), provision()
	ccToken := h.create(h.token(store.User{OrgID: c.OrgID}, c, store.KindAccess)) // client_credentials
	early := h.create(h.token(gone.user, c, store.KindAPI))                       // revoked before
	earlyAt := t0.Add(time.Minute)
	h.noErr("RevokeToken", h.s.RevokeToken(h.ctx, early.ID, earlyAt))

	when := t0.Add(time.Hour)
	h.noErr("RevokeUser", h.s.RevokeUser(h.ctx, gone.user.ID, when))
	h.noErr("RevokeUser again (idempotent)", h.s.RevokeUser(h.ctx, gone.user.ID, when.Add(time.Minute)))

	checkGone := func(stage string) {
		h.t.Helper()
		for _, tok := range gone.tokens {
			if got := h.lookup(tok); !got.Revoked() {
				h.t.Errorf("%s: %s token of the deprovisioned user is not revoked", stage, tok.Kind)
			}
		}
		_, err := h.s.RotateFamily(h.ctx, gone.fam.ID, gone.fam.Current, h.hash(), when.Add(2*time.Minute))
		h.wantErr(stage+": RotateFamily of the deprovisioned user", err, store.ErrRevoked)
		_, err = h.s.ConsumeCode(h.ctx, gone.code.Hash, t0.Add(time.Second))
		h.wantErr(stage+": ConsumeCode of the deprovisioned user", err, store.ErrNotFound)
	}
	checkGone("after RevokeUser")
	for _, tok := range gone.tokens {
		if got := h.lookup(tok); !got.RevokedAt.Equal(when) {
			h.t.Errorf("%s token: RevokedAt = %v, want %v", tok.Kind, got.RevokedAt, when)
		}
	}
	if got := h.lookup(early); !got.RevokedAt.Equal(earlyAt) {
		h.t.Errorf("token revoked before RevokeUser: RevokedAt = %v, want the first revocation %v", got.RevokedAt, earlyAt)
	}

	// Re-provisioning revives nothing.
	h.noErr("PutUser(re-provision)", h.fx.PutUser(h.ctx, gone.user))
	checkGone("after re-provisioning")

	// Everyone else is untouched.
	for _, tok := range append(kept.tokens, ccToken) {
		tokenDiff(h.lookup(tok), tok).report(h.t, "token of another user after RevokeUser")
	}
	_, err := h.s.RotateFamily(h.ctx, kept.fam.ID, kept.fam.Current, h.hash(), when.Add(time.Minute))
	h.noErr("RotateFamily of another user", err)
	_, err = h.s.ConsumeCode(h.ctx, kept.code.Hash, t0.Add(time.Second))
	h.noErr("ConsumeCode of another user", err)
}

// testZeroTime: a revocation given the zero time still revokes (it is
// recorded as the Unix epoch), and so does the revocation of the presented
// token in a rotation; ExpireToken given the zero time ends the token at
// the epoch; TouchToken given the zero time records nothing. A zero time
// must never turn a revocation into a no-op.
func testZeroTime(h *harness) {
	var zero time.Time
	u, c := h.user(), h.client()

	tok := h.create(h.token(u, c, store.KindAPI))
	h.noErr("RevokeToken(zero time)", h.s.RevokeToken(h.ctx, tok.ID, zero))
	h.noErr("RevokeToken again", h.s.RevokeToken(h.ctx, tok.ID, t0.Add(time.Hour)))
	if got := h.lookup(tok); !got.RevokedAt.Equal(epoch) {
		h.t.Errorf("RevokeToken(zero time): RevokedAt = %v, want the epoch %v and kept", got.RevokedAt, epoch)
	}

	touched := h.token(u, c, store.KindAPI)
	touched.LastUsedAt = t0.Add(time.Minute)
	h.create(touched)
	h.noErr("TouchToken(zero time)", h.s.TouchToken(h.ctx, touched.ID, zero))
	if got := h.lookup(touched); !got.LastUsedAt.Equal(touched.LastUsedAt) {
		h.t.Errorf("TouchToken(zero time): LastUsedAt = %v, want it kept at %v", got.LastUsedAt, touched.LastUsedAt)
	}

	exp := h.create(h.token(u, c, store.KindAPI))
	h.noErr("ExpireToken(zero time)", h.s.ExpireToken(h.ctx, exp.ID, zero))
	if got := h.lookup(exp); !got.ExpiresAt.Equal(epoch) {
		h.t.Errorf("ExpireToken(zero time): ExpiresAt = %v, want the epoch %v", got.ExpiresAt, epoch)
	}

	f, rt := h.family(u, c)
	_, err := h.s.RotateFamily(h.ctx, f.ID, rt.Hash, h.hash(), zero)
	h.noErr("RotateFamily(zero time)", err)
	if got := h.lookup(rt); !got.RevokedAt.Equal(epoch) {
		h.t.Errorf("RotateFamily(zero time): presented token RevokedAt = %v, want the epoch %v", got.RevokedAt, epoch)
	}

	f, rt = h.family(u, c)
	h.noErr("RevokeFamily(zero time)", h.s.RevokeFamily(h.ctx, f.ID, zero))
	if got := h.lookup(rt); !got.RevokedAt.Equal(epoch) {
		h.t.Errorf("RevokeFamily(zero time): token RevokedAt = %v, want the epoch %v", got.RevokedAt, epoch)
	}
	_, err = h.s.RotateFamily(h.ctx, f.ID, f.Current, h.hash(), t0.Add(time.Minute))
	h.wantErr("RotateFamily after RevokeFamily(zero time)", err, store.ErrRevoked)

	gone := h.user()
	goneTok := h.create(h.token(gone, c, store.KindSession))
	goneFam, goneRT := h.family(gone, c)
	goneCode := h.save(h.code(gone, c))
	h.noErr("RevokeUser(zero time)", h.s.RevokeUser(h.ctx, gone.ID, zero))
	for _, tok := range []store.Token{goneTok, goneRT} {
		if got := h.lookup(tok); !got.RevokedAt.Equal(epoch) {
			h.t.Errorf("RevokeUser(zero time): %s token RevokedAt = %v, want the epoch %v", tok.Kind, got.RevokedAt, epoch)
		}
	}
	_, err = h.s.RotateFamily(h.ctx, goneFam.ID, goneFam.Current, h.hash(), t0.Add(time.Minute))
	h.wantErr("RotateFamily after RevokeUser(zero time)", err, store.ErrRevoked)
	_, err = h.s.ConsumeCode(h.ctx, goneCode.Hash, t0.Add(time.Second))
	h.wantErr("ConsumeCode after RevokeUser(zero time)", err, store.ErrNotFound)
}

// testCopies: records returned by the store are copies; changing them, or
// the values passed in, changes nothing stored.
func testCopies(h *harness) {
	u, c := h.user(), h.client()
	want := c
	want.SecretHashes = append([]store.Hash(nil), c.SecretHashes...)
	want.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	want.GrantTypes = append([]string(nil), c.GrantTypes...)
	// Mutate what was passed to PutClient.
	c.SecretHashes[0] = h.hash()
	c.RedirectURIs[0] = "https://evil.example/"
	c.GrantTypes[0] = "password"

	got, err := h.s.Client(h.ctx, want.ID)
	h.noErr("Client", err)
	clientDiff(got, want).report(h.t, "Client after mutating the value passed to PutClient")
	// Mutate what Client returned.
	if len(got.SecretHashes) > 0 && len(got.RedirectURIs) > 0 && len(got.GrantTypes) > 0 {
		got.SecretHashes[0] = h.hash()
		got.RedirectURIs[0] = "https://evil.example/"
		got.GrantTypes[0] = "password"
	}
	got, err = h.s.Client(h.ctx, want.ID)
	h.noErr("Client", err)
	clientDiff(got, want).report(h.t, "Client after mutating a returned Client")

	tok := h.create(h.token(u, c, store.KindAPI))
	list, err := h.s.ListTokens(h.ctx, u.ID)
	h.noErr("ListTokens", err)
	for i := range list {
		list[i].Name = "changed"
		list[i].RevokedAt = t0
		list[i].Hash = store.Hash{}
	}
	tokenDiff(h.lookup(tok), tok).report(h.t, "token after mutating the ListTokens result")
	list, err = h.s.ListTokens(h.ctx, u.ID)
	h.noErr("ListTokens", err)
	if len(list) != 1 {
		h.fatalf("ListTokens = %d tokens, want 1", len(list))
	}
	tokenDiff(list[0], tok).report(h.t, "ListTokens after mutating an earlier result")
}

// testSweeper: DeleteExpired removes tokens, codes and families that
// expired before the given time, at most limit per call, and nothing else;
// given the zero time it removes nothing.
func testSweeper(h *harness) {
	sw, ok := h.s.(store.Sweeper)
	if !ok {
		h.t.Skip("store does not implement store.Sweeper")
	}
	// The sweep runs at its own time, well before the other behaviours'
	// records expire, so that on a shared database it deletes only its own
	// records and leftovers of earlier runs.
	before := time.Date(2026, time.January, 10, 0, 0, 0, 0, time.UTC)
	expired, live := before.Add(-time.Hour), before.Add(time.Hour)
	u, c := h.user(), h.client()

	var oldToks, newToks []store.Token
	for i := range 5 {
		tok := h.token(u, c, store.KindAPI)
		tok.CreatedAt, tok.ExpiresAt = expired.Add(-time.Hour), expired
		if i == 0 {
			tok.RevokedAt = expired // revoked ones are swept too
		}
		oldToks = append(oldToks, h.create(tok))
		tok = h.token(u, c, store.KindAPI)
		tok.CreatedAt, tok.ExpiresAt = expired.Add(-time.Hour), live
		newToks = append(newToks, h.create(tok))
	}
	edge := h.token(u, c, store.KindAPI) // ExpiresAt == before: not before it
	edge.CreatedAt, edge.ExpiresAt = expired.Add(-time.Hour), before
	newToks = append(newToks, h.create(edge))
	ancient := h.token(u, c, store.KindAPI) // before 1970, but after the zero time
	ancient.CreatedAt = time.Date(1960, time.January, 1, 0, 0, 0, 0, time.UTC)
	ancient.ExpiresAt = ancient.CreatedAt.Add(24 * time.Hour)
	oldToks = append(oldToks, h.create(ancient))

	var oldCodes, newCodes []store.Code
	for range 2 {
		code := h.code(u, c)
		code.CreatedAt, code.ExpiresAt = expired.Add(-time.Minute), expired
		oldCodes = append(oldCodes, h.save(code))
		code = h.code(u, c)
		code.CreatedAt, code.ExpiresAt = expired.Add(-time.Minute), live
		newCodes = append(newCodes, h.save(code))
	}
	var oldFams, newFams []store.Family
	for _, exp := range []time.Time{expired, expired, live} {
		f := store.Family{
			ID: h.id("fam"), ClientID: c.ID, UserID: u.ID, OrgID: u.OrgID,
			Scopes: scope.MustParse("read:tasks"), Current: h.hash(),
			CreatedAt: expired.Add(-time.Hour), ExpiresAt: exp,
		}
		h.noErr("CreateFamily", h.s.CreateFamily(h.ctx, f))
		if exp.Equal(expired) {
			oldFams = append(oldFams, f)
		} else {
			newFams = append(newFams, f)
		}
	}
	minDeleted := len(oldToks) + len(oldCodes) + len(oldFams)

	const limit = 3
	// Nothing is before the zero time.
	if n, err := sw.DeleteExpired(h.ctx, time.Time{}, limit); err != nil || n != 0 {
		h.t.Errorf("DeleteExpired(zero time) = %d, %v; want 0, nil", n, err)
	}
	tokenDiff(h.lookup(ancient), ancient).report(h.t, "token of 1960 after DeleteExpired(zero time)")

	total := 0
	for calls := 0; ; calls++ {
		if calls > 1000 {
			h.fatalf("DeleteExpired still deleting after %d calls of limit %d", calls, limit)
		}
		n, err := sw.DeleteExpired(h.ctx, before, limit)
		h.noErr("DeleteExpired", err)
		if n < 0 || n > limit {
			h.fatalf("DeleteExpired(limit %d) = %d", limit, n)
		}
		total += n
		if n < limit {
			break
		}
	}
	if total < minDeleted {
		h.t.Errorf("DeleteExpired deleted %d records in all, want at least %d", total, minDeleted)
	}

	for _, tok := range oldToks {
		_, err := h.s.TokenByHash(h.ctx, tok.Hash)
		h.wantErr("TokenByHash(swept token)", err, store.ErrNotFound)
	}
	for _, tok := range newToks {
		tokenDiff(h.lookup(tok), tok).report(h.t, "token that had not expired before the sweep")
	}
	for _, code := range oldCodes {
		_, err := h.s.ConsumeCode(h.ctx, code.Hash, expired.Add(-time.Second))
		h.wantErr("ConsumeCode(swept code)", err, store.ErrNotFound)
	}
	for _, code := range newCodes {
		_, err := h.s.ConsumeCode(h.ctx, code.Hash, before)
		h.noErr("ConsumeCode(code that had not expired)", err)
	}
	for _, f := range oldFams {
		_, err := h.s.RotateFamily(h.ctx, f.ID, f.Current, h.hash(), expired.Add(-time.Second))
		h.wantErr("RotateFamily(swept family)", err, store.ErrNotFound)
	}
	for _, f := range newFams {
		_, err := h.s.RotateFamily(h.ctx, f.ID, f.Current, h.hash(), before)
		h.noErr("RotateFamily(family that had not expired)", err)
	}
	n, err := sw.DeleteExpired(h.ctx, before, limit)
	if err != nil || n != 0 {
		h.t.Errorf("DeleteExpired after a complete sweep = %d, %v; want 0, nil", n, err)
	}
}

// testClientLister: ListClients returns every client, ordered by ID, as
// copies.
func testClientLister(h *harness) {
	cl, ok := h.s.(store.ClientLister)
	if !ok {
		h.t.Skip("store does not implement store.ClientLister")
	}
	a, b := h.client(), h.client()
	list, err := cl.ListClients(h.ctx)
	h.noErr("ListClients", err)
	for i := 1; i < len(list); i++ {
		if list[i-1].ID >= list[i].ID {
			h.t.Errorf("ListClients not ordered by ID: %q before %q", list[i-1].ID, list[i].ID)
		}
	}
	found := 0
	for i := range list {
		for _, want := range []store.Client{a, b} {
			if list[i].ID == want.ID {
				found++
				clientDiff(list[i], want).report(h.t, "ListClients entry")
				if len(list[i].RedirectURIs) > 0 {
					list[i].RedirectURIs[0] = "https://evil.example/"
				}
			}
		}
	}
	if found != 2 {
		h.t.Errorf("ListClients holds %d of the 2 clients put, want both", found)
	}
	got, err := h.s.Client(h.ctx, a.ID)
	h.noErr("Client", err)
	clientDiff(got, a).report(h.t, "Client after mutating a ListClients entry")
}

// testTokenUsers: TokenAndUserByHash returns the token as TokenByHash does
// and its user as User does, read now: an update of the user shows at
// once; a token without a user, or whose user is unknown, comes with a
// zero User; an unknown hash is ErrNotFound.
func testTokenUsers(h *harness) {
	tu, ok := h.s.(store.TokenUsers)
	if !ok {
		h.t.Skip("store does not implement store.TokenUsers")
	}
	_, _, err := tu.TokenAndUserByHash(h.ctx, h.hash())
	h.wantErr("TokenAndUserByHash(unknown)", err, store.ErrNotFound)

	u, c := h.user(), h.client()
	for _, kind := range []store.Kind{store.KindAPI, store.KindAccess, store.KindSession} {
		tok := h.create(h.token(u, c, kind))
		gotT, gotU, err := tu.TokenAndUserByHash(h.ctx, tok.Hash)
		h.noErr("TokenAndUserByHash("+kind.String()+")", err)
		tokenDiff(gotT, tok).report(h.t, "TokenAndUserByHash("+kind.String()+") token")
		userDiff(gotU, u).report(h.t, "TokenAndUserByHash("+kind.String()+") user")
	}

	// The user as stored now: a demotion or a deactivation shows at once.
	tok := h.create(h.token(u, c, store.KindAPI))
	u.Permissions = scope.MustParse("read:tasks")
	u.Active = false
	h.noErr("PutUser(update)", h.fx.PutUser(h.ctx, u))
	_, gotU, err := tu.TokenAndUserByHash(h.ctx, tok.Hash)
	h.noErr("TokenAndUserByHash(after update)", err)
	userDiff(gotU, u).report(h.t, "TokenAndUserByHash user after update")

	// No user: a client_credentials token, and a token of an unknown user.
	cc := h.create(h.token(store.User{OrgID: c.OrgID}, c, store.KindAccess))
	orphan := h.create(h.token(store.User{ID: h.id("user"), OrgID: u.OrgID}, c, store.KindAPI))
	for name, tok := range map[string]store.Token{"client_credentials token": cc, "token of an unknown user": orphan} {
		gotT, gotU, err := tu.TokenAndUserByHash(h.ctx, tok.Hash)
		h.noErr("TokenAndUserByHash("+name+")", err)
		tokenDiff(gotT, tok).report(h.t, "TokenAndUserByHash("+name+") token")
		userDiff(gotU, store.User{}).report(h.t, "TokenAndUserByHash("+name+") user")
	}
}
