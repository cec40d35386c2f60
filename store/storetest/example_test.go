package storetest_test

import (
	"context"
	"errors"
	"fmt"

	"tapioca.dev/auth/store"
	"tapioca.dev/auth/store/memstore"
	"tapioca.dev/auth/store/storetest"
)

// A Faulty store makes chosen methods fail, hang, return zero records or
// panic, and counts calls: what a test of the layers above needs to prove
// they fail closed.
func ExampleNewFaulty() {
	ctx := context.Background()
	fs := storetest.NewFaulty(memstore.New())

	fs.Fail("TokenByHash", nil)
	_, err := fs.TokenByHash(ctx, store.Hash{1})
	fmt.Println(errors.Is(err, storetest.ErrInjected), errors.Is(err, store.ErrNotFound))

	fs.Zero("User") // a zero record with a nil error
	u, err := fs.User(ctx, "u1")
	fmt.Printf("%q %v\n", u.ID, err)

	fs.Heal(storetest.AllMethods)
	_, err = fs.TokenByHash(ctx, store.Hash{1})
	fmt.Println(errors.Is(err, store.ErrNotFound))

	fmt.Println(fs.Calls("TokenByHash"), fs.Calls(storetest.AllMethods))
	// Output:
	// true false
	// "" <nil>
	// true
	// 2 3
}
