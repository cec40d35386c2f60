package oauth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// ServeToken is the token endpoint (RFC 6749 §3.2): POST with a form body,
// grants authorization_code (with PKCE, RFC 7636 §4.5-4.6), refresh_token (rotated
// on every use) and client_credentials.
func (s *Server) ServeToken(w http.ResponseWriter, r *http.Request) {
	defer s.recoverJSON(w, r)
	f, err := readForm(w, r)
	if err != nil {
		s.writeJSONError(w, r, err, false)
		return
	}
	c, basic, err := s.authenticateClient(r, &f)
	if err != nil {
		s.writeJSONError(w, r, err, basic)
		return
	}
	out, err := s.grant(r.Context(), c, &f)
	if err != nil {
		s.writeJSONError(w, r, err, basic)
		return
	}
	writeTokens(w, &out)
}

// issued is what a successful grant hands to the client.
type issued struct {
	access   token.Secret
	lifetime time.Duration
	refresh  token.Secret // zero when no refresh token is issued
	scopes   scope.Set
}

func (s *Server) grant(ctx context.Context, c store.Client, f *form) (issued, error) {
	gt := f.grantType
	switch gt {
	case "":
		return issued{}, oerr(ErrInvalidRequest, "grant_type is required")
	case GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials:
		if !s.grants.has(gt) {
			return issued{}, oerr(ErrUnsupportedGrantType, "unsupported grant_type")
		}
	default:
		return issued{}, oerr(ErrUnsupportedGrantType, "unsupported grant_type")
	}
	if !slices.Contains(c.GrantTypes, gt) {
		return issued{}, oerr(ErrUnauthorizedClient, "the client may not use this grant_type")
	}
	switch gt {
	case GrantAuthorizationCode:
		return s.grantCode(ctx, c, f)
	case GrantRefreshToken:
		return s.grantRefresh(ctx, c, f)
	default:
		return s.grantClientCredentials(ctx, c, f)
	}
}

// grantClientCredentials: RFC 6749 §4.4. Confidential clients only, no
// refresh token; the token's subject is the client (empty UserID), acting
// in the client's organization (SECURITY.md S25).
func (s *Server) grantClientCredentials(ctx context.Context, c store.Client, f *form) (issued, error) {
	if c.Public {
		return issued{}, oerr(ErrUnauthorizedClient, "public clients cannot use client_credentials")
	}
	requested, err := s.requestedScope(f.scope)
	if err != nil {
		return issued{}, err
	}
	granted := requested.Narrow(c.Scopes)
	if granted.IsEmpty() {
		return issued{}, oerr(ErrInvalidScope, "no requested scope is allowed for this client")
	}
	sec, rec, err := s.tokens.Issue(ctx, token.IssueRequest{
		Kind: token.KindAccess, ClientID: c.ID, OrgID: c.OrgID, Scopes: granted,
	})
	if err != nil {
		return issued{}, issueErr(err)
	}
	return issued{access: sec, lifetime: rec.ExpiresAt.Sub(rec.CreatedAt), scopes: granted}, nil
}

// grantCode: RFC 6749 §4.1.3 with RFC 7636 §4.5–4.6.
func (s *Server) grantCode(ctx context.Context, c store.Client, f *form) (issued, error) {
	if f.code == "" {
		return issued{}, oerr(ErrInvalidRequest, "code is required")
	}
	if f.redirectURI == "" {
		return issued{}, oerr(ErrInvalidRequest, "redirect_uri is required")
	}
	if f.verifier != "" && !validVerifier(f.verifier) {
		return issued{}, errBadCode
	}
	if k, err := token.Parse(f.code); err != nil || k != token.KindCode {
		return issued{}, errBadCode
	}
	now := s.now()
	h := token.Hash(f.code)
	code, err := s.st.ConsumeCode(ctx, h, now)
	if err != nil {
		var used *store.CodeUsedError
		switch {
		case errors.As(err, &used):
			// A second redemption: whoever holds the code now may have
			// stolen it, so everything the first redemption issued dies
			// (RFC 6749 §4.1.2, SECURITY.md S22).
			s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: authorization code reused; revoking its grant",
				slog.String("client", c.ID), slog.String("code_client", used.ClientID),
				slog.String("user", used.UserID), slog.String("org", used.OrgID),
				slog.String("family", used.FamilyID))
			if used.FamilyID != "" {
				if err := s.revokeReplayed(ctx, used.FamilyID, now); err != nil {
					return issued{}, unavailable(err)
				}
			}
			return issued{}, errBadCode
		case errors.Is(err, store.ErrNotFound):
			return issued{}, errBadCode
		default:
			return issued{}, unavailable(err)
		}
	}
	if subtle.ConstantTimeCompare(code.Hash[:], h[:]) != 1 || code.ExpiresAt.IsZero() ||
		!now.Before(code.ExpiresAt) || code.FamilyID == "" || code.UserID == "" {
		return issued{}, errBadCode
	}
	if code.ClientID != c.ID || code.RedirectURI != f.redirectURI {
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: authorization code presented by another client or with another redirect_uri",
			slog.String("client", c.ID), slog.String("user", code.UserID), slog.String("org", code.OrgID))
		return issued{}, errBadCode
	}
	if code.Challenge == "" {
		// A verifier for a code issued without a challenge is refused
		// (RFC 9700 §4.8.2), as is a code without PKCE where PKCE is
		// required.
		if f.verifier != "" || c.Public || !s.noPKCE {
			return issued{}, errBadCode
		}
	} else {
		if f.verifier == "" {
			return issued{}, errBadCode
		}
		sum := token.Hash(f.verifier) // SHA-256, without copying the string
		var enc [43]byte
		base64.RawURLEncoding.Encode(enc[:], sum[:])
		if subtle.ConstantTimeCompare(enc[:], []byte(code.Challenge)) != 1 {
			return issued{}, errBadCode
		}
	}
	u, err := s.activeUser(ctx, code.UserID, code.OrgID)
	if err != nil {
		return issued{}, err
	}
	granted := code.Scopes.Narrow(u.Permissions, c.Scopes)
	if granted.IsEmpty() {
		return issued{}, oerr(ErrInvalidGrant, "the grant no longer covers any scope")
	}
	withRefresh := s.grants.refresh && slices.Contains(c.GrantTypes, GrantRefreshToken)
	out, err := s.issueNewGrant(ctx, c, u, code.FamilyID, granted, now, withRefresh)
	if err != nil {
		return issued{}, err
	}
	// Read the user again after the writes: a deprovisioning (deactivated
	// in the directory, then RevokeUser) that ran between the check above
	// and the writes revoked none of them, and re-provisioning would
	// revive them (SECURITY.md S45). Nothing is handed out then.
	if _, err := s.activeUser(ctx, u.ID, u.OrgID); err != nil {
		s.discardFamily(ctx, code.FamilyID, now)
		return issued{}, err
	}
	return out, nil
}

var errBadCode = oerr(ErrInvalidGrant, "invalid authorization code")

// issueNewGrant issues the access token, and the refresh token when
// withRefresh, of a redeemed code, and then records their family.
//
// A replay of the code racing this redemption first records the family as
// revoked, then revokes it (see revokeReplayed). Whatever the
// interleaving, nothing issued here stays live (SECURITY.md S22): if the
// replay's record comes first, creating the family fails and what was
// issued is revoked; if it comes after, every token already exists and
// carries the family, and the replay's revocation takes them all. Either
// way this, the first redemption, is the one 200 (S23).
func (s *Server) issueNewGrant(ctx context.Context, c store.Client, u store.User, family string, granted scope.Set, now time.Time, withRefresh bool) (issued, error) {
	access, arec, err := s.tokens.Issue(ctx, token.IssueRequest{
		Kind: token.KindAccess, ClientID: c.ID, UserID: u.ID, OrgID: u.OrgID, FamilyID: family, Scopes: granted,
	})
	if err != nil {
		return issued{}, issueErr(err)
	}
	out := issued{access: access, lifetime: arec.ExpiresAt.Sub(arec.CreatedAt), scopes: granted}
	var current store.Hash
	if withRefresh {
		refresh, rrec, err := s.tokens.Issue(ctx, token.IssueRequest{
			Kind: token.KindRefresh, ClientID: c.ID, UserID: u.ID, OrgID: u.OrgID, FamilyID: family,
			Scopes: granted, ExpiresAt: now.Add(s.idle),
		})
		if err != nil {
			s.discardFamily(ctx, family, now)
			return issued{}, issueErr(err)
		}
		out.refresh, current = refresh, rrec.Hash
	}
	err = s.st.CreateFamily(ctx, store.Family{
		ID: family, ClientID: c.ID, UserID: u.ID, OrgID: u.OrgID, Scopes: granted,
		Current: current, CreatedAt: now, ExpiresAt: now.Add(s.maxLife),
	})
	if errors.Is(err, store.ErrExists) {
		// A replay of the code got there first and revoked the family.
		// This redemption was the first use, so it answers as one (RFC 6749
		// §4.1.2 denies the second), but what it issued is revoked with the
		// family, as if the replay had come a moment later. The replay's
		// own revocation may have run before these tokens existed, so if
		// this one fails nothing is handed out.
		if err := s.st.RevokeFamily(ctx, family, now); err != nil {
			return issued{}, unavailable(err)
		}
		return out, nil
	}
	if err != nil {
		s.discardFamily(ctx, family, now)
		return issued{}, unavailable(err)
	}
	return out, nil
}

// revokeReplayed revokes everything the first redemption of a replayed
// code issued. It first leaves a revoked family record, so a first
// redemption still in flight cannot create its family afterwards.
func (s *Server) revokeReplayed(ctx context.Context, family string, now time.Time) error {
	err := s.st.CreateFamily(ctx, store.Family{ID: family, CreatedAt: now, ExpiresAt: now.Add(s.maxLife), RevokedAt: now})
	if err != nil && !errors.Is(err, store.ErrExists) {
		// The tombstone only closes a race; revoking below is what counts.
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: recording a revoked family failed",
			slog.String("family", family), slog.String("error", err.Error()))
	}
	return s.st.RevokeFamily(ctx, family, now)
}

// discardFamily revokes what was issued for a family that will not be
// handed out. Best effort: the tokens never left the server.
func (s *Server) discardFamily(ctx context.Context, family string, now time.Time) {
	if err := s.st.RevokeFamily(ctx, family, now); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "oauth: revoking an unissued grant failed",
			slog.String("family", family), slog.String("error", err.Error()))
	}
}

// grantRefresh: RFC 6749 §6 with rotation on every use (RFC 9700 §4.14.2).
func (s *Server) grantRefresh(ctx context.Context, c store.Client, f *form) (issued, error) {
	if f.refreshToken == "" {
		return issued{}, oerr(ErrInvalidRequest, "refresh_token is required")
	}
	rec, err := s.tokens.Lookup(ctx, f.refreshToken)
	if err != nil {
		if errors.Is(err, token.ErrUnavailable) {
			return issued{}, unavailable(err)
		}
		return issued{}, errBadRefresh
	}
	if rec.Kind != token.KindRefresh || rec.FamilyID == "" || rec.UserID == "" {
		return issued{}, errBadRefresh
	}
	if rec.ClientID != c.ID {
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: refresh token presented by another client",
			slog.String("client", c.ID), slog.String("token_id", rec.ID),
			slog.String("user", rec.UserID), slog.String("org", rec.OrgID))
		return issued{}, errBadRefresh
	}
	now := s.now()
	if rec.Revoked() {
		// A revoked refresh token: the whole family dies (S29), whatever
		// revoked it. Which event to log depends on why it was revoked.
		s.logRevokedRefresh(ctx, c, &rec, now)
		if err := s.st.RevokeFamily(ctx, rec.FamilyID, now); err != nil {
			return issued{}, unavailable(err)
		}
		return issued{}, errBadRefresh
	}
	if !now.Before(rec.ExpiresAt) {
		return issued{}, errBadRefresh
	}
	requested := rec.Scopes
	if f.scope != "" {
		req, err := s.parseScope(f.scope)
		if err != nil {
			return issued{}, err
		}
		if !rec.Scopes.Satisfies(req) {
			return issued{}, oerr(ErrInvalidScope, "the requested scope exceeds the original grant")
		}
		requested = req
	}
	u, err := s.activeUser(ctx, rec.UserID, rec.OrgID)
	if err != nil {
		return issued{}, err
	}
	granted := requested.Narrow(u.Permissions, c.Scopes)
	if granted.IsEmpty() {
		return issued{}, oerr(ErrInvalidGrant, "the grant no longer covers any scope")
	}

	// Issue the new pair, then swap the family's current refresh token
	// (compare-and-swap). Only the winner hands its pair out.
	access, arec, err := s.tokens.Issue(ctx, token.IssueRequest{
		Kind: token.KindAccess, ClientID: c.ID, UserID: u.ID, OrgID: u.OrgID, FamilyID: rec.FamilyID, Scopes: granted,
	})
	if err != nil {
		return issued{}, issueErr(err)
	}
	refresh, rrec, err := s.tokens.Issue(ctx, token.IssueRequest{
		Kind: token.KindRefresh, ClientID: c.ID, UserID: u.ID, OrgID: u.OrgID, FamilyID: rec.FamilyID,
		Scopes: rec.Scopes, ExpiresAt: now.Add(s.idle),
	})
	if err != nil {
		s.discardTokens(ctx, now, arec.ID)
		return issued{}, issueErr(err)
	}
	fam, err := s.st.RotateFamily(ctx, rec.FamilyID, rec.Hash, rrec.Hash, now)
	if err != nil {
		s.discardTokens(ctx, now, arec.ID, rrec.ID)
		switch {
		case errors.Is(err, store.ErrReused):
			// The token was current when we read it, and another refresh
			// with it rotated the family since: a client racing itself
			// (two tabs, a retry). The loser gets nothing; presenting the
			// token again later is reuse and revokes the family.
			s.log.LogAttrs(ctx, slog.LevelInfo, "oauth: concurrent refresh lost the race",
				slog.String("client", c.ID), slog.String("user", rec.UserID), slog.String("family", rec.FamilyID))
			return issued{}, errBadRefresh
		case errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrNotFound):
			return issued{}, errBadRefresh
		default:
			return issued{}, unavailable(err)
		}
	}
	if fam.ID != rec.FamilyID || fam.ClientID != c.ID || fam.UserID != rec.UserID ||
		fam.ExpiresAt.IsZero() || !now.Before(fam.ExpiresAt) {
		// The family reached its absolute end (or the record is unsound).
		s.discardFamily(ctx, rec.FamilyID, now)
		return issued{}, errBadRefresh
	}
	if fam.ExpiresAt.Before(rrec.ExpiresAt) {
		// Fail closed: an uncapped record would outlive its family (and
		// introspect as active after the family ended). The grant ends a
		// little early instead; it had less than an idle timeout left.
		if err := s.st.ExpireToken(ctx, rrec.ID, fam.ExpiresAt); err != nil {
			s.discardFamily(ctx, rec.FamilyID, now)
			return issued{}, unavailable(err)
		}
	}
	return issued{access: access, lifetime: arec.ExpiresAt.Sub(arec.CreatedAt), refresh: refresh, scopes: granted}, nil
}

var errBadRefresh = oerr(ErrInvalidGrant, "invalid refresh token")

// logRevokedRefresh logs the presentation of a revoked refresh token, as
// reuse when it was rotated out of a family that is still live: whoever
// holds it may have stolen it (RFC 9700 §4.14.2, SECURITY.md S52).
// Otherwise the token was revoked with its family — at the revocation
// endpoint, by deprovisioning, or by an earlier detected reuse — or on its
// own, and presenting it is a lesser event: an app still holding a token
// its grant lost.
//
// The token record alone does not tell the two apart; the family does,
// and RotateFamily, a compare-and-swap, is the store call that reads it:
// a rotated-out token answers ErrReused and a revoked family ErrRevoked,
// both changing nothing. Only a token revoked on its own that is still its
// live family's current one passes the comparison; the swap to the zero
// hash, which no secret has, then ends the family, which the caller
// revokes next anyway. The probe is on this failure path only; a store
// error is logged as reuse (the worse case) and changes nothing else.
func (s *Server) logRevokedRefresh(ctx context.Context, c store.Client, rec *store.Token, now time.Time) {
	_, err := s.st.RotateFamily(ctx, rec.FamilyID, rec.Hash, store.Hash{}, now)
	attrs := []slog.Attr{
		slog.String("client", c.ID), slog.String("user", rec.UserID), slog.String("org", rec.OrgID),
		slog.String("token_id", rec.ID), slog.String("family", rec.FamilyID),
	}
	switch {
	case err == nil, errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrNotFound):
		s.log.LogAttrs(ctx, slog.LevelInfo, "oauth: revoked refresh token presented; revoking its family", attrs...)
	case errors.Is(err, store.ErrReused):
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: refresh token reused; revoking its family", attrs...)
	default:
		attrs = append(attrs, slog.String("error", err.Error()))
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: refresh token reused; revoking its family", attrs...)
	}
}

// discardTokens revokes tokens that were issued but will not be handed out.
func (s *Server) discardTokens(ctx context.Context, now time.Time, ids ...string) {
	for _, id := range ids {
		if err := s.st.RevokeToken(ctx, id, now); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "oauth: revoking an unissued token failed",
				slog.String("token_id", id), slog.String("error", err.Error()))
		}
	}
}

// activeUser returns the user if the directory says they are active in org.
func (s *Server) activeUser(ctx context.Context, id, org string) (store.User, error) {
	u, err := s.dir.User(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, oerr(ErrInvalidGrant, "the user is not active")
		}
		return store.User{}, unavailable(err)
	}
	if u.ID != id || !u.Active || (org != "" && u.OrgID != org) {
		return store.User{}, oerr(ErrInvalidGrant, "the user is not active")
	}
	return u, nil
}

// requestedScope parses the scope parameter; omitted means
// Config.DefaultScope, and an empty result is invalid_scope.
func (s *Server) requestedScope(param string) (scope.Set, error) {
	if param == "" {
		if s.defScope.IsEmpty() {
			return scope.Set{}, oerr(ErrInvalidScope, "scope is required")
		}
		return s.defScope, nil
	}
	return s.parseScope(param)
}

func (s *Server) parseScope(param string) (scope.Set, error) {
	if len(param) > maxScopeLen || strings.Count(param, " ") >= maxScopes {
		return scope.Set{}, oerr(ErrInvalidRequest, "too many scopes")
	}
	set, err := s.reg.Parse(param)
	if err != nil {
		return scope.Set{}, oerr(ErrInvalidScope, "unknown or malformed scope")
	}
	return set, nil
}

// validVerifier reports whether v is in the code_verifier grammar of RFC
// 7636 §4.1: 43 to 128 characters of [A-Za-z0-9-._~].
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// validChallenge reports whether c is an S256 code_challenge: 43
// base64url characters without padding (RFC 7636 §4.2).
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

func issueErr(err error) error {
	if errors.Is(err, token.ErrUnavailable) {
		return unavailable(err)
	}
	return err
}

// writeTokens writes a successful token response (RFC 6749 §5.1) in the
// shape of Tapioca's API documentation.
func writeTokens(w http.ResponseWriter, out *issued) {
	h := w.Header()
	h["Content-Type"] = hvJSON
	h["Cache-Control"] = hvNoStore
	h["Pragma"] = hvNoCache
	scopes := out.scopes.String()
	b := make([]byte, 0, 192+len(scopes))
	b = append(b, `{"access_token":"`...)
	b = append(b, out.access.Reveal()...)
	b = append(b, `","token_type":"Bearer","expires_in":`...)
	b = strconv.AppendInt(b, int64(out.lifetime/time.Second), 10)
	if !out.refresh.IsZero() {
		b = append(b, `,"refresh_token":"`...)
		b = append(b, out.refresh.Reveal()...)
		b = append(b, '"')
	}
	b = append(b, `,"scope":"`...)
	b = append(b, scopes...) // RFC 6749 §3.3 scope tokens: no quote, no backslash
	b = append(b, `"}`...)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
