// Command oauth-client is an OAuth 2.0 client of the Tapioca demo written
// with golang.org/x/oauth2 only, as a Go integration of Tapioca would be.
//
// It runs the authorization code flow with PKCE (RFC 7636) for a user — it
// listens on a loopback port for the redirect (RFC 8252 §7.3) and prints the
// URL to open in a browser — and the client credentials flow for a machine
// client, then calls the API with each token: it lists the tasks, or, when
// the granted scope cannot read them, another list it can read.
//
//	go run ./examples/tapioca                # in one terminal; note the printed secrets
//	go run ./examples/oauth-client -machine-secret tap_secret_…
//
// The endpoints come from the server's metadata (RFC 8414). Tokens are
// never printed: only their type, scope and expiry.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "oauth-client:", err)
		}
		os.Exit(1)
	}
}

type options struct {
	server        string
	clientID      string
	clientSecret  string
	scope         string
	machineID     string
	machineSecret string
	machineScope  string
	flow          string
	timeout       time.Duration
}

func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("oauth-client", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.server, "server", "http://127.0.0.1:8080", "the Tapioca demo's base URL (its OAuth issuer)")
	fs.StringVar(&o.clientID, "client-id", "tapioca-spa", "client for the authorization code flow")
	fs.StringVar(&o.clientSecret, "client-secret", "", "its secret; empty for a public client")
	fs.StringVar(&o.scope, "scope", "read:tasks write:tasks", "scopes to ask the user for")
	fs.StringVar(&o.machineID, "machine-id", "tapioca-machine", "client for the client credentials flow")
	fs.StringVar(&o.machineSecret, "machine-secret", "", "its secret (printed by the demo at start); empty skips the flow")
	fs.StringVar(&o.machineScope, "machine-scope", "read:tasks", "scopes for the machine client")
	fs.StringVar(&o.flow, "flow", "both", "which flows to run: code, client-credentials or both")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the browser")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch o.flow {
	case "code", "client-credentials", "both":
	default:
		return o, fmt.Errorf("-flow %q: want code, client-credentials or both", o.flow)
	}
	o.server = strings.TrimSuffix(o.server, "/")
	return o, nil
}

// metadata is the part of RFC 8414 authorization server metadata we use.
type metadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	// IssParameter: the server puts iss in its authorization responses
	// (RFC 9207 §3), so a response without it is refused.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

func discover(ctx context.Context, hc *http.Client, issuer string) (metadata, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", issuer+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return metadata{}, err
	}
	res, err := hc.Do(req)
	if err != nil {
		return metadata{}, fmt.Errorf("metadata: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return metadata{}, fmt.Errorf("metadata: %s", res.Status)
	}
	var md metadata
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&md); err != nil {
		return metadata{}, fmt.Errorf("metadata: %w", err)
	}
	if md.Issuer != issuer {
		return metadata{}, fmt.Errorf("metadata: issuer %q, want %q (RFC 8414 §3.3)", md.Issuer, issuer)
	}
	return md, nil
}

// run runs the flows. open is called with the URL the user must visit;
// nil means print it and wait for a person to open it.
func run(ctx context.Context, args []string, out io.Writer, open func(ctx context.Context, url string) error) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	hc := &http.Client{Timeout: 30 * time.Second}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	md, err := discover(ctx, hc, o.server)
	if err != nil {
		return err
	}
	if o.flow != "client-credentials" {
		if err := codeFlow(ctx, o, md, out, open); err != nil {
			return fmt.Errorf("authorization code flow: %w", err)
		}
	}
	if o.flow != "code" {
		if o.machineSecret == "" {
			fmt.Fprintln(out, "\nSkipping the client credentials flow: pass -machine-secret (the demo prints it at start).")
			return nil
		}
		if err := machineFlow(ctx, o, md, out); err != nil {
			return fmt.Errorf("client credentials flow: %w", err)
		}
	}
	return nil
}

// codeFlow is the authorization code flow with PKCE and a loopback
// redirect.
func codeFlow(ctx context.Context, o options, md metadata, out io.Writer, open func(context.Context, string) error) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	// A confidential client authenticates with HTTP Basic
	// (client_secret_basic); a public one sends only its client_id ("none").
	style := oauth2.AuthStyleInHeader
	if o.clientSecret == "" {
		style = oauth2.AuthStyleInParams
	}
	conf := &oauth2.Config{
		ClientID:     o.clientID,
		ClientSecret: o.clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL: md.AuthorizationEndpoint, TokenURL: md.TokenEndpoint, AuthStyle: style,
		},
		RedirectURL: "http://" + ln.Addr().String() + "/callback",
		Scopes:      strings.Fields(o.scope),
	}
	verifier := oauth2.GenerateVerifier()
	state := rand.Text()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	type result struct {
		code string
		err  error
	}
	results := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			res.err = errors.New("the state does not match: not our request")
		case (md.IssParameter || q.Has("iss")) && q.Get("iss") != md.Issuer:
			res.err = fmt.Errorf("the response comes from issuer %q, not %q (RFC 9207 §2.4)", q.Get("iss"), md.Issuer)
		case q.Get("error") != "":
			res.err = fmt.Errorf("the server answered %s: %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			res.err = errors.New("no code in the redirect")
		default:
			res.code = q.Get("code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if res.err != nil {
			fmt.Fprintf(w, "<p>Authorization failed: %s</p>", html.EscapeString(res.err.Error()))
		} else {
			fmt.Fprint(w, "<p>Signed in. You can close this tab and return to the terminal.</p>")
		}
		select {
		case results <- res:
		default:
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	fmt.Fprintf(out, "Open this URL in your browser to sign in and approve %s:\n\n  %s\n\n", o.clientID, authURL)
	if open != nil {
		if err := open(ctx, authURL); err != nil {
			return err
		}
	}
	var res result
	select {
	case res = <-results:
	case <-ctx.Done():
		return fmt.Errorf("waiting for the browser: %w", ctx.Err())
	}
	if res.err != nil {
		return res.err
	}
	tok, err := conf.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	describe(out, "Authorization code + PKCE", tok)
	// The TokenSource refreshes the access token with the refresh token
	// when it expires; the client never handles that itself.
	return callAPI(ctx, out, conf.Client(ctx, tok), o.server, granted(tok, conf.Scopes))
}

// machineFlow is the client credentials flow (RFC 6749 §4.4).
func machineFlow(ctx context.Context, o options, md metadata, out io.Writer) error {
	conf := &clientcredentials.Config{
		ClientID: o.machineID, ClientSecret: o.machineSecret, TokenURL: md.TokenEndpoint,
		Scopes: strings.Fields(o.machineScope), AuthStyle: oauth2.AuthStyleInHeader,
	}
	tok, err := conf.Token(ctx)
	if err != nil {
		return err
	}
	describe(out, "Client credentials", tok)
	return callAPI(ctx, out, conf.Client(ctx), o.server, granted(tok, conf.Scopes))
}

func describe(out io.Writer, flow string, tok *oauth2.Token) {
	scope, _ := tok.Extra("scope").(string)
	fmt.Fprintf(out, "%s: got a %s token for %q, expires %s, refresh token: %v\n",
		flow, tok.Type(), scope, tok.Expiry.Format(time.RFC3339), tok.RefreshToken != "")
}

// granted is the scope the server granted: the token response's scope,
// or, when it has none, the scope asked for (RFC 6749 §5.1).
func granted(tok *oauth2.Token, asked []string) []string {
	if sc, ok := tok.Extra("scope").(string); ok && sc != "" {
		return strings.Fields(sc)
	}
	return asked
}

// lists are the API's lists in the order the client prefers them, each with
// the scopes that can read it (Tapioca's scope table: write:X implies
// read:X, admin:org every write:X but billing).
var lists = []struct {
	path   string
	scopes []string
}{
	{"/api/v1/tasks", []string{"read:tasks", "write:tasks", "admin:org"}},
	{"/api/v1/time-entries", []string{"read:time", "write:time"}},
	{"/api/v1/budgets", []string{"read:finance", "write:finance"}},
	{"/api/v1/users", []string{"read:users"}},
	{"/api/v1/billing/invoices", []string{"admin:billing"}},
}

// listFor returns the first list the scope can read.
func listFor(scope []string) (string, error) {
	for _, l := range lists {
		for _, s := range l.scopes {
			if slices.Contains(scope, s) {
				return l.path, nil
			}
		}
	}
	return "", fmt.Errorf("the granted scope %q reads none of the lists this client knows", strings.Join(scope, " "))
}

// callAPI GETs with the token the first list its scope can read (the
// tasks, when it can) and prints what it holds.
func callAPI(ctx context.Context, out io.Writer, hc *http.Client, server string, scope []string) error {
	path, err := listFor(scope)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", server+path, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var body struct {
		Data []struct {
			ID, Status, Title, Name, Note, Date string
		} `json:"data"`
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&body); err != nil {
		return err
	}
	fmt.Fprintf(out, "GET %s → %d %s\n", path, len(body.Data), path[strings.LastIndex(path, "/")+1:])
	for _, r := range body.Data {
		label := r.Title
		if label == "" {
			label = r.Name
		}
		if label == "" {
			label = r.Note
		}
		if label == "" {
			label = r.Date
		}
		fmt.Fprintf(out, "  %s  %-11s  %s\n", r.ID, r.Status, label)
	}
	return nil
}
