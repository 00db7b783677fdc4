package gitfleet_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"

	gitfleet "github.com/gitfleet/gitfleet/bindings/go"
)

// A pool of two tokens and a client drawing from it.
func Example() {
	pool, err := gitfleet.NewTokenManager(
		gitfleet.WithTokens(os.Getenv("GITHUB_TOKEN_1"), os.Getenv("GITHUB_TOKEN_2")))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	client, err := gitfleet.NewClient(gitfleet.WithTokenManager(pool),
		gitfleet.WithMaxWait(time.Minute))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	repos, err := client.OwnerRepositories(ctx, "octocat")
	var gerr *gitfleet.Error
	switch {
	case errors.As(err, &gerr) && gerr.Status == gitfleet.StatusRateLimited:
		fmt.Println("every token is spent until", gerr.Reset, "on", gerr.Resource)
	case err != nil:
		log.Fatal(err)
	default:
		for _, repo := range repos {
			fmt.Println(repo.FullName, repo.StargazersCount)
		}
	}
}

// A request sent with net/http on a leased token, reported to the pool.
func ExampleTokenManager_Lease() {
	pool, err := gitfleet.NewTokenManager(gitfleet.WithTokens(os.Getenv("GITHUB_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	for attempt := 0; attempt < 3; attempt++ {
		lease, err := pool.Lease(gitfleet.ProviderGitHub, "core")
		if errors.Is(err, gitfleet.ErrRateLimited) {
			log.Fatal("every token is spent: ", err)
		} else if err != nil {
			log.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/users/octocat", nil)
		lease.Authorize(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			lease.Close() // no response: the use goes back to the pool
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		outcome, _ := lease.Report(resp.StatusCode, resp.Header, body)
		lease.Close()
		if !outcome.RetryOnAnotherToken() {
			fmt.Println(outcome, len(body))
			return
		}
	}
}
