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
	fs.StringVar(&o.issuer, "issuer", "", "public base URL, the OAuth issuer: https, or http on a loopback host (default http:// + the listening address)")
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

	fmt.Fprintf(w, "\nA demo API token of %s (%s), made for this run:\n\n", s.demoUser, s.demoScopes)
	fmt.Fprintf(w, "  export TAPIOCA_TOKEN=%s\n\n", s.demoToken.Reveal())
	fmt.Fprintf(w, "Try it:\n\n")
	fmt.Fprintf(w, "  curl %s/api/v1/tasks -H \"Authorization: Bearer %s\"\n", base, s.demoToken.Reveal())
	if s.demoTask != "" {
		fmt.Fprintf(w, "\n  TASK_ID=%s\n", s.demoTask)
		fmt.Fprintf(w, "  curl -X PATCH %s/api/v1/tasks/$TASK_ID -H \"Authorization: Bearer $TAPIOCA_TOKEN\" -H \"Content-Type: application/json\" -d '{\"status\": \"done\"}'\n", base)
	}
	s.printOAuth(w)
	oc := "go run ./examples/oauth-client -server " + base
	var public, machine bool
	for _, c := range s.clients {
		switch {
		case !public && c.Public && slices.Contains(c.Grants, "authorization_code"):
			public = true
			if c.ID != "tapioca-spa" {
				oc += " -client-id " + c.ID
			}
			if !slices.Contains(c.Scopes, "write:tasks") {
				oc += " -scope " + c.Scopes[0]
			}
		case !machine && !c.Public && slices.Contains(c.Grants, "client_credentials"):
			machine = true
			if c.ID != "tapioca-machine" {
				oc += " -machine-id " + c.ID + " -machine-scope " + c.Scopes[0]
			}
			oc += " -machine-secret " + c.Secret
		}
	}
	if !machine {
		oc += " -flow code"
	}
	fmt.Fprintf(w, "\nThe x/oauth2 client example (code + PKCE, then client credentials):\n\n  %s\n\n", oc)
	fmt.Fprintln(w, "Stop with Ctrl-C.")
}

// printOAuth prints the docs' OAuth requests for this server: the
// authorization code flow (with PKCE, which this server requires), the
// refresh and the client credentials requests.
func (s *server) printOAuth(w io.Writer) {
	base := s.issuer.String()
	var web, machine *clientData
	for i := range s.clients {
		c := &s.clients[i]
		switch {
		case c.Public || c.Secret == "":
		case web == nil && slices.Contains(c.Grants, "authorization_code"):
			web = c
		case machine == nil && slices.Contains(c.Grants, "client_credentials"):
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
		query := "response_type=code&client_id=" + esc(web.ID) + "&redirect_uri=" + esc(redirect) +
			"&scope=read:tasks%20write:time&state=random_state_string&code_challenge=" +
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
			base, machine.ID, machine.Secret, machine.Scopes[0])
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
