package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/oauth2"

	"tapioca.dev/auth/scope"
	"tapioca.dev/auth/token"
)

// Options is what the command running the demo provides beyond its flags.
// The zero value runs on the in-memory store only.
type Options struct {
	// OpenPostgres opens and migrates the PostgreSQL store at url for
	// -postgres, and returns it with the function that closes it. Nil
	// means this build has no PostgreSQL driver: -postgres then fails with
	// the command that runs the demo on PostgreSQL (store/pgstore's
	// cmd/tapioca, which sets it).
	OpenPostgres func(ctx context.Context, url string) (Store, func(), error)

	// sweepEvery replaces sweepInterval (tests).
	sweepEvery time.Duration
}

// PostgresCommand runs the demo on PostgreSQL, from the repository root.
// The PostgreSQL driver lives in the store/pgstore module, so the core
// module needs none.
const PostgresCommand = "go -C store/pgstore run ./cmd/tapioca"

// ErrNoPostgres is returned by [Run] for -postgres when
// [Options.OpenPostgres] is nil.
var ErrNoPostgres = errors.New("-postgres: this build has no PostgreSQL driver")

// defaultAddr is where the demo listens without -addr.
const defaultAddr = "127.0.0.1:8080"

// options are the command-line flags.
type options struct {
	addr, issuer, data, postgres, keyFile string
	bcryptCost                            int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("tapioca", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", defaultAddr, "address to listen on")
	fs.StringVar(&o.issuer, "issuer", "", "public base URL, the OAuth issuer: https, or http on a loopback host, without a path (default http:// + the listening address)")
	fs.StringVar(&o.data, "data", "", "JSON `file` of users and OAuth clients (default: built-in demo data)")
	fs.StringVar(&o.postgres, "postgres", "", "PostgreSQL `URL` to keep tokens, codes, clients and users in (default: in memory), e.g. postgres://user:password@127.0.0.1:5432/db?sslmode=disable")
	fs.StringVar(&o.keyFile, "key-file", "", "`file` with the key that signs the CSRF tokens of the forms and the consent page, created (random) if missing; instances that share traffic need the same one (default: a random key per process)")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", 0, "bcrypt cost of password hashes (default bcrypt.DefaultCost)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return o, nil
}

// Run serves the demo with the command-line flags args until ctx is done,
// then shuts down gracefully. Logs go to logw; the start-up banner to
// stdout. Tests call it with -addr 127.0.0.1:0 and read the banner. It
// returns [flag.ErrHelp] for -h, and [ErrNoPostgres] (with the command to
// run instead) for -postgres when opts.OpenPostgres is nil.
func Run(ctx context.Context, args []string, stdout, logw io.Writer, opts Options) error {
	o, err := parseFlags(args, logw)
	if err != nil {
		return err
	}
	if o.postgres != "" && opts.OpenPostgres == nil {
		return fmt.Errorf("%w (the driver lives in the store/pgstore module, so that the core module needs none); from the repository root, run:\n\n  %s", ErrNoPostgres, postgresCommand(o))
	}
	ds := builtinData()
	if o.data != "" {
		if ds, err = loadData(o.data); err != nil {
			return err
		}
	}
	var key []byte
	if o.keyFile != "" {
		if key, err = loadKey(o.keyFile); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoServer, err)
	}
	defer ln.Close()
	var (
		st        Store
		storeName string
	)
	if o.postgres != "" {
		pg, closePG, err := opts.OpenPostgres(ctx, o.postgres)
		if err != nil {
			return fmt.Errorf("-postgres: %w", err)
		}
		defer closePG()
		st, storeName = pg, "PostgreSQL"
	}
	issuer := o.issuer
	if issuer == "" {
		issuer = defaultIssuer(ln.Addr())
	}
	// token.ReplaceAttr is a safety net: nothing here logs a secret, but
	// should anything ever try, the log gets tap_[REDACTED].
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{ReplaceAttr: token.ReplaceAttr}))
	s, err := newServer(config{Issuer: issuer, Data: ds, Store: st, StoreName: storeName, Key: key, Logger: logger, BcryptCost: o.bcryptCost})
	if err != nil {
		return err
	}
	s.printBanner(stdout, ln.Addr().String())

	// Expired rows are swept for the server's lifetime; the sweeper stops
	// before the store is closed (defers run last first).
	every := opts.sweepEvery
	if every <= 0 {
		every = sweepInterval
	}
	sweepCtx, stopSweeping := context.WithCancel(context.Background())
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		s.runSweeper(sweepCtx, every)
	}()
	defer func() {
		stopSweeping()
		<-swept
	}()

	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// postgresCommand is the command that runs the demo on PostgreSQL with the
// flags o: [PostgresCommand] and o's flags, the -data file as an absolute
// path (the command runs in store/pgstore). A password in the URL is not
// repeated: it shows as xxxxx, and a URL that does not parse as one shows
// as URL.
func postgresCommand(o options) string {
	pg := "URL"
	if u, err := url.Parse(o.postgres); err == nil && u.Scheme != "" && u.Host != "" && !u.Query().Has("password") {
		pg = shellQuote(u.Redacted())
	}
	cmd := PostgresCommand + " -postgres " + pg
	if o.addr != defaultAddr {
		cmd += " -addr " + shellQuote(o.addr)
	}
	if o.issuer != "" {
		cmd += " -issuer " + shellQuote(o.issuer)
	}
	if o.data != "" {
		data := o.data
		if abs, err := filepath.Abs(data); err == nil {
			data = abs
		}
		cmd += " -data " + shellQuote(data)
	}
	if o.keyFile != "" {
		kf := o.keyFile
		if abs, err := filepath.Abs(kf); err == nil {
			kf = abs
		}
		cmd += " -key-file " + shellQuote(kf)
	}
	if o.bcryptCost != 0 {
		cmd += " -bcrypt-cost " + strconv.Itoa(o.bcryptCost)
	}
	return cmd
}

// loadKey reads the -key-file key: hex, at least [minKeyLen] bytes. A
// missing file is created with a fresh random key (readable by its owner
// only); instances starting together on one file agree on one key, since
// the file appears at once, complete, or not at all.
func loadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := createKey(path); err != nil {
			return nil, fmt.Errorf("-key-file: %w", err)
		}
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("-key-file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < minKeyLen {
		return nil, fmt.Errorf("-key-file %s: must hold at least %d bytes in hex (delete it to have one made)", path, minKeyLen)
	}
	return key, nil
}

// createKey writes a random key to path unless path exists: the key goes
// to a temporary file first, which is then linked to path, so nobody reads
// a half-written key.
func createKey(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tapioca-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, minKeyLen)
	_, err = rand.Read(key)
	if err == nil {
		_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@,+=%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printBanner prints what a newcomer needs: where it listens, who can sign
// in, a working token, the OAuth clients and requests that work as printed.
func (s *server) printBanner(w io.Writer, addr string) {
	base := s.issuer.String()
	fmt.Fprintf(w, "Tapioca demo listening on http://%s (issuer %s)\n\n", addr, base)
	if s.storeName != "" {
		fmt.Fprintf(w, "Tokens, sessions, codes, OAuth clients and users are kept in %s: they outlive a restart,\n"+
			"and every instance on it shares them (the API's sample data, the passwords and the client secrets\n"+
			"below are this run's own; so are remembered OAuth consents and the sign-in throttle).\n", s.storeName)
		if !s.sharedKey {
			fmt.Fprintf(w, "Forms and consent pages are signed with this process's own key: start every instance that\n"+
				"shares the traffic with the same -key-file.\n")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Sign in at %s/login — API tokens at %s/settings/tokens\n", base, base)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  USER\tPASSWORD\tORGANIZATION\tPERMISSIONS")
	for _, u := range s.users {
		pw := u.Password
		if !s.builtin {
			pw = "(from the data file)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", u.Username, pw, u.Organization, strings.Join(u.Permissions, " "))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nOAuth clients (authorize at %s/oauth/authorize, token at %s/oauth/token):\n", base, base)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  CLIENT ID\tSECRET\tGRANTS\tREDIRECT URIS")
	for _, c := range s.clients {
		sec := c.Secret
		if c.Public {
			sec = "(public: PKCE, no secret)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.ID, sec, strings.Join(c.Grants, " "), strings.Join(c.RedirectURIs, " "))
	}
	tw.Flush()

	s.printTry(w)
	s.printOAuth(w)
	if cmd, flows := s.oauthClientCommand(); cmd != "" {
		fmt.Fprintf(w, "\nThe x/oauth2 client example (%s):\n\n  %s\n\n", flows, cmd)
	} else {
		fmt.Fprintf(w, "\nThe x/oauth2 client example has no client to use: it needs a client with the authorization_code\n"+
			"grant and the redirect URI http://127.0.0.1/callback, or a confidential client_credentials client.\n\n")
	}
	fmt.Fprintln(w, "Stop with Ctrl-C.")
}

// reads are GET routes of the API, in the order the banner prefers them,
// with the scope each needs: one of them works with any scope.
var reads = []struct{ path, scope string }{
	{"/api/v1/tasks", scope.ReadTasks},
	{"/api/v1/time-entries", scope.ReadTime},
	{"/api/v1/budgets", scope.ReadFinance},
	{"/api/v1/users", scope.ReadUsers},
	{"/api/v1/organization", scope.AdminOrg},
	{"/api/v1/billing/subscription", scope.AdminBilling},
}

// printTry prints the demo token and requests that work with it as
// printed: a GET it can make (the tasks if it can read them), and the
// docs' PATCH of a task if it can write tasks.
func (s *server) printTry(w io.Writer) {
	base := s.issuer.String()
	if s.demoToken.Reveal() == "" {
		fmt.Fprintf(w, "\nNo demo API token: every user of the data is deprovisioned in the store.\n")
		return
	}
	fmt.Fprintf(w, "\nA demo API token of %s (%s), made for this run:\n\n", s.demoUser, s.demoScopes)
	fmt.Fprintf(w, "  export TAPIOCA_TOKEN=%s\n\n", s.demoToken.Reveal())
	fmt.Fprintf(w, "Try it:\n\n")
	for _, rd := range reads {
		if s.demoScopes.Contains(rd.scope) {
			if rd.scope != scope.ReadTasks {
				fmt.Fprintf(w, "  # %s cannot read tasks (%s), so another list:\n", s.demoUser, scope.ReadTasks)
			}
			fmt.Fprintf(w, "  curl %s%s -H \"Authorization: Bearer %s\"\n", base, rd.path, s.demoToken.Reveal())
			break
		}
	}
	switch {
	case !s.demoScopes.Contains(scope.WriteTasks):
		fmt.Fprintf(w, "\n  # No PATCH of a task: the token cannot write tasks (%s has no %s).\n", s.demoUser, scope.WriteTasks)
	case s.demoTask != "":
		fmt.Fprintf(w, "\n  TASK_ID=%s\n", s.demoTask)
		fmt.Fprintf(w, "  curl -X PATCH %s/api/v1/tasks/$TASK_ID -H \"Authorization: Bearer $TAPIOCA_TOKEN\" -H \"Content-Type: application/json\" -d '{\"status\": \"done\"}'\n", base)
	}
}

// oauthClientCommand returns the examples/oauth-client command that works
// with this server's clients, and which flows it runs; "" when no client
// fits. The code flow needs a client with the authorization_code grant
// and the loopback redirect URI http://127.0.0.1/callback (any port
// matches), public preferred; the client credentials flow a confidential
// client_credentials client. Each flow asks for the tasks when its client
// may have them, else for the client's first scope (the client then reads
// what that scope allows).
func (s *server) oauthClientCommand() (cmd, flows string) {
	var code, machine *clientData
	for i := range s.clients {
		c := &s.clients[i]
		if slices.Contains(c.Grants, "authorization_code") && slices.Contains(c.RedirectURIs, "http://127.0.0.1/callback") &&
			(code == nil || (c.Public && !code.Public)) {
			code = c
		}
		if machine == nil && !c.Public && slices.Contains(c.Grants, "client_credentials") {
			machine = c
		}
	}
	if code == nil && machine == nil {
		return "", ""
	}
	tasks := func(c *clientData) bool {
		set, err := scope.Default.New(c.Scopes...)
		return err == nil && set.Contains(scope.ReadTasks)
	}
	cmd = "go run ./examples/oauth-client -server " + s.issuer.String()
	if code != nil {
		if code.ID != "tapioca-spa" {
			cmd += " -client-id " + shellQuote(code.ID)
		}
		if !code.Public {
			cmd += " -client-secret " + code.Secret
		}
		if !tasks(code) {
			cmd += " -scope " + code.Scopes[0]
		}
	}
	if machine != nil {
		if machine.ID != "tapioca-machine" {
			cmd += " -machine-id " + shellQuote(machine.ID)
		}
		cmd += " -machine-secret " + machine.Secret
		if sc := machineScope(machine); sc != "read:tasks" {
			cmd += " -machine-scope " + sc
		}
	}
	switch {
	case machine == nil:
		return cmd + " -flow code", "code + PKCE with " + code.ID
	case code == nil:
		return cmd + " -flow client-credentials", "client credentials with " + machine.ID
	}
	return cmd, "code + PKCE with " + code.ID + ", then client credentials with " + machine.ID
}

// machineScope is the scope the banner asks for with a client_credentials
// client: read:tasks when it may have it, else its first scope.
func machineScope(c *clientData) string {
	if set, err := scope.Default.New(c.Scopes...); err == nil && set.Contains(scope.ReadTasks) {
		return scope.ReadTasks
	}
	return c.Scopes[0]
}

// printOAuth prints the docs' OAuth requests for this server: the
// authorization code flow (with PKCE, which this server requires), the
// refresh and the client credentials requests.
func (s *server) printOAuth(w io.Writer) {
	base := s.issuer.String()
	var web, machine *clientData
	for i := range s.clients {
		c := &s.clients[i]
		if c.Public || c.Secret == "" {
			continue
		}
		if web == nil && slices.Contains(c.Grants, "authorization_code") {
			web = c
		}
		if machine == nil && slices.Contains(c.Grants, "client_credentials") {
			machine = c
		}
	}
	if web != nil {
		redirect := web.RedirectURIs[0]
		verifier := oauth2.GenerateVerifier()
		// The docs' request in the docs' order, plus PKCE; ':' and '/' need no
		// escaping in a query, so the redirect URI reads as in the docs.
		esc := func(v string) string {
			return strings.NewReplacer("%3A", ":", "%2F", "/").Replace(url.QueryEscape(v))
		}
		// The docs' scope, as far as the client may have it.
		cs, _ := scope.Default.New(web.Scopes...)
		want := scope.Default.MustParse("read:tasks write:time").Narrow(cs.Closure()).Names()
		if len(want) == 0 {
			want = web.Scopes[:1]
		}
		query := "response_type=code&client_id=" + esc(web.ID) + "&redirect_uri=" + esc(redirect) +
			"&scope=" + strings.Join(want, "%20") + "&state=random_state_string&code_challenge=" +
			oauth2.S256ChallengeFromVerifier(verifier) + "&code_challenge_method=S256"
		fmt.Fprintf(w, "\nAuthorization code flow with PKCE (%s): open in a browser, sign in, approve:\n\n", web.ID)
		fmt.Fprintf(w, "  %s/oauth/authorize?%s\n\n", base, query)
		fmt.Fprintf(w, "then, within %v, exchange the code from the address bar (%s?code=…):\n\n", codeLifetime, redirect)
		fmt.Fprintf(w, "  curl -X POST %s/oauth/token -d grant_type=authorization_code -d code=AUTHORIZATION_CODE -d redirect_uri=%s -d client_id=%s -d client_secret=%s -d code_verifier=%s\n\n",
			base, redirect, web.ID, web.Secret, verifier)
		fmt.Fprintf(w, "and refresh:\n\n")
		fmt.Fprintf(w, "  curl -X POST %s/oauth/token -d grant_type=refresh_token -d refresh_token=tap_refresh_… -d client_id=%s -d client_secret=%s\n",
			base, web.ID, web.Secret)
	}
	if machine != nil {
		fmt.Fprintf(w, "\nClient credentials (%s):\n\n", machine.ID)
		fmt.Fprintf(w, "  curl -X POST %s/oauth/token -u %s:%s -d grant_type=client_credentials -d scope=%s\n",
			base, machine.ID, machine.Secret, machineScope(machine))
	}
}

// defaultIssuer is http:// + the listening address; on a wildcard address
// (":8080", "0.0.0.0:8080") it names the loopback address instead, since the
// authorization server accepts plain http only on a loopback host. Serving
// other hosts needs -issuer https://….
func defaultIssuer(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
