// Package tour holds the README's short tour of tapioca.dev/auth as code
// that is compiled and run by go test: every Go snippet of the README's
// "A short tour" section is a verbatim piece of tour_test.go, and
// TestREADMESnippets fails when they drift apart.
package tour
