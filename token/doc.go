// Package token owns every tap_ secret of tapioca.dev/auth: API tokens,
// OAuth access and refresh tokens, authorization codes, client secrets and
// web sessions share one format and one verification path. It generates,
// parses, hashes, scans for and redacts secrets, and its [Manager] creates,
// verifies, lists, rotates and revokes tokens over a [store.Store].
//
// # The format
//
// A secret is PREFIX + R + C. PREFIX names the kind:
//
//	tap_           API tokens and OAuth access tokens (KindAPI, KindAccess)
//	tap_refresh_   OAuth refresh tokens (KindRefresh)
//	tap_session_   web sessions (KindSession)
//	tap_code_      OAuth authorization codes (KindCode)
//	tap_secret_    OAuth client secrets (KindClientSecret)
//
// R and C are:
//
//   - R is 22 characters drawn uniformly from the base62 alphabet
//     "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" (in that
//     order: '0' is 0, 'A' is 10, 'a' is 36) with crypto/rand. Each random
//     byte b < 248 gives the character b mod 62; bytes ≥ 248 are rejected, so
//     there is no modulo bias. 22·log2(62) ≈ 131 bits, above the 2^-128
//     guessing bound of RFC 6749 §10.10.
//
//   - C is crc32.ChecksumIEEE(PREFIX + R) (the IEEE polynomial, as in zlib
//     and PNG) written in base62 with the same alphabet, most significant
//     digit first, left-padded with '0' to 6 characters.
//
// So an API token is "tap_" followed by 28 characters and matches
// ^tap_[A-Za-z0-9]{28}$, as Tapioca's public documentation promises
// (tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx); a refresh token matches
// ^tap_refresh_[A-Za-z0-9]{28}$. The body alphabet has no '_', so the kinds
// never overlap. The kind is read from the prefix; an API token and an
// OAuth access token look alike and the stored record tells them apart.
//
// The checksum lets [Parse] reject typos and look-alikes with no I/O, and
// lets [Scan] find leaked secrets in text with almost no false positives
// (a random look-alike passes with probability 2^-32), the scheme GitHub
// uses for its ghp_ tokens. It authenticates nothing: anyone can compute
// it. To check a secret in another language: split off the known prefix,
// check the 28 characters are base62, decode the last 6 as a base62 number
// and compare it with the CRC32 of everything before them.
//
// # Storage
//
// A store keeps only [Hash] (SHA-256) of a secret: high-entropy secrets need
// no slow KDF (NIST SP 800-63B §5.1.2.2), and a dump of the store
// authenticates nothing. The plaintext is returned once, at creation, as a
// [Secret], which redacts itself in fmt, logs and JSON; [Secret.Reveal] is
// the only way to the value. Lists, logs and audit events show the token's
// public ID ("tok_…"), which shares nothing with the secret.
//
// # Issuing, verifying, listing, rotating and revoking API tokens
//
// A host builds one [Manager] over its store (the directory of users may be
// a separate [store.Users]):
//
//	tokens, err := token.NewManager(token.Config{Store: st})
//
// Issue an API token from the user's settings page; show the secret once
// (it cannot be recovered: only its hash is kept):
//
//	sec, rec, err := tokens.Create(ctx, token.CreateRequest{
//		UserID: userID,
//		Name:   "CI deploys",
//		Scopes: scope.MustParse("read:tasks write:time"),
//		// ExpiresAt zero: Config.DefaultLifetime (90 days by default).
//	})
//	// errors.Is(err, token.ErrScopeExceeds): more than the user may do.
//	// errors.Is(err, token.ErrLifetime): expiry in the past or too far.
//	show(sec.Reveal(), rec.ID)
//
// Verify the Bearer token of every request (package middleware does this):
//
//	p, err := tokens.Verify(ctx, bearer)
//	switch {
//	case errors.Is(err, token.ErrInvalid):     // 401 invalid_token
//	case errors.Is(err, token.ErrUnavailable): // 503: fail closed
//	case !p.Scopes.Contains("write:time"):     // 403 insufficient_scope
//	}
//
// The [Principal] names the token (TokenID), the user, the organization and
// the effective scopes: the token's scopes narrowed by the user's
// permissions now, so a demotion in the directory applies on the next
// request, and a deactivated user's tokens stop working at once.
//
// List a user's tokens (revoked and expired ones included; [Manager.Live]
// tells which still work), rotate one, or revoke one. [Manager.Rotate] and
// [Manager.RevokeForUser] take the user's ID and refuse a token of another
// user, so a settings page can pass the ID from the request safely:
//
//	toks, err := tokens.List(ctx, userID)         // ID, Name, Scopes, times; never a secret
//	sec, rec, err := tokens.Rotate(ctx, userID, id, time.Hour) // old one works one more hour
//	err = tokens.RevokeForUser(ctx, userID, id)   // errors.Is(err, store.ErrNotFound) if not theirs
//
// Rotation keeps the name, scopes and expiry and changes the secret; the old
// secret is revoked at once (grace 0) or expires after the grace period (at
// most [MaxRotationGrace], 24 h). A token is rotated at most once, even by
// concurrent calls in several processes: the losers get [ErrRotated]. When
// a user is deprovisioned (SSO),
// [Manager.Deprovision] revokes all of the user's tokens, refresh families
// and codes in one store call; re-provisioning revives none of them.
// Revocation is state, not time: no clock change brings a revoked token
// back.
//
// # Verification
//
// [Manager.Verify]: parse and checksum (no I/O: garbage, look-alikes and
// secrets of another kind never reach the store) → SHA-256 → one store
// lookup by hash → revocation and expiry against the injected clock → the
// user's current state from the directory → effective scopes = token
// scopes ∩ current permissions → [Principal]. Every presenter-caused
// failure is exactly [ErrInvalid], so nobody outside can tell malformed,
// unknown, expired, revoked and wrong-kind tokens apart (RFC 6750 §3.1
// invalid_token); the reason is logged at Debug. Store failures, and a
// context that ends during a store call, match [ErrUnavailable]; a store
// that returns a zero or foreign record counts as not found. A panicking
// store is not recovered here: the panic reaches the caller (the
// middleware answers 500), so it can never become a pass.
//
// A use is recorded with [store.Tokens.TouchToken] only when the record's
// LastUsedAt is older than [Config.TouchInterval] (a minute by default),
// and an in-process throttle lets one request per token and interval do
// it, even when many arrive at once or the store's record lags: there is no
// store write on every request. A failed touch fails the verification with
// [ErrUnavailable], like every other store error.
//
// # Audit events
//
// The manager logs through [log/slog] ([Config.Logger]), with the token's
// public ID, kind, user, organization and client, and never a secret:
//
//	Info   "token created"     token_id kind user org client
//	Info   "token revoked"     token_id (and kind user org via RevokeForUser)
//	Info   "token rotated"     token_id old_token_id user org grace
//	Info   "user deprovisioned" user org
//	Debug  "token verification failed" reason (malformed, wrong kind, unknown,
//	       unsound record, revoked, expired, unknown user, inactive user,
//	       unknown client) and, once the record is known, token_id kind user org client
//	Warn   "token: recording last use failed" token_id error
//	Error  "token: store failed" op token_id error (Warn when the context ended)
//
// # Scanning and redaction
//
// [Scan] finds secrets of every kind in arbitrary text, reporting those
// whose checksum holds, even glued to letters or digits (URL-encoded
// "%3Dtap_…", JSON-escaped "\ntap_…"): what a pre-commit hook or CI secret
// scanner needs (Tapioca's documentation: "Never commit tokens to version
// control"); the program examples/tapscan is one. [Redact] replaces them
// with [Mask], and [ReplaceAttr] plugs redaction into any [slog.Handler].
package token
