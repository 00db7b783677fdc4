// Command store_tokens saves GitHub tokens into an encrypted credential
// store, once, so that programs can later read them from the store instead
// of the environment (see token_manager and GITFLEET_STORE). It is the Go
// twin of examples/store_tokens.c.
//
// Usage: GITFLEET_STORE_PASSWORD=... GITHUB_TOKENS=tok1,tok2 store_tokens FILE
//
// FILE is created (owner-only) when it does not exist. The tokens come from
// GITHUB_TOKENS (comma separated) or GITHUB_TOKEN; the password from
// GITFLEET_STORE_PASSWORD. It prints what the store then holds, by
// fingerprint; never a token.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	gitfleet "github.com/gitfleet/gitfleet/bindings/go"
)

func fail(what string, err error) int {
	var gerr *gitfleet.Error
	if errors.As(err, &gerr) {
		fmt.Fprintf(os.Stderr, "%s: %v: %s\n", what, gerr.Status, gerr.Message)
	} else {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	}
	return 1
}

// openOrCreate opens path, or creates it when it does not exist yet.
func openOrCreate(path, password string) (*gitfleet.Store, error) {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return gitfleet.OpenStore(path, password)
	}
	fmt.Printf("Creating %s\n", path)
	return gitfleet.CreateStore(path, password)
}

func run() int {
	tokens := os.Getenv("GITHUB_TOKENS")
	if tokens == "" {
		tokens = os.Getenv("GITHUB_TOKEN")
	}
	password := os.Getenv("GITFLEET_STORE_PASSWORD")
	if len(os.Args) != 2 || tokens == "" || password == "" {
		fmt.Fprintln(os.Stderr, "usage: GITFLEET_STORE_PASSWORD=... GITHUB_TOKENS=tok1,tok2 "+
			"store_tokens FILE")
		return 2
	}

	store, err := openOrCreate(os.Args[1], password)
	if err != nil {
		return fail("Could not open the store", err)
	}
	defer store.Close()
	saved := 0
	for _, token := range strings.Split(tokens, ",") {
		if token = strings.TrimSpace(token); token == "" {
			continue
		}
		if err := store.Save(gitfleet.ProviderGitHub, token, "", ""); err != nil {
			return fail("Could not save a token", err)
		}
		saved++
	}
	listed, err := store.ListJSON()
	if err != nil {
		return fail("Could not list the store", err)
	}
	fmt.Printf("Saved %d token(s). The store now holds: %s\n", saved, listed)
	return 0
}

func main() {
	os.Exit(run())
}
