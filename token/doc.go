// Package token owns every tap_ secret of tapioca.dev/auth: API tokens,
// OAuth access and refresh tokens, authorization codes, client secrets and
// web sessions share one format and one verification path.
//
// # The format
//
// A secret is PREFIX + R + C:
//
//   - PREFIX names the kind: "tap_" for API tokens and OAuth access tokens,
//     "tap_refresh_" for refresh tokens, "tap_session_" for web sessions,
//     "tap_code_" for authorization codes and "tap_secret_" for OAuth client
//     secrets.
//   - R is 22 characters drawn uniformly from the base62 alphabet
//     0-9A-Za-z (in that order: '0' is 0, 'A' is 10, 'a' is 36) with
//     crypto/rand, rejecting random bytes ≥ 248 so there is no modulo
//     bias: 22·log2(62) ≈ 131 bits, above the 2^-128 guessing bound of
//     RFC 6749 §10.10.
//   - C is crc32.ChecksumIEEE(PREFIX + R) written in base62 with the same
//     alphabet, most significant digit first, left-padded with '0' to 6
//     characters.
//
// So an API token is "tap_" followed by 28 characters and matches
// ^tap_[A-Za-z0-9]{28}$. The body alphabet has no '_', so the kinds never
// overlap. The checksum lets [Parse] reject typos and look-alikes before any
// store call, and lets [Scan] find leaked tokens in text with almost no false
// positives; it authenticates nothing.
//
// # Storage
//
// A store keeps only [Hash] (SHA-256) of a secret: high-entropy secrets need
// no slow KDF (NIST SP 800-63B §5.1.2.2). The plaintext is returned once, at
// creation, as a [Secret], which redacts itself in logs, fmt and JSON. Lists,
// logs and audit events show the token's public ID ("tok_…"), which shares
// nothing with the secret.
//
// # Verification
//
// [Manager.Verify]: parse and checksum (no I/O) → SHA-256 → store lookup by
// hash → kind, expiry and revocation against the injected clock → the
// user's current state from the directory → effective scopes = token scopes
// ∩ current permissions → [Principal]. Every presenter-caused failure matches
// [ErrInvalid]; store failures match [ErrUnavailable] and fail closed.
package token
