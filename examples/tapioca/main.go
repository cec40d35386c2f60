// Command tapioca is the Tapioca demo on the in-memory store: a small
// Tapioca service wired the way a real host wires tapioca.dev/auth (package
// [tapioca.dev/auth/examples/tapioca/demo]).
//
//	go run ./examples/tapioca [-addr 127.0.0.1:8080] [-issuer URL] [-data FILE]
//
// On PostgreSQL, from the store/pgstore module, which holds the driver:
//
//	go -C store/pgstore run ./cmd/tapioca -postgres URL [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"tapioca.dev/auth/examples/tapioca/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, demo.Options{}); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "tapioca:", err)
		}
		os.Exit(2)
	}
}
