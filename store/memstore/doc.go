// Package memstore keeps every [store] record in memory: tokens, codes,
// refresh families, clients and users. It implements [store.Store] and the
// optional [store.Sweeper] and [store.ClientLister], and passes the
// conformance suite of store/storetest.
//
// Codes are consumed at most once under one lock (RFC 6749 §4.1.2),
// refresh families rotate as a compare-and-swap (RFC 9700 §4.14.2), and
// revocations are idempotent and final (RFC 7009 §2).
//
// It is meant for tests, examples and single-process services; records do
// not survive a restart and instances do not share state (use
// store/pgstore for several instances).
//
// # Concurrency and cost
//
// A [Store] is safe for concurrent use and starts no goroutine. Lookups
// ([Store.TokenByHash], [Store.User], [Store.Client]) take only a read
// lock, so verifications run in parallel; writes take the write lock for a
// few map operations. [Store.TokenByHash] allocates nothing.
//
// Expiry is lazy: expired records stay (and lookups return them, as the
// contract requires) until [Store.DeleteExpired] removes them; call it from
// a timer of your own if the process lives long.
//
// Tokens are kept compactly, under 200 bytes of heap per stored token with
// its indexes (BenchmarkLookup reports the figure as B/token): 96-byte
// records in a slab of fixed-size chunks, times as int64 nanoseconds, the
// (user, organization, client) triple and the scope set interned, and the
// hash and ID indexes as open-addressing tables of 8-byte entries.
// Times are kept to the nanosecond between the years 1678 and 2262 and
// clamped to that range outside it (an expiry in the year 9999 reads back
// as 2262); they read back in UTC. The interning tables keep every distinct
// (user, organization, client) triple and scope set ever stored, which is
// bounded by the host's directory and clients, not by the number of tokens.
// A token's ID, FamilyID and Name together may hold at most 65,535 bytes.
//
// # The host's records
//
// Users and clients belong to the host; [store.Store] only reads them.
// [Store.PutUser], [Store.PutClient] and their siblings write them, for
// tests and examples:
//
//	st := memstore.New()
//	st.PutUser(store.User{ID: "u1", OrgID: "acme", Active: true, Permissions: scope.MustParse("write:tasks")})
//	st.SetUserActive("u1", false) // deprovisioned in the directory
package memstore
