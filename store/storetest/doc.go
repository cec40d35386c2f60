// Package storetest checks that an implementation of the [store] interfaces
// keeps the contracts tapioca.dev/auth depends on, and provides [Faulty], a
// store wrapper that injects failures for tests of the packages above.
//
// The contracts it checks are the ones security rests on: an authorization
// code is redeemed at most once, and a second redemption names the grant
// to revoke (RFC 6749 §4.1.2); refresh tokens rotate as a
// compare-and-swap and a rotated-out token is reported as reuse (RFC 9700
// §4.14.2); revocation is immediate, idempotent and final (RFC 7009 §2);
// deprovisioning a user revokes everything at once; not found is
// [store.ErrNotFound] and nothing else.
//
// It imports only the standard library (and the library's own store and
// scope packages), so an implementer running it pulls in nothing.
//
// # Typical usage
//
// In the tests of your store package:
//
//	func TestStore(t *testing.T) {
//		storetest.Test(t, func(t *testing.T) (store.Store, storetest.Fixtures) {
//			s := mystore.New(testDB(t))
//			return s, s // when the store can also write users and clients
//		})
//	}
//
// [Test] calls the factory once per behaviour, in a subtest of its own
// (t.Run per behaviour: "NotFound", "TokenRoundTrip", "CodeConcurrent", …),
// so a failure names the contract that broke and go test -run selects one.
// The factory may return a fresh store each time or the same one: every
// record the suite writes has an ID and a hash unique to the run (a random
// per-run prefix), so the suite can run against one shared database, again
// and again, without cleaning up. The suite never runs its subtests in
// parallel. It leaves its records behind (a few hundred rows a run, IDs
// starting with "storetest-"); those it creates already expired are
// removed by its Sweeper behaviour.
//
// [Fixtures] is the small setup interface the suite needs beyond
// [store.Store]: creating and updating users and clients, which belong to
// the host and which [store.Store] only reads. A host whose users live
// elsewhere (a directory service) returns a Fixtures that writes wherever
// its [store.Users] reads from.
//
// The suite uses fixed timestamps in 2026 (never the wall clock; the
// zero-time rules add the zero time, the Unix epoch and a day in 1960),
// never sleeps, and checks times with [time.Time.Equal] at whole-second
// precision, so stores that keep microseconds (PostgreSQL) or drop the time
// zone pass. Scope sets are built from [scope.Default] and compared by
// their canonical string. Optional capabilities ([store.Sweeper],
// [store.ClientLister], [store.TokenUsers]) are tested when the store has them and skipped
// with t.Skip when it has not.
//
// # Fault injection
//
// [NewFaulty] wraps any [store.Store]:
//
//	fs := storetest.NewFaulty(memstore.New())
//	fs.Fail("TokenByHash", nil)   // every lookup fails with ErrInjected
//	fs.Hang(storetest.AllMethods) // every method blocks until ctx is done
//	fs.Heal(storetest.AllMethods)
//	n := fs.Calls("TokenByHash")  // a spy: how many lookups reached the store
package storetest
