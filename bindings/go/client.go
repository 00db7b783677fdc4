package gitfleet

/*
#include "gitfleet_go.h"
*/
import "C"

import (
	"context"
	"math"
	"runtime"
	"sync"
	"time"
)

// Client is a GitHub REST client that draws its tokens from a pool: a
// request that meets a spent or revoked token is sent again on another
// one, lists are followed to their last page, and when the whole pool is
// spent the call fails with an error matching [ErrRateLimited] that
// carries the earliest reset (or waits for it, up to [WithMaxWait]).
//
// A Client is safe for concurrent use by any number of goroutines. Close
// it when done; calls still in flight then fail with [ErrClosed].
type Client struct {
	mu      sync.RWMutex // read-held while a call starts, write-held by Close
	ptr     *C.gf_client
	cleanup runtime.Cleanup
}

// ClientOption configures a [Client] made by [NewClient].
type ClientOption func(*clientSettings)

// clientSettings are the options given, applied to a gf_client_options
// by NewClient; nil means "the library's default".
type clientSettings struct {
	baseURL        *string
	token          *string
	manager        *TokenManager
	userAgent      *string
	timeout        *time.Duration
	connectTimeout *time.Duration
	maxRetries     *int
	maxWait        *time.Duration
}

// WithBaseURL sets the API root: "https://api.github.com" (the default),
// "https://HOST/api/v3" for GitHub Enterprise, or an emulator's URL.
func WithBaseURL(url string) ClientOption {
	return func(s *clientSettings) { s.baseURL = &url }
}

// WithToken sets a default token. It joins the client's pool (once, even
// if the pool has it already); without [WithTokenManager], the client gets
// a private pool.
func WithToken(token string) ClientOption {
	return func(s *clientSettings) { s.token = &token }
}

// WithTokenManager makes the client draw its tokens from m, shared: m may
// be closed afterwards; the client keeps the pool alive.
func WithTokenManager(m *TokenManager) ClientOption {
	return func(s *clientSettings) { s.manager = m }
}

// WithUserAgent sets the User-Agent header (default "gitfleet/VERSION").
func WithUserAgent(userAgent string) ClientOption {
	return func(s *clientSettings) { s.userAgent = &userAgent }
}

// WithTimeout limits each phase of one request: sending it, waiting for
// the head of the answer, reading its body (default 30 s; at least 1 ms).
func WithTimeout(d time.Duration) ClientOption {
	return func(s *clientSettings) { s.timeout = &d }
}

// WithConnectTimeout limits opening a connection (default 10 s; at least
// 1 ms).
func WithConnectTimeout(d time.Duration) ClientOption {
	return func(s *clientSettings) { s.connectTimeout = &d }
}

// WithMaxRetries sets how many times one request may be sent again: on
// another token after a limit or a 401, or after a 5xx or a network error
// (default 8).
func WithMaxRetries(n int) ClientOption {
	return func(s *clientSettings) { s.maxRetries = &n }
}

// WithMaxWait sets how long one call may wait in all for a rate-limit
// reset when every token is spent (default 0: fail at once with
// [ErrRateLimited]). A context ends the wait sooner.
func WithMaxWait(d time.Duration) ClientOption {
	return func(s *clientSettings) { s.maxWait = &d }
}

// NewClient makes a client. Without [WithToken] or [WithTokenManager] it
// sends unauthenticated requests (GitHub allows few). Close it when done.
func NewClient(opts ...ClientOption) (*Client, error) {
	var settings clientSettings
	for _, opt := range opts {
		if opt != nil {
			opt(&settings)
		}
	}
	options := C.gf_client_options_new()
	defer C.gf_client_options_free(options)
	if err := settings.apply(options); err != nil {
		return nil, err
	}
	var ptr *C.gf_client
	var cerr *C.gf_error
	if err := takeError(C.gf_client_new(options, &ptr, &cerr), cerr); err != nil {
		return nil, err
	}
	c := &Client{ptr: ptr}
	counters.clients.Add(1)
	c.cleanup = runtime.AddCleanup(c, freeClient, ptr)
	return c, nil
}

func freeClient(ptr *C.gf_client) {
	C.gf_client_free(ptr)
	counters.clients.Add(-1)
}

// apply sets the options given on a gf_client_options.
func (s *clientSettings) apply(o *C.gf_client_options) error {
	var cerr *C.gf_error
	if s.baseURL != nil {
		url, err := cString(*s.baseURL, "the base URL")
		if err != nil {
			return err
		}
		st := C.gf_client_options_set_base_url(o, url, &cerr)
		freeCString(url)
		if err := takeError(st, cerr); err != nil {
			return err
		}
	}
	if s.token != nil {
		token, err := cString(*s.token, "the token")
		if err != nil {
			return err
		}
		st := C.gf_client_options_set_token(o, token, &cerr)
		freeCString(token)
		if err := takeError(st, cerr); err != nil {
			return err
		}
	}
	if s.manager != nil {
		err := s.manager.do(func(p *C.gf_token_manager, cerr **C.gf_error) C.gf_status {
			return C.gf_client_options_set_token_manager(o, p, cerr)
		})
		if err != nil {
			return err
		}
	}
	if s.userAgent != nil {
		agent, err := cString(*s.userAgent, "the user agent")
		if err != nil {
			return err
		}
		st := C.gf_client_options_set_user_agent(o, agent, &cerr)
		freeCString(agent)
		if err := takeError(st, cerr); err != nil {
			return err
		}
	}
	return s.applyNumbers(o)
}

// applyNumbers sets the timeouts, retries and wait.
func (s *clientSettings) applyNumbers(o *C.gf_client_options) error {
	var cerr *C.gf_error
	if s.timeout != nil {
		st := C.gf_client_options_set_timeout_ms(o, C.uint64_t(milliseconds(*s.timeout)), &cerr)
		if err := takeError(st, cerr); err != nil {
			return err
		}
	}
	if s.connectTimeout != nil {
		ms := C.uint64_t(milliseconds(*s.connectTimeout))
		st := C.gf_client_options_set_connect_timeout_ms(o, ms, &cerr)
		if err := takeError(st, cerr); err != nil {
			return err
		}
	}
	if s.maxRetries != nil {
		if *s.maxRetries < 0 || int64(*s.maxRetries) > math.MaxUint32 {
			return invalidArgument("the maximum number of retries is out of range")
		}
		st := C.gf_client_options_set_max_retries(o, C.uint32_t(*s.maxRetries), &cerr)
		if err := takeError(st, cerr); err != nil {
			return err
		}
	}
	if s.maxWait != nil {
		if *s.maxWait < 0 {
			return invalidArgument("the maximum wait is negative")
		}
		st := C.gf_client_options_set_max_wait_ms(o, C.uint64_t(milliseconds(*s.maxWait)), &cerr)
		if err := takeError(st, cerr); err != nil {
			return err
		}
	}
	return nil
}

// milliseconds rounds d up to whole milliseconds; 0 for d <= 0 (which the
// library refuses where it needs a positive value).
func milliseconds(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	return uint64((d + time.Millisecond - 1) / time.Millisecond)
}

// Close frees the client. Calls still in flight fail with an error
// matching [ErrClosed]; calls made afterwards too. Close is idempotent and
// always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr != nil {
		c.cleanup.Stop()
		freeClient(c.ptr)
		c.ptr = nil
	}
	return nil
}

// String names the type; a client shows no token.
func (c *Client) String() string { return "gitfleet.Client" }

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// RateLimit is the rate limits of one token (the default token, else the
// pool's first valid one), from GET /rate_limit. It costs no quota.
func (c *Client) RateLimit(ctx context.Context) (*RateLimit, error) {
	return decodeOne[RateLimit](c.call(ctx, opRateLimit))
}

// RefreshRateLimits refreshes every pooled token's figures (all
// resources) from GET /rate_limit, using no quota. The result is keyed by
// fingerprint.
func (c *Client) RefreshRateLimits(ctx context.Context) (map[string]TokenRateLimit, error) {
	return decodeMap[TokenRateLimit](c.call(ctx, opRefreshRateLimits))
}

// AuthenticatedUser is the account of the token used (GET /user).
func (c *Client) AuthenticatedUser(ctx context.Context) (*User, error) {
	return decodeOne[User](c.call(ctx, opAuthenticatedUser))
}

// User is a user or organisation by login (GET /users/{login}).
func (c *Client) User(ctx context.Context, login string) (*User, error) {
	return decodeOne[User](c.call(ctx, opUser, login))
}

// OwnerRepositories is every repository of a user or organisation, all
// pages.
func (c *Client) OwnerRepositories(ctx context.Context, owner string) ([]Repository, error) {
	return decodeList[Repository](c.call(ctx, opOwnerRepositories, owner))
}

// Repository is one repository in full.
func (c *Client) Repository(ctx context.Context, owner, repo string) (*RepositoryDetails, error) {
	return decodeOne[RepositoryDetails](c.call(ctx, opRepository, owner, repo))
}

// Contributors is every contributor of a repository, all pages (none for
// an empty repository).
func (c *Client) Contributors(ctx context.Context, owner, repo string) ([]Contributor, error) {
	return decodeList[Contributor](c.call(ctx, opContributors, owner, repo))
}

// Branches is every branch of a repository, all pages.
func (c *Client) Branches(ctx context.Context, owner, repo string) ([]Branch, error) {
	return decodeList[Branch](c.call(ctx, opBranches, owner, repo))
}

// ValidateToken checks one token against GET /user. Only a 401 makes it
// invalid. The token need not be in the pool.
func (c *Client) ValidateToken(ctx context.Context, token string) (*TokenValidation, error) {
	return decodeOne[TokenValidation](c.call(ctx, opValidateToken, token))
}

// ValidatePool checks every pooled token; the result is keyed by
// fingerprint. Refused tokens are marked invalid in the pool.
func (c *Client) ValidatePool(ctx context.Context) (map[string]TokenValidation, error) {
	return decodeMap[TokenValidation](c.call(ctx, opValidatePool))
}
