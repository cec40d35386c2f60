// Package store is the contract between tapioca.dev/auth and the host's
// database: the records the library keeps, the small interfaces a host
// implements to keep them, and the sentinel errors those interfaces return.
//
// Secrets never enter a store. Every tap_ secret (API token, access and
// refresh token, authorization code, client secret, session) reaches a store
// only as its SHA-256 [Hash]; a dump of the store authenticates nothing.
//
// # What a host implements
//
// API tokens, the authorization code grant with PKCE, refresh tokens with
// rotation and client credentials need [Store]: 14 methods.
//
//	Tokens        CreateToken, TokenByHash, ListTokens, RevokeToken,
//	              ExpireToken, TouchToken
//	Codes         SaveCode, ConsumeCode
//	Families      CreateFamily, RotateFamily, RevokeFamily
//	Clients       Client
//	Users         User
//	Deprovisioner RevokeUser
//
// Optional capabilities — [Sweeper] (deleting expired records),
// [ClientLister] (admin screens) and [TokenUsers] (a token and its user in
// one read, for stores behind a network round trip) — are separate
// interfaces that the library probes with a type assertion; a host never
// has to implement them.
//
// # Contracts
//
// Each method states its contract in its doc comment: which error means not
// found, what is idempotent, what must be atomic, what concurrent calls may
// see. All implementations must be safe for concurrent use. The rules that security depends on:
//
//   - Not found is [ErrNotFound]. Any error that does not match a sentinel
//     of this package is a system failure, and the library fails closed on
//     it: no request is authenticated and no token is issued.
//   - Lookups return records as stored, revoked and expired ones included;
//     the library checks them against its own clock.
//   - [Codes.ConsumeCode] is atomic: of N concurrent consumers exactly one
//     wins; later ones get a [CodeUsedError] naming the family to revoke
//     (RFC 6749 §4.1.2: a code is used once, and a second use revokes what
//     the first issued).
//   - [Families.RotateFamily] is a compare-and-swap on the family's current
//     refresh token; a rotated-out token reports [ErrReused] (refresh token
//     rotation and reuse detection, RFC 9700 §4.14.2).
//   - Revocations are idempotent and final (RFC 7009 §2): revoking twice
//     succeeds, and no clock change revives a revoked record. A zero time
//     never turns a revocation into a no-op: it is recorded as the Unix
//     epoch.
//   - [Deprovisioner.RevokeUser] revokes everything of a user in one call,
//     and nothing revoked ever comes back.
//
// store/memstore implements every interface in memory. store/storetest is a
// conformance suite: run storetest.Test against your implementation to prove
// it keeps these contracts.
package store
