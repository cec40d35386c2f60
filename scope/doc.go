// Package scope is the scope algebra of tapioca.dev/auth: a [Registry] of
// scope names with declared implications, and [Set], a bit set over a
// registry. It uses the standard library only; every other package of the
// module builds on it.
//
// # Scope strings
//
// Scope strings follow RFC 6749 §3.3: space-separated scope tokens,
// case-sensitive and order-independent, each token made of the printable
// ASCII characters except space, '"' and '\':
//
//	scope       = scope-token *( SP scope-token )
//	scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
//
// [Registry.Parse] accepts exactly that (single spaces, no empty tokens, no
// leading or trailing space) and refuses tokens the registry does not know
// with an error matching [ErrUnknownScope] that names the token; the OAuth
// layer answers it with invalid_scope (RFC 6749 §4.1.2.1, §5.2).
// [Set.String] writes the canonical form: the registry's order, each scope
// once. Parsing and formatting round-trip: Parse(s.String()) == s.
//
// # Implications
//
// A registry declares implications such as write:tasks ⇒ read:tasks; they
// are transitive and may not form cycles. Only declared implications hold:
// there is no prefix, glob or hierarchy matching, so "read:task" is not
// "read:tasks" and "admin:org" does not imply "admin:billing". [Default] is
// Tapioca's registry:
//
//	write:tasks   ⇒ read:tasks
//	write:time    ⇒ read:time
//	write:finance ⇒ read:finance
//	admin:org     ⇒ write:tasks, write:time, write:finance, read:users (and so every read:X)
//	admin:billing ⇒ nothing, and nothing implies it
//
// # The algebra
//
// A [Set] is a comparable value: a registry pointer, a 64-bit word of
// members (one bit per scope) and a second word caching its closure, so
// every operation below is a few instructions and allocates nothing (except
// [Set.String] and [Set.Names]).
//
// The closure of a set, [Set.Closure], is everything it grants: its members
// and all they imply. Two sets are [Set.Equivalent] when their closures are
// equal; [Set.Minimal] is the smallest equivalent set, the members no other
// member implies ("admin:org read:tasks" → "admin:org").
//
// The plain set operations work on members as written: [Set.Union],
// [Set.Intersect], [Set.Difference] and [Set.Equal] (which is ==). Union and
// Intersect are commutative, associative and idempotent, and absorb each
// other: a ∪ (a ∩ b) = a and a ∩ (a ∪ b) = a.
//
// The questions about what a set grants work on closures:
//
//   - [Set.Contains] (one scope) and [Set.Satisfies] (every scope of a
//     required set) answer "may this request proceed?":
//     "write:tasks" satisfies "read:tasks", never the other way round.
//     a.Satisfies(b) exactly when b.Closure() ⊆ a.Closure().
//   - [Set.SatisfiesAny] answers "does it grant at least one of these?".
//   - [Set.Narrow] intersects closures and returns the result in minimal
//     form, so "write:tasks" narrowed by "read:tasks" is "read:tasks". It is
//     how a grant is computed (RFC 6749 §3.3 lets the server issue less than
//     was requested): granted = requested ∩ client-allowed ∩ the user's
//     permissions. Narrow is commutative, associative and idempotent up to
//     equivalence, and never widens: what it returns is granted by every
//     input.
//
// # Example
//
//	requested := scope.MustParse("write:tasks read:finance admin:billing")
//	allowed := scope.MustParse("admin:org")            // what the client may ask for
//	user := scope.MustParse("read:tasks read:finance") // the user's permissions
//	granted := requested.Narrow(allowed, user)         // "read:tasks read:finance"
//	granted.Satisfies(scope.MustParse("read:tasks"))   // true
//	granted.Contains(scope.WriteTasks)                 // false
//
// Other services build their own registry with [NewRegistry], which refuses
// duplicate names, names outside the grammar, more than [MaxScopes] scopes,
// implications naming unknown scopes and implication cycles.
package scope
