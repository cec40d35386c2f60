package pgstore_test

import (
	"context"
	"log"
	"os"

	"tapioca.dev/auth/store/pgstore"
	"tapioca.dev/auth/token"
)

// Open a store, bring its schema up to date and verify tokens on it. (Not
// run by go test: it needs a server.)
func ExampleOpen() {
	ctx := context.Background()
	st, err := pgstore.Open(ctx, os.Getenv("TAPIOCA_PG_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil { // idempotent; safe when instances start together
		log.Fatal(err)
	}
	tokens, err := token.NewManager(token.Config{Store: st})
	if err != nil {
		log.Fatal(err)
	}
	_ = tokens // pass to middleware.Authenticate and oauth.NewServer
}
