package demo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// Personal API tokens, through JSON (/api/v1/tokens) and the settings page
// (/settings/tokens). Both go through tokenService, so the rules are the
// same: a user manages only their own tokens; a new token's scopes are
// within what the caller holds right now (a session holds the user's
// permissions; an API token holds its own scopes, so a token never mints a
// stronger one, nor one that outlives it); an API token revokes or rotates
// only the tokens it could have made itself (see [mayManage]), so a leaked
// narrow or short-lived token cannot take over, or kill, the user's
// stronger ones; OAuth access tokens and clients cannot manage API tokens
// (a third-party app must not turn its short-lived grant into a long-lived
// token).

// tokenView is an API token as lists show it: never the secret.
type tokenView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func viewToken(t store.Token) tokenView {
	v := tokenView{ID: t.ID, Name: t.Name, Scopes: t.Scopes.Names(), CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
	if !t.LastUsedAt.IsZero() {
		lu := t.LastUsedAt
		v.LastUsedAt = &lu
	}
	if t.Revoked() {
		ra := t.RevokedAt
		v.RevokedAt = &ra
	}
	return v
}

// newTokenView is a token just made: the only time its secret is shown.
type newTokenView struct {
	tokenView
	Token string `json:"token"`
}

type tokenInput struct {
	Name          *string   `json:"name"`
	Scopes        *[]string `json:"scopes"`
	ExpiresInDays *int      `json:"expires_in_days"`
}

const maxTokenDays = 365

var (
	errTokenForbidden = errors.New("API tokens are managed with a web session or an API token of the user, not with an OAuth grant")
	errTokenNotFound  = errors.New("token not found")
)

// beyondCallerError refuses an API token's revocation or rotation of a
// token it could not have made (403).
type beyondCallerError struct{ reason string }

func (e *beyondCallerError) Error() string {
	return "an API token can revoke or rotate only tokens it could have made itself: " + e.reason
}

// mayManage reports whether p may revoke or rotate target. A session (the
// person, signed in) may manage any of the user's tokens. An API token may
// manage only a token it could have made: scopes within its own and an
// expiry no later than its own (a token that never expires only by one
// that never expires either). Rotation keeps the target's scopes and
// expiry, so this is also what keeps a short-lived or narrow token from
// turning a stronger one into a secret it holds.
func mayManage(p token.Principal, target store.Token) error {
	if p.Kind != token.KindAPI {
		return nil
	}
	if !p.Scopes.Satisfies(target.Scopes) {
		return &beyondCallerError{fmt.Sprintf("its scopes (%s) are not within this token's (%s)", target.Scopes, p.Scopes.Minimal())}
	}
	if target.ExpiresAt.After(p.ExpiresAt) {
		return &beyondCallerError{fmt.Sprintf("it expires %s, after this token (%s)", expiry(target.ExpiresAt), expiry(p.ExpiresAt))}
	}
	return nil
}

// expiry names an expiry for an error message.
func expiry(t time.Time) string {
	if t.Equal(token.Never) {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// canManageTokens reports whether p may list, create, revoke and rotate
// API tokens of its user at all; which ones it may revoke and rotate is
// [mayManage]'s answer.
func canManageTokens(p token.Principal) bool {
	return p.UserID != "" && (p.Kind == token.KindSession || p.Kind == token.KindAPI)
}

// listTokens returns the user's live API tokens, newest first.
func (s *server) listTokens(ctx context.Context, userID string) ([]store.Token, error) {
	all, err := s.tokens.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []store.Token
	for i := len(all) - 1; i >= 0; i-- {
		if t := all[i]; s.tokens.Live(t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// ownToken returns the user's API token with the given ID.
func (s *server) ownToken(ctx context.Context, userID, id string) (store.Token, error) {
	all, err := s.tokens.List(ctx, userID)
	if err != nil {
		return store.Token{}, err
	}
	for _, t := range all {
		if t.ID == id && !t.Revoked() {
			return t, nil
		}
	}
	return store.Token{}, errTokenNotFound
}

// createToken checks the request against what p holds and makes the token.
func (s *server) createToken(ctx context.Context, p token.Principal, name string, names []string, days int) (token.Secret, store.Token, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return token.Secret{}, store.Token{}, invalid("name is required")
	case len(name) > 100:
		return token.Secret{}, store.Token{}, invalid("name is longer than 100 bytes")
	case len(names) == 0:
		return token.Secret{}, store.Token{}, invalid("choose at least one scope")
	case days < 1 || days > maxTokenDays:
		return token.Secret{}, store.Token{}, invalid("expires_in_days must be between 1 and %d", maxTokenDays)
	}
	want, err := scopes(names, "scopes")
	if err != nil {
		return token.Secret{}, store.Token{}, invalid("%v", err)
	}
	if !p.Scopes.Satisfies(want) {
		return token.Secret{}, store.Token{}, invalid("you can give a token only scopes you have: %s", p.Scopes.Minimal())
	}
	exp := s.now().Add(time.Duration(days) * 24 * time.Hour)
	if p.Kind == token.KindAPI && !p.ExpiresAt.IsZero() && exp.After(p.ExpiresAt) {
		exp = p.ExpiresAt // a token never outlives the token that made it
	}
	return s.tokens.Create(ctx, token.CreateRequest{UserID: p.UserID, Name: name, Scopes: want, ExpiresAt: exp})
}

// rotateToken replaces a token's secret (same name, scopes and expiry) and
// revokes the old secret at once.
func (s *server) rotateToken(ctx context.Context, p token.Principal, id string) (token.Secret, store.Token, error) {
	old, err := s.ownToken(ctx, p.UserID, id)
	if err != nil {
		return token.Secret{}, store.Token{}, err
	}
	if err := mayManage(p, old); err != nil {
		return token.Secret{}, store.Token{}, err
	}
	if !p.Scopes.Satisfies(old.Scopes) {
		return token.Secret{}, store.Token{}, invalid("you can rotate only tokens within your own scopes")
	}
	return s.tokens.Rotate(ctx, p.UserID, id, 0)
}

// revokeToken revokes one of the user's API tokens, if p may (see
// [mayManage]).
// Revoking a token already revoked succeeds and changes nothing, as
// revocation is idempotent (RFC 7009 §2.2).
func (s *server) revokeToken(ctx context.Context, p token.Principal, id string) error {
	all, err := s.tokens.List(ctx, p.UserID)
	if err != nil {
		return err
	}
	for _, t := range all {
		if t.ID != id {
			continue
		}
		if t.Revoked() {
			return nil
		}
		if err := mayManage(p, t); err != nil {
			return err
		}
		return s.tokens.RevokeForUser(ctx, p.UserID, id)
	}
	return errTokenNotFound
}

// tokenError answers an error of the token service.
func (s *server) tokenError(w http.ResponseWriter, r *http.Request, err error) {
	var ve *validationError
	var be *beyondCallerError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, "invalid_request", ve.Error())
	case errors.As(err, &be):
		writeError(w, http.StatusForbidden, "access_denied", be.Error())
	case errors.Is(err, errTokenNotFound), errors.Is(err, store.ErrNotFound), errors.Is(err, token.ErrInvalid):
		notFound(w, "token")
	case errors.Is(err, token.ErrScopeExceeds):
		writeError(w, http.StatusBadRequest, "invalid_request", "the scopes exceed your permissions")
	case errors.Is(err, token.ErrLifetime):
		writeError(w, http.StatusBadRequest, "invalid_request", "that expiry is not allowed")
	case errors.Is(err, token.ErrUser):
		writeError(w, http.StatusForbidden, "access_denied", "your account is not active")
	default:
		s.log.ErrorContext(r.Context(), "token service failed", "error", err)
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the token store failed; try again")
	}
}

// mountTokensAPI registers /api/v1/tokens.
func (s *server) mountTokensAPI() {
	principal := func(w http.ResponseWriter, r *http.Request) (token.Principal, bool) {
		c, ok := s.call(w, r)
		if !ok {
			return token.Principal{}, false
		}
		if !canManageTokens(c.principal) {
			writeError(w, http.StatusForbidden, "access_denied", errTokenForbidden.Error())
			return token.Principal{}, false
		}
		return c.principal, true
	}
	s.routeAuthenticated("GET /api/v1/tokens", func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		ts, err := s.listTokens(r.Context(), p.UserID)
		if err != nil {
			s.tokenError(w, r, err)
			return
		}
		out := make([]tokenView, 0, len(ts))
		for _, t := range ts {
			out = append(out, viewToken(t))
		}
		writeJSON(w, http.StatusOK, list[tokenView]{Data: out})
	})
	s.routeAuthenticated("POST /api/v1/tokens", func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		var in tokenInput
		if !decodeJSON(w, r, &in) {
			return
		}
		var name string
		if in.Name != nil {
			name = *in.Name
		}
		var names []string
		if in.Scopes != nil {
			names = *in.Scopes
		}
		days := int(token.DefaultAPILifetime / (24 * time.Hour))
		if in.ExpiresInDays != nil {
			days = *in.ExpiresInDays
		}
		sec, rec, err := s.createToken(r.Context(), p, name, names, days)
		if err != nil {
			s.tokenError(w, r, err)
			return
		}
		w.Header().Set("Location", "/api/v1/tokens/"+rec.ID)
		writeJSON(w, http.StatusCreated, newTokenView{tokenView: viewToken(rec), Token: sec.Reveal()})
	})
	s.routeAuthenticated("DELETE /api/v1/tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		if err := s.revokeToken(r.Context(), p, r.PathValue("id")); err != nil {
			s.tokenError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, deleted{ID: r.PathValue("id"), Deleted: true})
	})
	s.routeAuthenticated("POST /api/v1/tokens/{id}/rotate", func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal(w, r)
		if !ok {
			return
		}
		sec, rec, err := s.rotateToken(r.Context(), p, r.PathValue("id"))
		if err != nil {
			s.tokenError(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, newTokenView{tokenView: viewToken(rec), Token: sec.Reveal()})
	})
}

// scopeChoices are the scopes a user may put on a token, for the form.
func scopeChoices(perms scope.Set) []string {
	var out []string
	for _, n := range scope.Default.Names() {
		if perms.Contains(n) {
			out = append(out, n)
		}
	}
	return out
}
