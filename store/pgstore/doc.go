// Package pgstore keeps the records of tapioca.dev/auth in PostgreSQL, with
// github.com/jackc/pgx/v5. It implements every interface of package store —
// [store.Store] (tokens, codes, families, clients, users, deprovisioning),
// [store.Sweeper] and [store.ClientLister] — so that any number of service
// instances share one database: a token revoked through one instance is
// rejected by every other on its next verification, because revocation is
// state in the shared database, not in a process.
//
// It is a Go module of its own (tapioca.dev/auth/store/pgstore), so that
// the core module stays free of database drivers.
//
// # Use
//
//	st, err := pgstore.Open(ctx, "postgres://auth@db/tapioca?search_path=auth")
//	if err != nil { … }
//	defer st.Close()
//	if err := st.Migrate(ctx); err != nil { … }
//	// st is a store.Store: pass it to token.NewManager and oauth.NewServer.
//
// or, with a pool the host already has, [New](pool).
//
// # Schema and migrations
//
// The schema is a list of versioned SQL files embedded in the package
// (migrations/0001_init.sql, …), listed by [Migrations]. [Store.Migrate]
// applies those not yet recorded in the tapioca_schema_migrations table, in
// one transaction under an advisory lock, so it is idempotent and safe when
// several instances start at once. Every table is prefixed tapioca_ and is
// created in the first schema of the connection's search_path.
//
// Secrets never reach the database: tokens, authorization codes, refresh
// tokens and client secrets are stored as the SHA-256 of the secret (bytea,
// 32 bytes); token and code hashes are unique and indexed, so a lookup is
// one index probe. Scopes are stored as their RFC 6749 §3.3 string and
// parsed back against a registry ([WithRegistry]; [scope.Default] unless
// set); a stored scope the registry does not know fails the read. Times are
// timestamptz, kept to the microsecond and returned in UTC; unset optional
// times are NULL.
//
// # Atomicity
//
// [Store.ConsumeCode] is one conditional UPDATE … RETURNING and
// [Store.RotateFamily] one conditional UPDATE of the family that revokes
// the presented token in the same statement: PostgreSQL's row lock makes
// concurrent callers, in any process, queue behind the winner and then see
// the changed row, so exactly one wins (RFC 6749 §4.1.2, §10.4; RFC 9700
// §4.14.2). [Store.RevokeFamily] and [Store.RevokeUser] run in one
// transaction: all or nothing.
//
// # Sweeping
//
// Expired rows stay until deleted: lookups return them and the library
// rejects them by its clock. [Store.DeleteExpired] ([store.Sweeper]) deletes
// at most a given number per call, oldest first, skipping rows locked by a
// concurrent operation; a periodic job calls it until it returns less than
// its limit.
//
// # Errors
//
// No rows → [store.ErrNotFound]; a unique violation → [store.ErrExists].
// Every other failure — connection refused, a backend killed, a timeout,
// corrupt data — is returned as a system error matching no sentinel of
// package store, so the library fails closed on it. Error strings name the
// operation and public IDs, never a secret (the store holds none).
//
// # Hosts with their own schema
//
// A host that keeps users, clients or tokens in its own tables does not
// need this package: it implements the interfaces of package store on its
// schema and proves them with store/storetest, as this package's tests do.
package pgstore
