package demo

import (
	"context"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
)

// Store is what the demo keeps tokens, codes, refresh families, clients and
// users in: everything the library needs ([store.Store]) plus the two
// methods that register the demo's users and OAuth clients. Both replace
// the record with the same ID, so a restart on a persistent store
// re-registers the same users and clients. *pgstore.Store implements it;
// store/pgstore's cmd/tapioca adds [UserUpdater] for several instances on
// one database. The store is the demo's only record of whether a user is
// active and what they may do (see directory.go).
type Store interface {
	store.Store
	// PutUser stores u, replacing the user with the same ID.
	PutUser(ctx context.Context, u store.User) error
	// PutClient registers c, replacing the client with the same ID.
	PutClient(ctx context.Context, c store.Client) error
}

// memStore is a [memstore.Store] as a [Store]: memstore's Put methods take
// no context, since they cannot block. The optional capabilities
// (store.Sweeper, store.ClientLister) stay promoted.
type memStore struct{ *memstore.Store }

var _ Store = memStore{}

// PutUser implements [Store].
func (m memStore) PutUser(_ context.Context, u store.User) error { return m.Store.PutUser(u) }

// PutClient implements [Store].
func (m memStore) PutClient(_ context.Context, c store.Client) error { return m.Store.PutClient(c) }
