package oauth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// ServeRevoke is the revocation endpoint (RFC 7009 §2). The client
// authenticates as at the token endpoint. Revoking a refresh token revokes
// its whole family, access tokens included; revoking an access token
// revokes that token. Unknown, malformed, expired or already revoked
// tokens, and tokens of another client, get 200 without effect, so the
// endpoint tells nobody whether a token exists (RFC 7009 §2.2). A store
// failure gets 503, never 200 (SECURITY.md S33).
func (s *Server) ServeRevoke(w http.ResponseWriter, r *http.Request) {
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
	if f.token == "" {
		s.writeJSONError(w, r, oerr(ErrInvalidRequest, "token is required"), basic)
		return
	}
	if err := s.revoke(r, c, f.token); err != nil {
		s.writeJSONError(w, r, err, basic)
		return
	}
	h := w.Header()
	h["Cache-Control"] = hvNoStore
	h["Pragma"] = hvNoCache
	w.WriteHeader(http.StatusOK)
}

func (s *Server) revoke(r *http.Request, c store.Client, presented string) error {
	ctx := r.Context()
	rec, err := s.tokens.Lookup(ctx, presented)
	if err != nil {
		if errors.Is(err, token.ErrUnavailable) {
			return unavailable(err)
		}
		return nil // malformed or unknown: nothing to do
	}
	if rec.ClientID != c.ID {
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: client tried to revoke another client's token",
			slog.String("client", c.ID), slog.String("token_id", rec.ID))
		return nil
	}
	now := s.now()
	switch {
	case rec.Kind == token.KindRefresh && rec.FamilyID != "":
		if err := s.st.RevokeFamily(ctx, rec.FamilyID, now); err != nil {
			return unavailable(err)
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "oauth: refresh token revoked with its family",
			slog.String("client", c.ID), slog.String("user", rec.UserID), slog.String("org", rec.OrgID),
			slog.String("token_id", rec.ID), slog.String("family", rec.FamilyID))
	case rec.Kind == token.KindAccess:
		if err := s.st.RevokeToken(ctx, rec.ID, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return unavailable(err)
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "oauth: access token revoked",
			slog.String("client", c.ID), slog.String("user", rec.UserID), slog.String("org", rec.OrgID),
			slog.String("token_id", rec.ID))
	}
	return nil
}

// ServeIntrospect is the introspection endpoint (RFC 7662 §2). The caller
// authenticates as a confidential client at the token endpoint would; a
// client named in Config.Introspectors (a resource server) may introspect
// any token, any other client only its own.
// A token that is not valid right now — unknown, malformed, expired,
// revoked, of a deprovisioned user — gets exactly {"active":false}; a
// store failure gets 503, never "active":true (SECURITY.md S34).
// Access and API tokens are checked with [token.Manager.Verify], so the
// scope reported is the token's scope narrowed by the user's current
// permissions.
func (s *Server) ServeIntrospect(w http.ResponseWriter, r *http.Request) {
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
	if c.Public {
		s.writeJSONError(w, r, oerr(ErrUnauthorizedClient, "public clients cannot introspect"), basic)
		return
	}
	if f.token == "" {
		s.writeJSONError(w, r, oerr(ErrInvalidRequest, "token is required"), basic)
		return
	}
	resp, err := s.introspect(r, f.token)
	if err != nil {
		s.writeJSONError(w, r, err, basic)
		return
	}
	if resp.Active && resp.ClientID != c.ID && !s.introspectors[c.ID] {
		resp = introspection{} // another client's token: nothing to learn here
	}
	h := w.Header()
	h["Content-Type"] = hvJSON
	h["Cache-Control"] = hvNoStore
	h["Pragma"] = hvNoCache
	w.WriteHeader(http.StatusOK)
	if !resp.Active {
		_, _ = w.Write([]byte(`{"active":false}`))
		return
	}
	b, err := json.Marshal(resp)
	if err != nil { // cannot happen with these field types
		_, _ = w.Write([]byte(`{"active":false}`))
		return
	}
	_, _ = w.Write(b)
}

// introspection is an RFC 7662 §2.2 response.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	// Sub is the user; a client_credentials token has none, so a client is
	// never taken for a user (SECURITY.md S25).
	Sub   string `json:"sub,omitempty"`
	Iss   string `json:"iss,omitempty"`
	OrgID string `json:"org_id,omitempty"`
	JTI   string `json:"jti,omitempty"` // the token's public ID
}

func (s *Server) introspect(r *http.Request, presented string) (introspection, error) {
	ctx := r.Context()
	k, err := token.Parse(presented)
	if err != nil {
		return introspection{}, nil
	}
	switch k {
	case token.KindAPI:
		p, err := s.tokens.Verify(ctx, presented)
		if err != nil {
			if errors.Is(err, token.ErrUnavailable) {
				return introspection{}, unavailable(err)
			}
			return introspection{}, nil
		}
		out := introspection{
			Active: true, Scope: p.Scopes.String(), ClientID: p.ClientID, TokenType: "Bearer",
			Exp: p.ExpiresAt.Unix(), Sub: p.UserID, Iss: s.issuer, OrgID: p.OrgID, JTI: p.TokenID,
		}
		return out, nil
	case token.KindRefresh:
		rec, err := s.tokens.Lookup(ctx, presented)
		if err != nil {
			if errors.Is(err, token.ErrUnavailable) {
				return introspection{}, unavailable(err)
			}
			return introspection{}, nil
		}
		if rec.Kind != token.KindRefresh || rec.Revoked() || !s.now().Before(rec.ExpiresAt) {
			return introspection{}, nil
		}
		u, err := s.activeUser(ctx, rec.UserID, rec.OrgID)
		if err != nil {
			var ue *unavailableError
			if errors.As(err, &ue) {
				return introspection{}, err
			}
			return introspection{}, nil
		}
		return introspection{
			Active: true, Scope: rec.Scopes.Narrow(u.Permissions).String(), ClientID: rec.ClientID,
			TokenType: "refresh_token", Exp: rec.ExpiresAt.Unix(), Iat: rec.CreatedAt.Unix(),
			Sub: rec.UserID, Iss: s.issuer, OrgID: rec.OrgID, JTI: rec.ID,
		}, nil
	}
	return introspection{}, nil
}

// ServeMetadata serves the authorization server metadata (RFC 8414 §3),
// advertising exactly what this server does.
func (s *Server) ServeMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Content-Length", strconv.Itoa(len(s.metadata)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(s.metadata)
	}
}

// Metadata is the RFC 8414 §2 authorization server metadata this server
// publishes. Each field is the RFC 8414 §2 member named in its JSON tag.
type Metadata struct {
	// Issuer is the issuer identifier, Config.Issuer.
	Issuer string `json:"issuer"`
	// AuthorizationEndpoint is the URL of the authorization endpoint;
	// empty (omitted) when the authorization code grant is not enabled.
	AuthorizationEndpoint string `json:"authorization_endpoint,omitempty"`
	// TokenEndpoint is the URL of the token endpoint.
	TokenEndpoint string `json:"token_endpoint"`
	// RevocationEndpoint is the URL of the revocation endpoint (RFC 7009).
	RevocationEndpoint string `json:"revocation_endpoint"`
	// IntrospectionEndpoint is the URL of the introspection endpoint
	// (RFC 7662).
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	// ScopesSupported are the names of the scope registry's scopes.
	ScopesSupported []string `json:"scopes_supported"`
	// ResponseTypesSupported is ["code"], or empty when the authorization
	// code grant is not enabled: there is no implicit grant.
	ResponseTypesSupported []string `json:"response_types_supported"`
	// ResponseModesSupported is ["query"] with the authorization code
	// grant, else empty (omitted).
	ResponseModesSupported []string `json:"response_modes_supported,omitempty"`
	// GrantTypesSupported are the enabled grants (Config.GrantTypes).
	GrantTypesSupported []string `json:"grant_types_supported"`
	// TokenEndpointAuthMethodsSupported are client_secret_basic and
	// client_secret_post, and none (public clients) with the
	// authorization code grant.
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// RevocationEndpointAuthMethodsSupported are the same methods as at
	// the token endpoint.
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	// IntrospectionEndpointAuthMethodsSupported are client_secret_basic
	// and client_secret_post: public clients cannot introspect.
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	// CodeChallengeMethodsSupported is ["S256"] with the authorization
	// code grant (RFC 7636 §4.2; plain is never accepted), else empty.
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`
	// AuthorizationResponseIssParameterSupported says that every
	// authorization response carries iss (RFC 9207 §3); true with the
	// authorization code grant.
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`
}

// Metadata returns the metadata the server publishes at Paths.Metadata.
func (s *Server) Metadata() Metadata {
	var m Metadata
	_ = json.Unmarshal(s.metadata, &m)
	return m
}

func (s *Server) buildMetadata() []byte {
	m := Metadata{
		Issuer:                                    s.issuer,
		TokenEndpoint:                             s.origin + s.paths.Token,
		RevocationEndpoint:                        s.origin + s.paths.Revoke,
		IntrospectionEndpoint:                     s.origin + s.paths.Introspect,
		ScopesSupported:                           s.reg.Names(),
		ResponseTypesSupported:                    []string{},
		GrantTypesSupported:                       []string{},
		TokenEndpointAuthMethodsSupported:         []string{"client_secret_basic", "client_secret_post"},
		RevocationEndpointAuthMethodsSupported:    []string{"client_secret_basic", "client_secret_post"},
		IntrospectionEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
	}
	if s.grants.code {
		m.AuthorizationEndpoint = s.origin + s.paths.Authorize
		m.ResponseTypesSupported = []string{"code"}
		m.ResponseModesSupported = []string{"query"}
		m.GrantTypesSupported = append(m.GrantTypesSupported, GrantAuthorizationCode)
		m.TokenEndpointAuthMethodsSupported = append(m.TokenEndpointAuthMethodsSupported, "none")
		m.RevocationEndpointAuthMethodsSupported = append(m.RevocationEndpointAuthMethodsSupported, "none")
		m.CodeChallengeMethodsSupported = []string{"S256"}
		m.AuthorizationResponseIssParameterSupported = true
	}
	if s.grants.refresh {
		m.GrantTypesSupported = append(m.GrantTypesSupported, GrantRefreshToken)
	}
	if s.grants.cc {
		m.GrantTypesSupported = append(m.GrantTypesSupported, GrantClientCredentials)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err) // only strings and slices of strings
	}
	return b
}
