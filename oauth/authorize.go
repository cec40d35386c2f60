package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/token"
)

// consentTTL is how long a rendered consent page can be submitted.
const consentTTL = 30 * time.Minute

// authzRequest is an authorization request whose client and redirect URI
// were verified.
type authzRequest struct {
	client      store.Client
	redirectURI string
	state       string
	scopeParam  string
	challenge   string
	method      string
	requested   scope.Set
}

// pageError is an authorization request error shown on an error page,
// because the redirect URI could not be trusted (RFC 6749 §4.1.2.1).
type pageError struct {
	status int
	msg    string
}

// ServeAuthorize is the authorization endpoint (RFC 6749 §3.1, §4.1.1) for
// response_type=code with PKCE S256 (RFC 7636 §4.3). GET starts an authorization
// request: nobody signed in → the host's login page; a remembered consent
// covering the scope → a code at once; else the consent page. POST is the
// consent page's answer, checked against its CSRF token.
//
// Until the client and its redirect URI are verified, errors are shown on
// an error page, never redirected; after that they go back to the client
// with error, state and iss (RFC 9207 §2). Every page denies framing.
func (s *Server) ServeAuthorize(w http.ResponseWriter, r *http.Request) {
	if !s.grants.code {
		http.NotFound(w, r)
		return
	}
	defer s.recoverPage(w, r)
	h := w.Header()
	h["X-Frame-Options"] = hvDeny
	h["Content-Security-Policy"] = hvFrameNone
	h["Referrer-Policy"] = hvNoReferrer
	h["Cache-Control"] = hvNoStore

	var q params
	var err error
	post := false
	switch r.Method {
	case http.MethodGet:
		q, err = parseParams(r.URL.RawQuery)
	case http.MethodPost:
		post = true
		if r.URL.RawQuery != "" {
			err = errors.New("query on POST")
			break
		}
		var body []byte
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err == nil {
			q, err = parseParams(string(body))
		}
	default:
		h.Set("Allow", "GET, POST")
		s.errorPage(w, pageError{http.StatusMethodNotAllowed, "This method is not allowed here."})
		return
	}
	if err != nil {
		s.errorPage(w, pageError{http.StatusBadRequest, "The authorization request is malformed."})
		return
	}
	var a authzRequest
	if perr := s.verifyClient(r.Context(), &q, &a); perr != nil {
		s.errorPage(w, *perr)
		return
	}
	if oe := s.checkAuthorize(&q, &a); oe != nil {
		s.redirectError(w, r, &a, oe, post)
		return
	}

	sess, err := s.host.Session(r)
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "oauth: host session lookup failed", slog.String("error", err.Error()))
		s.redirectError(w, r, &a, oerr(ErrServerError, "internal error"), post)
		return
	}
	if sess.UserID != "" && sess.ID == "" {
		// The consent page's CSRF token is bound to the session ID; without
		// one it would be bound to the user alone, and a form rendered in
		// any of the user's sessions would pass in any other. A host bug:
		// fail closed (see [Session]).
		s.log.LogAttrs(r.Context(), slog.LevelError, "oauth: Host.Session returned a UserID without a session ID; refusing the request",
			slog.String("client", a.client.ID), slog.String("user", sess.UserID))
		s.redirectError(w, r, &a, oerr(ErrServerError, "internal error"), post)
		return
	}
	if sess.UserID == "" {
		login, err := s.host.LoginURL(r, s.paths.Authorize+"?"+a.query().Encode())
		if err != nil || login == "" {
			s.log.LogAttrs(r.Context(), slog.LevelError, "oauth: host login URL failed")
			s.redirectError(w, r, &a, oerr(ErrServerError, "internal error"), post)
			return
		}
		h.Set("Location", login)
		w.WriteHeader(redirectStatus(post))
		return
	}
	u, err := s.dir.User(r.Context(), sess.UserID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.redirectError(w, r, &a, unavailable(err), post)
		return
	}
	if err != nil || u.ID != sess.UserID || !u.Active {
		s.redirectError(w, r, &a, oerr(ErrAccessDenied, "the user cannot authorize this request"), post)
		return
	}
	granted := a.requested.Narrow(a.client.Scopes, u.Permissions)
	if granted.IsEmpty() {
		s.redirectError(w, r, &a, oerr(ErrInvalidScope, "none of the requested scopes can be granted"), post)
		return
	}

	if post {
		if !s.checkCSRF(q.v[pCSRF], sess, &a, granted) {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "oauth: consent submitted without a valid CSRF token",
				slog.String("client", a.client.ID), slog.String("user", u.ID), slog.String("org", u.OrgID))
			s.errorPage(w, pageError{http.StatusForbidden, "The consent form expired or was not sent by this site. Please start again."})
			return
		}
		switch q.v[pDecision] {
		case "allow":
			if s.consents != nil {
				if err := s.consents.RememberConsent(r.Context(), u.ID, a.client.ID, granted); err != nil {
					s.redirectError(w, r, &a, unavailable(err), post)
					return
				}
			}
		case "deny":
			s.redirectError(w, r, &a, oerr(ErrAccessDenied, "the user denied the request"), post)
			return
		default:
			s.redirectError(w, r, &a, oerr(ErrInvalidRequest, "missing consent decision"), post)
			return
		}
	} else {
		ok := false
		if s.consents != nil {
			ok, err = s.consents.Consented(r.Context(), u.ID, a.client.ID, granted)
			if err != nil {
				s.redirectError(w, r, &a, unavailable(err), post)
				return
			}
		}
		if !ok {
			s.showConsent(w, r, sess, &a, granted)
			return
		}
	}

	code, err := s.issueCode(r.Context(), &a, u, granted)
	if err != nil {
		s.redirectError(w, r, &a, err, post)
		return
	}
	loc := make([]byte, 0, len(a.redirectURI)+96+len(a.state)+len(s.issuer))
	loc = appendRedirectBase(loc, a.redirectURI)
	loc = append(loc, "code="...)
	loc = append(loc, code.Reveal()...)
	loc = appendStateIss(loc, a.state, s.issParam)
	h["Location"] = []string{unsafe.String(unsafe.SliceData(loc), len(loc))} // loc is not written again
	w.WriteHeader(redirectStatus(post))
}

func redirectStatus(post bool) int {
	if post {
		return http.StatusSeeOther
	}
	return http.StatusFound
}

// verifyClient checks client_id and redirect_uri: only once both are
// verified may an error be sent to the redirect URI (SECURITY.md S10).
func (s *Server) verifyClient(ctx context.Context, q *params, a *authzRequest) *pageError {
	clientID, ok := q.single(pClientID)
	if !ok || clientID == "" || len(clientID) > maxClientID || !cleanValue(clientID) {
		return &pageError{http.StatusBadRequest, "The request names no valid client."}
	}
	redirect, ok := q.single(pRedirectURI)
	if !ok || redirect == "" || len(redirect) > maxRedirectURI || !cleanValue(redirect) {
		return &pageError{http.StatusBadRequest, "The request has no valid redirect URI."}
	}
	c, err := s.st.Client(ctx, clientID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.LogAttrs(ctx, slog.LevelError, "oauth: client lookup failed", slog.String("error", err.Error()))
		return &pageError{http.StatusServiceUnavailable, "The service is temporarily unavailable. Please try again later."}
	}
	if err != nil || c.ID != clientID {
		return &pageError{http.StatusBadRequest, "The request names an unknown client."}
	}
	if !slices.ContainsFunc(c.RedirectURIs, func(reg string) bool { return MatchRedirectURI(reg, redirect) }) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "oauth: unregistered redirect_uri", slog.String("client", c.ID))
		return &pageError{http.StatusBadRequest, "The redirect URI is not registered for this client."}
	}
	a.client, a.redirectURI = c, redirect
	return nil
}

// The parameters the endpoint reads; each may appear once (RFC 6749 §3.1).
const (
	pResponseType = iota
	pClientID
	pRedirectURI
	pScope
	pState
	pChallenge
	pMethod
	pCSRF
	pDecision
	nParams
)

// params holds the known parameters of an authorization request.
type params struct {
	v   [nParams]string
	dup [nParams]bool
}

// parseParams parses a query or form body. Unknown parameters are ignored,
// empty ones count as absent (SECURITY.md S16); a malformed escape is an
// error.
func parseParams(raw string) (params, error) {
	var p params
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			uk, err := unescape(k)
			if err != nil {
				return params{}, err
			}
			k = uk
		}
		var i int
		switch k {
		case "response_type":
			i = pResponseType
		case "client_id":
			i = pClientID
		case "redirect_uri":
			i = pRedirectURI
		case "scope":
			i = pScope
		case "state":
			i = pState
		case "code_challenge":
			i = pChallenge
		case "code_challenge_method":
			i = pMethod
		case "csrf_token":
			i = pCSRF
		case "decision":
			i = pDecision
		default:
			if _, err := unescape(v); err != nil {
				return params{}, err
			}
			continue
		}
		val, err := unescape(v)
		if err != nil {
			return params{}, err
		}
		switch {
		case val == "":
		case p.v[i] != "":
			p.dup[i] = true
		default:
			p.v[i] = val
		}
	}
	return p, nil
}

// single returns parameter i; ok is false when it was sent more than once.
func (p *params) single(i int) (string, bool) {
	if p.dup[i] {
		return "", false
	}
	return p.v[i], true
}

// checkAuthorize checks the rest of the request once the redirect URI is
// trusted, filling a.
func (s *Server) checkAuthorize(q *params, a *authzRequest) *Error {
	state, ok := q.single(pState)
	if !ok || len(state) > maxState || !cleanValue(state) {
		return oerr(ErrInvalidRequest, "invalid state")
	}
	a.state = state
	for i := range nParams {
		v, ok := q.single(i)
		if !ok {
			return oerr(ErrInvalidRequest, "a parameter was sent more than once")
		}
		if !cleanValue(v) {
			return oerr(ErrInvalidRequest, "a parameter holds forbidden characters")
		}
	}
	switch q.v[pResponseType] {
	case "code":
	case "":
		return oerr(ErrInvalidRequest, "response_type is required")
	default:
		return oerr(ErrUnsupportedResponseType, "only response_type=code is supported")
	}
	if !slices.Contains(a.client.GrantTypes, GrantAuthorizationCode) {
		return oerr(ErrUnauthorizedClient, "the client may not use the authorization code grant")
	}
	a.challenge, a.method = q.v[pChallenge], q.v[pMethod]
	switch {
	case a.challenge == "" && a.method != "":
		return oerr(ErrInvalidRequest, "code_challenge_method without code_challenge")
	case a.challenge == "" && (a.client.Public || !s.noPKCE):
		return oerr(ErrInvalidRequest, "code_challenge is required (PKCE with S256)")
	case a.challenge != "" && a.method != "S256":
		return oerr(ErrInvalidRequest, "code_challenge_method must be S256")
	case a.challenge != "" && !validChallenge(a.challenge):
		return oerr(ErrInvalidRequest, "malformed code_challenge")
	}
	a.scopeParam = q.v[pScope]
	requested, err := s.requestedScope(a.scopeParam)
	if err != nil {
		var oe *Error
		if errors.As(err, &oe) {
			return oe
		}
		return oerr(ErrInvalidScope, "invalid scope")
	}
	if requested.Narrow(a.client.Scopes).IsEmpty() {
		return oerr(ErrInvalidScope, "no requested scope is allowed for this client")
	}
	a.requested = requested
	return nil
}

// query returns the authorization request's parameters, to come back to
// after signing in or to carry through the consent form.
func (a *authzRequest) query() url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {a.client.ID}, "redirect_uri": {a.redirectURI}}
	for _, p := range [...]struct{ k, v string }{
		{"scope", a.scopeParam}, {"state", a.state}, {"code_challenge", a.challenge}, {"code_challenge_method", a.method},
	} {
		if p.v != "" {
			q[p.k] = []string{p.v}
		}
	}
	return q
}

// issueCode makes and stores an authorization code bound to the client,
// redirect URI, challenge, user and scope (SECURITY.md S14).
func (s *Server) issueCode(ctx context.Context, a *authzRequest, u store.User, granted scope.Set) (token.Secret, error) {
	code, err := s.tokens.NewSecret(token.KindCode)
	if err != nil {
		return token.Secret{}, err
	}
	family, err := s.tokens.NewID("fam_")
	if err != nil {
		return token.Secret{}, err
	}
	now := s.now()
	// The record outlives the request (memstore keeps it until it
	// expires): redirect_uri and code_challenge are copied, as they may
	// point into the request's query or body and would pin all of it.
	err = s.st.SaveCode(ctx, store.Code{
		Hash: token.Hash(code.Reveal()), ClientID: a.client.ID, UserID: u.ID, OrgID: u.OrgID,
		RedirectURI: strings.Clone(a.redirectURI), Scopes: granted, Challenge: strings.Clone(a.challenge), FamilyID: family,
		CreatedAt: now, ExpiresAt: now.Add(s.codeLife),
	})
	if err != nil {
		return token.Secret{}, unavailable(err)
	}
	// Read the user again after the write: a deprovisioning that ran
	// between the caller's check and SaveCode did not see this code
	// (SECURITY.md S45). It is then never handed out.
	if _, err := s.activeUser(ctx, u.ID, u.OrgID); err != nil {
		if errors.Is(err, ErrInvalidGrant) {
			return token.Secret{}, oerr(ErrAccessDenied, "the user cannot authorize this request")
		}
		return token.Secret{}, err
	}
	return code, nil
}

// redirectError sends an error back to the verified redirect URI with
// state and iss (RFC 6749 §4.1.2.1, RFC 9207 §2).
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, a *authzRequest, err error, post bool) {
	oe, status := publicError(err)
	if status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "oauth: authorization request failed",
			slog.String("client", a.client.ID), slog.String("error", err.Error()))
	}
	loc := make([]byte, 0, len(a.redirectURI)+128+len(a.state)+len(s.issuer))
	loc = appendRedirectBase(loc, a.redirectURI)
	loc = append(loc, "error="...)
	loc = append(loc, url.QueryEscape(oe.Code)...)
	if oe.Description != "" {
		loc = append(loc, "&error_description="...)
		loc = append(loc, url.QueryEscape(string(appendSafe(nil, oe.Description)))...)
	}
	loc = appendStateIss(loc, a.state, s.issParam)
	w.Header().Set("Location", string(loc))
	w.WriteHeader(redirectStatus(post))
}

// appendRedirectBase appends the redirect URI and the separator before the
// response parameters; a registered query is kept (RFC 6749 §3.1.2).
func appendRedirectBase(b []byte, uri string) []byte {
	b = append(b, uri...)
	switch {
	case !strings.Contains(uri, "?"):
		b = append(b, '?')
	case !strings.HasSuffix(uri, "?") && !strings.HasSuffix(uri, "&"):
		b = append(b, '&')
	}
	return b
}

// appendStateIss appends state and iss; issParam is "&iss=" and the
// escaped issuer.
func appendStateIss(b []byte, state, issParam string) []byte {
	if state != "" {
		b = append(b, "&state="...)
		b = append(b, url.QueryEscape(state)...)
	}
	return append(b, issParam...)
}

// showConsent renders the consent page with a CSRF token bound to the
// session, the user, the client and the request.
func (s *Server) showConsent(w http.ResponseWriter, r *http.Request, sess Session, a *authzRequest, granted scope.Set) {
	q := a.query()
	q.Set("csrf_token", s.csrfToken(sess, a, granted, s.now().Add(consentTTL)))
	fields := make([]Field, 0, len(q))
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state",
		"code_challenge", "code_challenge_method", "csrf_token"} {
		if v := q.Get(k); v != "" {
			fields = append(fields, Field{Name: k, Value: v})
		}
	}
	name := a.client.Name
	if name == "" {
		name = a.client.ID
	}
	s.page(w, r, &ConsentPrompt{
		ClientID: a.client.ID, ClientName: name, UserID: sess.UserID,
		Scopes: granted.Names(), Action: s.paths.Authorize, Fields: fields,
	})
}

// csrfToken returns "<expiry unix>.<base64url HMAC-SHA256>" over the
// expiry, the session, the user and the authorization request.
func (s *Server) csrfToken(sess Session, a *authzRequest, granted scope.Set, exp time.Time) string {
	ts := strconv.FormatInt(exp.Unix(), 10)
	return ts + "." + base64.RawURLEncoding.EncodeToString(s.csrfMAC(ts, sess, a, granted))
}

func (s *Server) csrfMAC(ts string, sess Session, a *authzRequest, granted scope.Set) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, v := range []string{"tapioca oauth consent v1", ts, sess.ID, sess.UserID, a.client.ID,
		a.redirectURI, a.state, a.challenge, a.method, granted.String()} {
		writeLenPrefixed(m, v)
	}
	return m.Sum(nil)
}

func writeLenPrefixed(h hash.Hash, v string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(v)))
	h.Write(n[:])
	h.Write([]byte(v))
}

func (s *Server) checkCSRF(tok string, sess Session, a *authzRequest, granted scope.Set) bool {
	ts, mac, ok := strings.Cut(tok, ".")
	if !ok || len(ts) > 20 {
		return false
	}
	exp, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !s.now().Before(time.Unix(exp, 0)) {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return false
	}
	return hmac.Equal(got, s.csrfMAC(ts, sess, a, granted))
}
