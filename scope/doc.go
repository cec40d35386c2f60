// Package scope is the scope algebra of tapioca.dev/auth: a [Registry] of
// scope names with declared implications, and [Set], a bit set over a
// registry.
//
// Scope strings follow RFC 6749 §3.3: space-separated, case-sensitive,
// order-independent scope tokens. Only implications declared in the registry
// hold; there is no prefix or glob matching, so "read:task" is not
// "read:tasks".
//
// [Default] is Tapioca's registry (see its documentation for the
// implications). [Set.Satisfies] and [Set.Contains] honour implications;
// [Set.Narrow] computes what several sets all grant, which is how an OAuth
// grant is narrowed: requested ∩ client-allowed ∩ user permissions.
package scope
