package demo

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tapioca.dev/auth/middleware"
	"tapioca.dev/auth/oauth"
	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/token"
)

// sessionCookie is the name of the web session cookie. Its value is a
// tap_session_… secret from token.Manager.CreateSession.
const sessionCookie = "tapioca_session"

// config is everything newServer needs.
type config struct {
	// Issuer is the public base URL, e.g. http://127.0.0.1:8080.
	Issuer string
	// Data is the users and clients to serve.
	Data dataset
	// Store keeps tokens, codes, families, clients and users; nil means a
	// new in-memory store.
	Store Store
	// StoreName names Store in the start-up banner when it is persistent
	// ("PostgreSQL"); empty for the in-memory store.
	StoreName string
	// Key signs the CSRF tokens of the web forms and of the OAuth consent
	// page, at least 32 bytes; instances that share traffic need the same
	// key. Nil means a random key for this process.
	Key []byte
	// Logger receives request logs and the library's events.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// BcryptCost hashes passwords; 0 means bcrypt.DefaultCost. Tests use
	// bcrypt.MinCost.
	BcryptCost int
	// hashPassword, when set, replaces bcrypt.GenerateFromPassword at
	// BcryptCost (tests memoize it: bcrypt is slow under the race detector).
	hashPassword func(password string) ([]byte, error)
}

// server is the demo Tapioca service.
type server struct {
	issuer     *url.URL
	secure     bool // served over TLS: Secure cookies
	log        *slog.Logger
	now        func() time.Time
	st         Store
	dir        *directory
	usersMu    sync.Mutex // serializes user updates on a store without UserUpdater
	orgs       orgs
	tokens     *token.Manager
	auth       *middleware.Authenticator
	oauth      *oauth.Server
	csrfKey    []byte // the web forms' CSRF key
	consentKey []byte // the OAuth consent page's
	logins     *loginLimiter
	mux        *http.ServeMux
	// routes is every pattern registered on mux, in order, with the scope
	// an API route requires ("" for none); TestRoutes checks that it walks
	// every /api/v1 route.
	routes  []registered
	handler http.Handler

	// What start-up prints: the demo's own secrets, made for this run.
	users      []userData   // with plaintext passwords
	clients    []clientData // with plaintext secrets
	demoUser   string       // the username the demo token belongs to; "" if none
	demoToken  token.Secret
	demoScopes scope.Set
	demoTask   string
	builtin    bool // built-in data: passwords were generated and are printed
	storeName  string
	sharedKey  bool // config.Key was given
}

// newServer builds the demo from cfg: the store, the directory, the token
// manager, the middleware and every route.
func newServer(cfg config) (*server, error) {
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || (iss.Scheme != "http" && iss.Scheme != "https") || iss.Host == "" || iss.RawQuery != "" || iss.Fragment != "" {
		return nil, fmt.Errorf("-issuer %q: must be an http or https URL without query or fragment", cfg.Issuer)
	}
	iss.Path = strings.TrimSuffix(iss.Path, "/")
	if iss.Path != "" {
		// Every route is mounted at the root, so every printed URL under a
		// path prefix would 404.
		return nil, fmt.Errorf("-issuer %q: must have no path (the demo serves at the root of its host; behind a proxy, give it a host of its own)", cfg.Issuer)
	}
	iss.RawPath = ""
	s := &server{
		issuer: iss,
		secure: iss.Scheme == "https",
		log:    cfg.Logger,
		now:    cfg.Now,
		st:     cfg.Store,

		storeName: cfg.StoreName,
	}
	if s.st == nil {
		s.st = memStore{memstore.New()}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	cost := cfg.BcryptCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	hash := cfg.hashPassword
	if hash == nil {
		hash = func(pw string) ([]byte, error) { return bcrypt.GenerateFromPassword([]byte(pw), cost) }
	}
	if s.dir, err = newDirectory(hash); err != nil {
		return nil, err
	}
	s.logins = newLoginLimiter(s.now)
	key := cfg.Key
	s.sharedKey = key != nil
	switch {
	case key == nil:
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
	case len(key) < minKeyLen:
		return nil, fmt.Errorf("the key has %d bytes, want at least %d", len(key), minKeyLen)
	}
	s.csrfKey, s.consentKey = deriveKey(key, "web forms"), deriveKey(key, "oauth consent")
	s.tokens, err = token.NewManager(token.Config{
		// No Directory: the token manager asks the store who a user is
		// now, so every instance on a shared store sees the same answer.
		Store: s.st, Now: s.now, Logger: s.log,
	})
	if err != nil {
		return nil, err
	}
	s.auth, err = middleware.New(middleware.Config{
		Verifier:      s.tokens,
		Realm:         "tapioca",
		SessionCookie: sessionCookie,
		Logger:        s.log,
		Timeout:       5 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	if err := s.load(context.Background(), cfg.Data, hash); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	s.mountAPI()
	s.mountTokensAPI()
	s.mountWeb()
	if err := s.mountOAuth(); err != nil {
		return nil, err
	}
	s.handler = s.logRequests(s.mux)
	return s, nil
}

// minKeyLen is the least length of [config.Key].
const minKeyLen = 32

// deriveKey derives the key of one use from the demo's key, so that no two
// uses share one: HMAC-SHA256(key, "tapioca demo " + use).
func deriveKey(key []byte, use string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("tapioca demo " + use))
	return m.Sum(nil)
}

// ServeHTTP serves the demo.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// load hashes the users' passwords, registers the users and the clients in
// the store, seeds every organization and makes the demo API token.
func (s *server) load(ctx context.Context, ds dataset, hash func(string) ([]byte, error)) error {
	now := s.now().UTC().Truncate(time.Second)
	s.builtin = ds.builtin
	members := map[string][]string{}
	var (
		orgOrder []string
		demo     *store.User // the first active user gets the demo token
	)
	for _, ud := range ds.users {
		h, err := hash(ud.Password)
		if err != nil {
			return fmt.Errorf("user %s: %w", ud.Username, err)
		}
		perms, err := scopes(ud.Permissions, "permissions")
		if err != nil {
			return err
		}
		u := profile{ID: "user_" + ud.Username, Username: ud.Username, Name: ud.Name, OrgID: ud.Organization, Hash: h}
		s.dir.add(u)
		rec, err := s.registerUser(ctx, store.User{ID: u.ID, OrgID: u.OrgID, Active: true, Permissions: perms})
		if err != nil {
			return fmt.Errorf("user %s: %w", ud.Username, err)
		}
		if demo == nil && rec.Active {
			demo = &rec
			s.demoUser = ud.Username
		}
		if _, ok := members[u.OrgID]; !ok {
			orgOrder = append(orgOrder, u.OrgID)
		}
		members[u.OrgID] = append(members[u.OrgID], u.ID)
		s.users = append(s.users, ud)
	}
	for _, id := range orgOrder {
		o := newOrg(id, orgName(id))
		o.seed(now, members[id])
		s.orgs.add(id, o)
	}
	for _, cd := range ds.clients {
		c := store.Client{ID: cd.ID, Name: cd.Name, Public: cd.Public, OrgID: cd.Organization,
			RedirectURIs: slices.Clone(cd.RedirectURIs), GrantTypes: slices.Clone(cd.Grants)}
		var err error
		if c.Scopes, err = scopes(cd.Scopes, "scopes"); err != nil {
			return err
		}
		if !cd.Public {
			if cd.Secret == "" {
				sec, _, err := oauth.NewClientSecret()
				if err != nil {
					return err
				}
				cd.Secret = sec.Reveal()
			}
			c.SecretHashes = []store.Hash{token.Hash(cd.Secret)}
		}
		if err := oauth.ValidateClient(c); err != nil {
			return fmt.Errorf("client %s: %w", c.ID, err)
		}
		if err := s.putStore(ctx, func(ctx context.Context) error { return s.st.PutClient(ctx, c) }); err != nil {
			return fmt.Errorf("client %s: %w", c.ID, err)
		}
		s.clients = append(s.clients, cd)
	}
	// The demo token: the first active user's, for tasks, so the printed
	// curl line and the docs' PATCH request work as printed.
	if demo == nil {
		return nil // every user was deprovisioned in the store
	}
	want := scope.Default.MustParse("read:tasks write:tasks").Narrow(demo.Permissions.Closure())
	if want.IsEmpty() {
		want = demo.Permissions
	}
	sec, _, err := s.tokens.Create(ctx, token.CreateRequest{UserID: demo.ID, Name: "demo token (printed at start)", Scopes: want})
	if err != nil {
		return fmt.Errorf("demo token: %w", err)
	}
	s.demoToken = sec
	s.demoScopes = want
	if o, ok := s.orgs.get(demo.OrgID); ok {
		if ts := o.tasks.list(); len(ts) > 0 {
			s.demoTask = ts[0].ID
		}
	}
	return nil
}

// storeTimeout bounds each store call the demo makes itself (registering
// users and clients, reading and changing users).
const storeTimeout = 10 * time.Second

// putStore runs one store write under [storeTimeout].
func (s *server) putStore(ctx context.Context, put func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return put(ctx)
}

// registerUser stores a user of the data, replacing its organization and
// permissions, and returns the stored record. A user the store already
// has as deprovisioned stays deprovisioned: a restart, or another instance
// starting, never re-activates a user.
func (s *server) registerUser(ctx context.Context, rec store.User) (store.User, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	set := func(u *store.User) {
		active := u.Active
		*u = rec
		u.Active = active
	}
	var (
		got store.User
		err error
	)
	if uu, ok := s.st.(UserUpdater); ok {
		got, err = uu.UpdateUser(ctx, rec.ID, set)
	} else {
		got, err = s.updateLocked(ctx, rec.ID, set)
	}
	if errors.Is(err, store.ErrNotFound) {
		return rec, s.st.PutUser(ctx, rec)
	}
	return got, err
}

func orgName(id string) string {
	if id == "" {
		return id
	}
	return strings.ToUpper(id[:1]) + id[1:]
}

// url returns the public URL of a path on this server.
func (s *server) url(path string) string { return s.issuer.String() + path }

// registered is a pattern of the mux and the scope its handler requires.
type registered struct{ pattern, scope string }

// handle registers h for pattern on the mux, and records it. Every route
// is registered through it.
func (s *server) handle(pattern, need string, h http.Handler) {
	s.routes = append(s.routes, registered{pattern, need})
	s.mux.Handle(pattern, h)
}

// route registers an API route that needs the given scope: Bearer token or
// session cookie (with cross-origin protection on unsafe methods), then the
// scope check, then the handler.
func (s *server) route(pattern, need string, h http.HandlerFunc) {
	s.handle(pattern, need, s.auth.Authenticate(noteToken(middleware.Require(need)(h))))
}

// routeAuthenticated registers a route that needs a principal but no
// particular scope (the token API checks more itself).
func (s *server) routeAuthenticated(pattern string, h http.HandlerFunc) {
	s.handle(pattern, "", s.auth.Authenticate(noteToken(h)))
}

// call resolves the request's principal to its organization. An
// organization that does not exist (a client of an organization without
// users) answers 404.
func (s *server) call(w http.ResponseWriter, r *http.Request) (*call, bool) {
	p, ok := middleware.FromContext(r.Context())
	if !ok {
		writeError(w, http.StatusInternalServerError, "server_error", "no principal")
		return nil, false
	}
	o, ok := s.orgs.get(p.OrgID)
	if !ok {
		notFound(w, "organization")
		return nil, false
	}
	return &call{org: o, dir: s.dir, userID: p.UserID, principal: p}, true
}

// --- request logs -----------------------------------------------------------

type logInfoKey struct{}

// logInfo is filled in by the handlers of a request for its log line.
type logInfo struct{ tokenID string }

// noteToken records the verified token's public ID for the request log.
func noteToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if li, ok := r.Context().Value(logInfoKey{}).(*logInfo); ok {
			if p, ok := middleware.FromContext(r.Context()); ok {
				li.tokenID = p.TokenID
			}
		}
		h.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request: method, path without the query
// (authorization requests carry state and codes there; a secret pasted into
// the path is redacted), status, duration and the public ID of the token
// that authenticated it. Never a secret.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		li := &logInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), logInfoKey{}, li)))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", token.Redact(r.URL.Path)),
			slog.Int("status", sw.status),
			slog.Duration("duration", time.Since(start)),
		}
		if li.tokenID != "" {
			attrs = append(attrs, slog.String("token_id", li.tokenID))
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// errNoServer is returned by Run when the listener cannot be opened.
var errNoServer = errors.New("cannot listen")
