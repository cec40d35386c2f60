package memstore_test

import (
	"context"
	"testing"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
)

// fixtures adapts memstore's host-side writers to storetest.Fixtures.
type fixtures struct{ s *memstore.Store }

func (f fixtures) PutUser(_ context.Context, u store.User) error     { return f.s.PutUser(u) }
func (f fixtures) PutClient(_ context.Context, c store.Client) error { return f.s.PutClient(c) }

func TestConformance(t *testing.T) {
	storetest.Test(t, func(t *testing.T) (store.Store, storetest.Fixtures) {
		s := memstore.New()
		return s, fixtures{s}
	})
}
