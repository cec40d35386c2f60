package pgstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/pgstore"
	"tapioca.dev/auth/store/storetest"
)

// The conformance suite against a real server, every behaviour on one
// schema shared by the whole run, as instances share a production
// database.
func TestConformance(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	storetest.Test(t, func(t *testing.T) (store.Store, storetest.Fixtures) { return st, st })
}

// The suite again with two instances on one schema, both migrated: users
// and clients written through one, everything else through the other. The
// schema holds all the state; the instances hold none.
func TestConformanceTwoInstances(t *testing.T) {
	t.Parallel()
	schema := newSchema(t)
	a, err := pgstore.New(newPool(t, schema))
	require.NoError(t, err)
	require.NoError(t, a.Migrate(context.Background()))
	b, err := pgstore.New(newPool(t, schema))
	require.NoError(t, err)
	require.NoError(t, b.Migrate(context.Background()))
	storetest.Test(t, func(t *testing.T) (store.Store, storetest.Fixtures) { return b, a })
}
