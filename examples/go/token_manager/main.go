// Command token_manager is gitfleet's token-manager workflow in Go: the
// same steps and output as examples/token_manager.c.
//
//  1. read the tokens from GITHUB_TOKENS (comma separated) or GITHUB_TOKEN
//     -- or, when GITFLEET_STORE names an encrypted credential store, from
//     that store, opened with GITFLEET_STORE_PASSWORD -- and the API root
//     from GITHUB_API_URL;
//  2. pool them in a token manager;
//  3. build a client that draws its tokens from the pool;
//  4. show every token's rate limit (GET /rate_limit costs no quota);
//  5. list the repositories of a few owners (the command-line arguments, or
//     a default set), showing how many tokens are left after each;
//  6. if some owners failed because every token was spent and the earliest
//     reset is near (GITFLEET_MAX_WAIT seconds, default 60), wait for it and
//     retry those owners once;
//  7. print a summary and the final state of every token.
//
// Tokens are secrets: this program prints fingerprints only, never a token.
// Ctrl-C cancels the call in flight (or the wait) and ends the run.
//
// Build and run (from the repository root, after
// `cargo build --release -p gitfleet`):
//
//	cd examples/go && go build -o ../../build/token_manager_go ./token_manager
//	examples/go/run_token_manager.sh   # the emulator when no token is set
//
// Exit status: 0 when the workflow ran (even if some owners could not be
// listed), 1 when no token is configured, 2 on any other setup error.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	gitfleet "github.com/gitfleet/gitfleet/bindings/go"
)

const (
	defaultAPIURL  = "https://api.github.com"
	defaultMaxWait = 60 * time.Second

	exitRan      = 0
	exitNoTokens = 1
	exitSetup    = 2
)

var defaultOwners = []string{"octocat", "torvalds", "gvanrossum", "kennethreitz", "yyx990803"}

// ownerResult is what listing one owner's repositories gave.
type ownerResult struct {
	owner        string
	status       gitfleet.Status // StatusOK, or the failure's
	repositories int
	reset        time.Time // for StatusRateLimited: the earliest reset
}

// ---- small helpers -----------------------------------------------------

// localTime formats a time as the C example does: "2024-05-01 12:34:56 CEST".
func localTime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// secondsUntil is the whole seconds from now until t; 0 when it is past.
func secondsUntil(t time.Time) int64 {
	if d := time.Until(t); d > 0 {
		return int64(d / time.Second)
	}
	return 0
}

// statusOf is the status of a library error; StatusCancelled for a
// cancelled context (Ctrl-C), StatusInternal for anything else.
func statusOf(err error) gitfleet.Status {
	var gerr *gitfleet.Error
	switch {
	case errors.As(err, &gerr):
		return gerr.Status
	case errors.Is(err, context.Canceled):
		return gitfleet.StatusCancelled
	}
	return gitfleet.StatusInternal
}

// messageOf is the library's message for an error, as gf_error_message.
func messageOf(err error) string {
	var gerr *gitfleet.Error
	if errors.As(err, &gerr) {
		return gerr.Message
	}
	return err.Error()
}

// reportError prints a library error after what, on stderr.
func reportError(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v: %s\n", what, statusOf(err), messageOf(err))
}

// ---- step 1: configuration ---------------------------------------------

// parseTokens splits a comma-separated list into trimmed, non-empty tokens.
func parseTokens(text string) []string {
	var tokens []string
	for _, token := range strings.Split(text, ",") {
		if token = strings.TrimSpace(token); token != "" {
			tokens = append(tokens, token)
		}
	}
	return tokens
}

// readTokens is GITHUB_TOKENS if it names any token, else GITHUB_TOKEN.
func readTokens() []string {
	if tokens := parseTokens(os.Getenv("GITHUB_TOKENS")); len(tokens) > 0 {
		return tokens
	}
	return parseTokens(os.Getenv("GITHUB_TOKEN"))
}

func apiURL() string {
	if url := os.Getenv("GITHUB_API_URL"); url != "" {
		return url
	}
	return defaultAPIURL
}

// maxWait is GITFLEET_MAX_WAIT in seconds, the default when unset or
// unreadable.
func maxWait() time.Duration {
	text := os.Getenv("GITFLEET_MAX_WAIT")
	if text == "" {
		return defaultMaxWait
	}
	seconds, err := strconv.ParseInt(text, 10, 64)
	if err != nil || seconds < 0 {
		fmt.Fprintf(os.Stderr, "GITFLEET_MAX_WAIT=%q is not a number of seconds; using %d\n",
			text, int(defaultMaxWait/time.Second))
		return defaultMaxWait
	}
	return time.Duration(seconds) * time.Second
}

func runningAgainstEmulator() bool {
	return os.Getenv("GITFLEET_EMULATOR") == "1"
}

func printNoTokenHelp() {
	fmt.Fprint(os.Stderr, "No GitHub token found.\n"+
		"Set GITHUB_TOKENS to a comma-separated list of tokens, or GITHUB_TOKEN to one\n"+
		"token, e.g.  GITHUB_TOKENS=ghp_one,ghp_two build/token_manager_go\n"+
		"Or run `make go-demo`, which starts the local GitHub API emulator with\n"+
		"simulated tokens and runs this example against it.\n")
}

func printEmulatorBanner() {
	fmt.Print("\n" +
		"************************************************************************\n" +
		"*  DEMO MODE: this run talks to the local GitHub API emulator, with    *\n" +
		"*  simulated tokens. It does NOT talk to GitHub.                       *\n" +
		"************************************************************************\n" +
		"\n")
}

// ---- steps 2 and 3: the pool and the client ----------------------------

func makeManager(tokens []string) (*gitfleet.TokenManager, error) {
	manager, err := gitfleet.NewTokenManager()
	if err != nil {
		reportError("Could not create the pool", err)
		return nil, err
	}
	for i, token := range tokens {
		if err := manager.AddToken(token); err != nil {
			reportError(fmt.Sprintf("Could not add token %d", i+1), err)
			manager.Close()
			return nil, err
		}
	}
	return manager, nil
}

// managerFromStore is a pool filled from the encrypted credential store at
// path, opened with the password in GITFLEET_STORE_PASSWORD.
func managerFromStore(path string) (*gitfleet.TokenManager, error) {
	password := os.Getenv("GITFLEET_STORE_PASSWORD")
	if password == "" {
		err := errors.New("no password")
		fmt.Fprintln(os.Stderr, "GITFLEET_STORE is set: put the store's password in "+
			"GITFLEET_STORE_PASSWORD")
		return nil, err
	}
	store, err := gitfleet.OpenStore(path, password)
	if err != nil {
		reportError("Could not open the credential store", err)
		return nil, err
	}
	defer store.Close()
	manager, err := gitfleet.NewTokenManager()
	if err != nil {
		reportError("Could not create the pool", err)
		return nil, err
	}
	loaded, err := store.LoadInto(manager)
	if err != nil {
		reportError("Could not load the credential store", err)
		manager.Close()
		return nil, err
	}
	fmt.Printf("Loaded %d token(s) from the credential store %s\n", loaded, path)
	return manager, nil
}

// makeClient builds the client; defaultToken ("" for none) joins the pool
// once, as in the reference.
func makeClient(url, defaultToken string,
	manager *gitfleet.TokenManager) (*gitfleet.Client, error) {
	opts := []gitfleet.ClientOption{gitfleet.WithBaseURL(url), gitfleet.WithTokenManager(manager)}
	if defaultToken != "" {
		opts = append(opts, gitfleet.WithToken(defaultToken))
	}
	client, err := gitfleet.NewClient(opts...)
	if err != nil {
		reportError("Could not create the client", err)
	}
	return client, err
}

// ---- describing tokens -------------------------------------------------

// describeStatus is the human form of a token's state.
func describeStatus(token gitfleet.TokenSnapshot) string {
	when := "an unknown time"
	if token.AvailableAt != 0 {
		when = localTime(token.AvailableTime())
	}
	switch token.Status {
	case gitfleet.TokenAvailable:
		return "Available"
	case gitfleet.TokenRateLimited:
		return "Rate limited (resets at " + when + ")"
	case gitfleet.TokenCoolingDown:
		return "Cooling down until " + when
	case gitfleet.TokenInvalid:
		return "Invalid"
	}
	return fmt.Sprintf("Unknown status %q", string(token.Status))
}

// describeCore is "remaining/limit, resets at TIME" from a token's core
// figures; refreshError says why there are none.
func describeCore(token gitfleet.TokenSnapshot, refreshError string) string {
	core, ok := token.Resources["core"]
	if !ok || core.Limit == nil {
		if refreshError == "" {
			refreshError = "not reported yet"
		}
		return "no figures (" + refreshError + ")"
	}
	left := "?"
	if core.Remaining != nil {
		left = strconv.FormatInt(*core.Remaining, 10)
	}
	when := "an unknown time"
	if core.Reset != 0 {
		when = localTime(core.ResetTime())
	}
	return fmt.Sprintf("%s/%d, resets at %s", left, *core.Limit, when)
}

// ---- step 4: rate limits -----------------------------------------------

func showRateLimits(ctx context.Context, client *gitfleet.Client, manager *gitfleet.TokenManager) {
	fmt.Println("Rate limits (GET /rate_limit, no quota used):")
	refreshed, err := client.RefreshRateLimits(ctx)
	if err != nil {
		reportError("  Could not refresh the rate limits", err)
	}
	snapshot, err := manager.Snapshot()
	if err != nil {
		reportError("Could not read the pool", err)
	}
	for i, token := range snapshot {
		fmt.Printf("  Token %d (%s): %s, %s\n", i+1, token.Fingerprint,
			describeCore(token, refreshed[token.Fingerprint].Error), describeStatus(token))
	}
	fmt.Println()
}

// ---- step 5: listing repositories --------------------------------------

func printAvailable(manager *gitfleet.TokenManager, total int) {
	available, err := manager.CountAvailable(gitfleet.ProviderGitHub, "")
	if err != nil {
		reportError("  Could not count the available tokens", err)
		return
	}
	fmt.Printf("  %d/%d tokens available\n", available, total)
}

// printPoolLine shows what each token has left, so rotation is visible:
// "  per token: 0a29b51f3386 invalid, b8482204807a 1/2 left, ...".
func printPoolLine(manager *gitfleet.TokenManager) {
	snapshot, err := manager.Snapshot()
	if err != nil {
		reportError("Could not read the pool", err)
		return
	}
	var parts []string
	for _, token := range snapshot {
		core := token.Resources["core"]
		var state string
		switch {
		case token.Status == gitfleet.TokenCoolingDown:
			state = "cooling down"
		case token.Status != gitfleet.TokenAvailable && token.Status != gitfleet.TokenRateLimited:
			state = string(token.Status)
		case core.Remaining != nil && core.Limit != nil:
			state = fmt.Sprintf("%d/%d left", *core.Remaining, *core.Limit)
		default:
			state = string(token.Status)
		}
		parts = append(parts, token.Fingerprint+" "+state)
	}
	fmt.Printf("  per token: %s\n", strings.Join(parts, ", "))
}

func printOwnerError(result *ownerResult, err error) {
	fmt.Printf("  Could not list %s: %v: %s\n", result.owner, result.status, messageOf(err))
	if result.status == gitfleet.StatusRateLimited {
		fmt.Printf("  Every token is spent; the earliest reset is at %s (in %d s)\n",
			localTime(result.reset), secondsUntil(result.reset))
	}
}

func listOwner(ctx context.Context, client *gitfleet.Client, manager *gitfleet.TokenManager,
	poolTotal int, result *ownerResult) {
	repos, err := client.OwnerRepositories(ctx, result.owner)
	result.reset = time.Time{}
	if err == nil {
		result.status = gitfleet.StatusOK
		result.repositories = len(repos)
		fmt.Printf("Found %d repositories for %s\n", result.repositories, result.owner)
	} else {
		result.status = statusOf(err)
		var gerr *gitfleet.Error
		if errors.As(err, &gerr) {
			result.reset = gerr.Reset
		}
		printOwnerError(result, err)
	}
	printAvailable(manager, poolTotal)
	printPoolLine(manager)
}

// ---- step 6: waiting for a reset ---------------------------------------

// earliestFailedReset is the earliest reset among owners that failed with
// a rate limit, or the zero Time; limited counts those owners.
func earliestFailedReset(results []ownerResult) (earliest time.Time, limited int) {
	for _, result := range results {
		if result.status != gitfleet.StatusRateLimited {
			continue
		}
		limited++
		if !result.reset.IsZero() && (earliest.IsZero() || result.reset.Before(earliest)) {
			earliest = result.reset
		}
	}
	return earliest, limited
}

// nextReset is when the pool says a token is back: its own earliest
// reset, or failing that (tokens already back) the one the failures
// carried.
func nextReset(manager *gitfleet.TokenManager, fromFailures time.Time) time.Time {
	reset, err := manager.EarliestReset(gitfleet.ProviderGitHub, "")
	if err != nil {
		reportError("Could not read the earliest reset", err)
		return fromFailures
	}
	if reset.IsZero() {
		return fromFailures
	}
	return reset
}

func retryRateLimited(ctx context.Context, client *gitfleet.Client,
	manager *gitfleet.TokenManager, poolTotal int, results []ownerResult) {
	fromFailures, limited := earliestFailedReset(results)
	if limited == 0 {
		return
	}
	limit := maxWait()
	reset := nextReset(manager, fromFailures)
	wait := secondsUntil(reset)
	fmt.Printf("\n%d owner(s) failed because every token was spent.\n", limited)
	if reset.IsZero() || time.Duration(wait)*time.Second > limit {
		when := "unknown"
		if !reset.IsZero() {
			when = localTime(reset)
		}
		fmt.Printf("The earliest reset (%s) is more than %d s away (GITFLEET_MAX_WAIT); "+
			"not waiting.\n", when, int64(limit/time.Second))
		return
	}
	fmt.Printf("Waiting until the earliest reset at %s (%d s, limit %d s), "+
		"then retrying them once.\n", localTime(reset), wait+1, int64(limit/time.Second))
	select {
	case <-time.After(time.Duration(wait+1) * time.Second):
	case <-ctx.Done():
		return
	}
	for i := range results {
		if results[i].status == gitfleet.StatusRateLimited {
			listOwner(ctx, client, manager, poolTotal, &results[i])
		}
	}
}

// ---- step 7: summary ---------------------------------------------------

func printSummary(results []ownerResult) {
	total := 0
	fmt.Println("\nSummary")
	for _, result := range results {
		if result.status == gitfleet.StatusOK {
			total += result.repositories
			fmt.Printf("  %-16s %d repositories\n", result.owner, result.repositories)
		} else {
			fmt.Printf("  %-16s failed (%v)\n", result.owner, result.status)
		}
	}
	fmt.Printf("  Total: %d repositories\n", total)
}

func printFinalTokenStates(manager *gitfleet.TokenManager) {
	snapshot, err := manager.Snapshot()
	if err != nil {
		reportError("Could not read the pool", err)
		return
	}
	fmt.Println("\nFinal token status")
	for i, token := range snapshot {
		fmt.Printf("  Token %d (%s): %s\n", i+1, token.Fingerprint, describeStatus(token))
	}
}

// ---- the workflow ------------------------------------------------------

// runWorkflow runs steps 3 to 7 on a filled pool, which it closes.
func runWorkflow(ctx context.Context, manager *gitfleet.TokenManager, defaultToken, url string,
	owners []string) int {
	defer manager.Close()
	client, err := makeClient(url, defaultToken, manager)
	if err != nil {
		return exitSetup
	}
	defer client.Close()

	snapshot, err := manager.Snapshot()
	if err != nil {
		reportError("Could not read the pool", err)
	}
	total := len(snapshot)
	fmt.Printf("Pool: %d distinct token(s)\n\n", total)
	showRateLimits(ctx, client, manager)

	fmt.Println("Listing repositories")
	results := make([]ownerResult, len(owners))
	for i, owner := range owners {
		results[i] = ownerResult{owner: owner, status: gitfleet.StatusCancelled}
		if ctx.Err() == nil {
			listOwner(ctx, client, manager, total, &results[i])
		}
	}
	retryRateLimited(ctx, client, manager, total, results)
	if ctx.Err() != nil {
		fmt.Println("\nInterrupted.")
	}
	printSummary(results)
	printFinalTokenStates(manager)
	return exitRan
}

func run() int {
	url := apiURL()
	owners := defaultOwners
	if len(os.Args) > 1 {
		owners = os.Args[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	if storePath := os.Getenv("GITFLEET_STORE"); storePath != "" {
		printHeader()
		manager, err := managerFromStore(storePath)
		if err != nil {
			return exitSetup
		}
		fmt.Printf("Using the stored GitHub token(s) against %s\n", url)
		return runWorkflow(ctx, manager, "", url, owners)
	}

	tokens := readTokens()
	if len(tokens) == 0 {
		printNoTokenHelp()
		return exitNoTokens
	}
	printHeader()
	fmt.Printf("Using %d GitHub token(s) against %s\n", len(tokens), url)
	manager, err := makeManager(tokens)
	if err != nil {
		return exitSetup
	}
	return runWorkflow(ctx, manager, tokens[0], url, owners)
}

func printHeader() {
	fmt.Printf("gitfleet %s: token manager example\n", gitfleet.Version())
	if runningAgainstEmulator() {
		printEmulatorBanner()
	}
}

func main() {
	os.Exit(run())
}
