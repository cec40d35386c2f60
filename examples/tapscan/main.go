// Command tapscan finds leaked tap_ secrets: it scans files, directories
// (recursively, skipping .git; a symbolic link given as an argument is
// followed, links inside a directory are not) or standard input for secrets
// of every kind whose checksum holds, with [token.Scan], and prints where
// they are:
//
//	$ tapscan config/ deploy.sh
//	config/ci.env:3:15: tap_… secret (kind api)
//
// It never prints a secret, nor any part of one beyond "tap_". A secret
// glued to other text is found too: URL-encoded (next=%3Dtap_…), behind a
// JSON escape (\ntap_…) or run together with another secret. Look-alikes
// such as the documentation's tap_xxxxxxxxxxxxxxxxxxxxxxxxxxxx fail the
// checksum and are not reported. Lines and columns count from 1; columns
// count bytes.
//
// Exit status: 0 when nothing was found, 1 when a secret was found, 2 on an
// error (an unreadable file; the others are still scanned). Use it as a
// pre-commit hook or a CI step:
//
//	git diff --cached --name-only -z | xargs -0 go run tapioca.dev/auth/examples/tapscan
//	go run ./examples/tapscan . || exit 1
//
// With no arguments, or "-", it reads standard input.
package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"tapioca.dev/auth/token"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitClean = 0
	exitFound = 1
	exitError = 2
)

// run scans the named paths (stdin for none or "-") and returns the exit
// status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{"-"}
	}
	s := &scanner{out: stdout, errs: stderr}
	for _, arg := range args {
		if arg == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				s.fail("<stdin>", err)
				continue
			}
			s.scan("<stdin>", data)
			continue
		}
		s.path(arg)
	}
	switch {
	case s.failed:
		return exitError
	case s.found:
		return exitFound
	}
	return exitClean
}

type scanner struct {
	out, errs     io.Writer
	found, failed bool
}

func (s *scanner) fail(name string, err error) {
	s.failed = true
	fmt.Fprintf(s.errs, "tapscan: %s: %v\n", name, err)
}

// path scans a file, or every regular file under a directory. A symbolic
// link named as root is followed, to a file or a directory; links found
// while walking are skipped, so a link cycle cannot loop and nothing
// outside the tree is read.
func (s *scanner) path(root string) {
	walkRoot := root
	if fi, err := os.Lstat(root); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// WalkDir does not follow a link at its root: walk the target and
		// name files by the path the user gave.
		if target, err := filepath.EvalSymlinks(root); err == nil {
			walkRoot = target
		}
	}
	err := filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		name := p
		if walkRoot != root {
			name = root
			if rel, err := filepath.Rel(walkRoot, p); err == nil && rel != "." {
				name = filepath.Join(root, rel)
			}
		}
		if err != nil {
			s.fail(name, err)
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" && p != walkRoot {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() && p != walkRoot {
			return nil // symlinks, sockets, devices found while walking
		}
		data, err := os.ReadFile(p)
		if err != nil {
			s.fail(name, err)
			return nil
		}
		s.scan(name, data)
		return nil
	})
	if err != nil {
		s.fail(root, err)
	}
}

// scan reports every secret in data as name:line:col.
func (s *scanner) scan(name string, data []byte) {
	if !bytes.Contains(data, []byte(token.PrefixBearer)) {
		return
	}
	text := string(data)
	line, lineStart, pos := 1, 0, 0
	for _, m := range token.Scan(text) {
		for ; pos < m.Offset; pos++ {
			if text[pos] == '\n' {
				line++
				lineStart = pos + 1
			}
		}
		s.found = true
		fmt.Fprintf(s.out, "%s:%d:%d: tap_… secret (kind %s)\n", name, line, m.Offset-lineStart+1, m.Kind)
	}
}
