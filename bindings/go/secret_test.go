package gitfleet

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Tokens are secrets: no error and no value of this package shows one,
// whatever the verb.
func TestTokensNeverShown(t *testing.T) {
	const (
		good    = "ghp_SECRETgood0123456789"
		revoked = "ghp_SECRETrevoked0123456"
		spent   = "ghp_SECRETspent012345678"
	)
	url := startEmulator(t, "--token", good+":100", "--token", spent+":1",
		"--revoked", revoked)
	ctx := testContext(t)
	// show formats values at once (a lease shows more while it is open).
	checked, errorsChecked := 0, 0
	show := func(values ...any) {
		t.Helper()
		for _, v := range values {
			if e, ok := v.(error); ok && e != nil {
				errorsChecked++
			}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
				if text := fmt.Sprintf(verb, v); strings.Contains(text, "SECRET") {
					t.Errorf("value %d (%T) shows a token with %s: %s", checked, v, verb, text)
				}
			}
			checked++
		}
	}

	pool, err := NewTokenManager(WithTokens(good, revoked), WithStrategy(StrategyRoundRobin))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	client, err := NewClient(WithBaseURL(url), WithTokenManager(pool), WithToken(good))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	show(pool, client, client.Raw(), WithToken(good))

	// Results naming tokens.
	refreshed, err := client.RefreshRateLimits(ctx)
	show(refreshed, err)
	validations, err := client.ValidatePool(ctx)
	show(validations, err)
	validation, err := client.ValidateToken(ctx, revoked)
	show(validation, err)
	snapshot, err := pool.Snapshot()
	show(snapshot, err)
	doc, err := pool.SnapshotJSON()
	show(string(doc), err)

	// A lease.
	lease, err := pool.Lease(ProviderGitHub, "")
	if err != nil {
		t.Fatal(err)
	}
	show(lease)
	outcome, err := lease.Report(200, nil, nil)
	show(outcome, err)
	lease.Close()
	show(lease)

	// Errors around tokens: refused, spent, malformed, closed.
	onlyRevoked := newClient(t, url, newPool(t, revoked))
	_, err = onlyRevoked.User(ctx, "octocat")
	show(err)
	spentPool := newPool(t, spent)
	spentClient := newClient(t, url, spentPool)
	spentClient.User(ctx, "octocat")
	_, err = spentClient.User(ctx, "octocat")
	show(err)
	_, err = spentPool.Lease(ProviderGitHub, "")
	show(err)
	show(pool.AddToken("ghp_SECRET with space"))
	show(pool.AddToken("ghp_SECRET\x00nul"))
	_, err = NewClient(WithToken("ghp_SECRET with space"))
	show(err)
	_, err = client.ValidateToken(ctx, "ghp_SECRET with space")
	show(err)
	_, err = client.ValidateToken(ctx, "")
	show(err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = client.ValidateToken(cancelled, good)
	show(err)
	closedPool, _ := NewTokenManager(WithTokens(good))
	closedPool.Close()
	_, err = closedPool.RemoveToken(good)
	show(err, closedPool)

	// The credential store: its tokens, and its password.
	path := filepath.Join(t.TempDir(), "secrets.gfs")
	store, err := CreateStore(path, "pw_SECRET", weakKDF)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	show(store, store.Save(ProviderGitHub, good, "someone", ""))
	listed, err := store.List()
	show(listed, err)
	listedJSON, err := store.ListJSON()
	show(string(listedJSON), err)
	_, err = store.Token("000000000000")
	show(err)
	_, err = OpenStore(path, "wrong_SECRET")
	show(err)
	_, err = OpenStore(path+".missing", "pw_SECRET")
	show(err)
	show(store.Save(ProviderGitHub, "ghp_SECRET with space", "", ""))

	if errorsChecked < 10 {
		t.Fatalf("only %d errors were checked: the test lost its cases", errorsChecked)
	}
}
