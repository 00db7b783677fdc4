package gitfleet

import (
	"fmt"
	"strconv"
)

// Status is the outcome code of a library call: the C API's gf_status,
// with the same stable numbers (grouped by tens, never reused).
type Status int32

// The statuses. Their numbers are those of the C API.
const (
	// StatusOK is success; no error carries it.
	StatusOK Status = 0
	// StatusInvalidArgument: an argument was refused before anything was
	// sent (an empty or malformed token, an out-of-range value, ...).
	StatusInvalidArgument Status = 1
	// StatusInternal: a bug inside the library; the message says where.
	StatusInternal Status = 2
	// StatusAuth: the credentials were refused (401), or no usable token
	// is left in the pool.
	StatusAuth Status = 10
	// StatusRateLimited: every token is spent; the error carries the
	// earliest reset and the resource.
	StatusRateLimited Status = 11
	// StatusSecondaryLimited: GitHub's secondary limit; the error carries
	// the retry-after.
	StatusSecondaryLimited Status = 12
	// StatusNotFound: 404.
	StatusNotFound Status = 13
	// StatusForbidden: a 403 that is not a rate limit.
	StatusForbidden Status = 14
	// StatusHTTP: another unexpected HTTP status; the error carries it.
	StatusHTTP Status = 15
	// StatusNetwork: the connection failed or broke.
	StatusNetwork Status = 20
	// StatusTimeout: the request timed out.
	StatusTimeout Status = 21
	// StatusDecode: a response could not be decoded.
	StatusDecode Status = 22
	// StatusCancelled: the call was cancelled. Calls of this package
	// return ctx.Err() instead; an error with this status matches
	// context.Canceled.
	StatusCancelled Status = 30
	// StatusShutDown: the client was closed while the call was in flight,
	// or the object was used after Close.
	StatusShutDown Status = 31
	// StatusIO: a file could not be read, written or locked.
	StatusIO Status = 40
	// StatusCrypto: a credential store failed authentication: wrong
	// password or key, or the file was changed.
	StatusCrypto Status = 41
	// StatusFormat: not a credential store, truncated, or an unsupported
	// version.
	StatusFormat Status = 42
)

var statusNames = map[Status]string{
	StatusOK:               "GF_STATUS_OK",
	StatusInvalidArgument:  "GF_STATUS_INVALID_ARGUMENT",
	StatusInternal:         "GF_STATUS_INTERNAL",
	StatusAuth:             "GF_STATUS_AUTH",
	StatusRateLimited:      "GF_STATUS_RATE_LIMITED",
	StatusSecondaryLimited: "GF_STATUS_SECONDARY_LIMITED",
	StatusNotFound:         "GF_STATUS_NOT_FOUND",
	StatusForbidden:        "GF_STATUS_FORBIDDEN",
	StatusHTTP:             "GF_STATUS_HTTP",
	StatusNetwork:          "GF_STATUS_NETWORK",
	StatusTimeout:          "GF_STATUS_TIMEOUT",
	StatusDecode:           "GF_STATUS_DECODE",
	StatusCancelled:        "GF_STATUS_CANCELLED",
	StatusShutDown:         "GF_STATUS_SHUT_DOWN",
	StatusIO:               "GF_STATUS_IO",
	StatusCrypto:           "GF_STATUS_CRYPTO",
	StatusFormat:           "GF_STATUS_FORMAT",
}

// String is the C API's name of the status, as gf_status_name gives it
// ("GF_STATUS_RATE_LIMITED"); "GF_STATUS_UNKNOWN" for another number.
func (s Status) String() string {
	if name, ok := statusNames[s]; ok {
		return name
	}
	return cStatusName(s) // a status newer than this package, or "GF_STATUS_UNKNOWN"
}

// Provider is a Git hosting provider (the C API's gf_provider). Only
// GitHub has a client; tokens of the others can be pooled and leased.
type Provider int32

// The providers.
const (
	// ProviderGitHub is github.com or GitHub Enterprise.
	ProviderGitHub Provider = 0
	// ProviderGitLab is GitLab.
	ProviderGitLab Provider = 1
	// ProviderBitbucket is Bitbucket.
	ProviderBitbucket Provider = 2
)

var providerNames = []string{"github", "gitlab", "bitbucket"}

// String is the provider's name in snapshots: "github", "gitlab" or
// "bitbucket".
func (p Provider) String() string {
	if p >= 0 && int(p) < len(providerNames) {
		return providerNames[p]
	}
	return "Provider(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText gives the name String gives.
func (p Provider) MarshalText() ([]byte, error) {
	if p < 0 || int(p) >= len(providerNames) {
		return nil, fmt.Errorf("gitfleet: unknown provider %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads a provider's name, as snapshots carry it.
func (p *Provider) UnmarshalText(text []byte) error {
	for i, name := range providerNames {
		if string(text) == name {
			*p = Provider(i)
			return nil
		}
	}
	return fmt.Errorf("gitfleet: unknown provider %q", text)
}

// Strategy is how the pool picks a token (the C API's gf_strategy).
type Strategy int32

// The strategies.
const (
	// StrategyRateAware (the default) picks the token with the most
	// requests left for the resource; ties go to the least recently used.
	StrategyRateAware Strategy = 0
	// StrategyRoundRobin picks each available token in turn, in the order
	// they were added.
	StrategyRoundRobin Strategy = 1
	// StrategyPriority picks the highest priority first, then rate-aware.
	StrategyPriority Strategy = 2
)

// String is the strategy's name: "rate_aware", "round_robin", "priority".
func (s Strategy) String() string {
	switch s {
	case StrategyRateAware:
		return "rate_aware"
	case StrategyRoundRobin:
		return "round_robin"
	case StrategyPriority:
		return "priority"
	}
	return "Strategy(" + strconv.Itoa(int(s)) + ")"
}

// Outcome is what a reported response meant for its token (the C API's
// gf_outcome).
type Outcome int32

// The outcomes.
const (
	// OutcomeSuccess: 2xx.
	OutcomeSuccess Outcome = 0
	// OutcomeNotModified: 304.
	OutcomeNotModified Outcome = 1
	// OutcomeInvalidToken: 401; the token is now invalid. Lease another
	// and retry.
	OutcomeInvalidToken Outcome = 2
	// OutcomePrimaryLimit: the token is spent for the resource. Lease
	// another and retry.
	OutcomePrimaryLimit Outcome = 3
	// OutcomeSecondaryLimit: a secondary limit; the token cools down.
	// Lease another and retry.
	OutcomeSecondaryLimit Outcome = 4
	// OutcomeForbidden: a 403 that is not a limit; do not retry.
	OutcomeForbidden Outcome = 5
	// OutcomeNotFound: 404.
	OutcomeNotFound Outcome = 6
	// OutcomeServerError: 5xx; retry later.
	OutcomeServerError Outcome = 7
	// OutcomeOtherError: any other status.
	OutcomeOtherError Outcome = 8
)

var outcomeNames = []string{
	"success", "not_modified", "invalid_token", "primary_limit", "secondary_limit",
	"forbidden", "not_found", "server_error", "other_error",
}

// String is the outcome's name, e.g. "primary_limit".
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// RetryOnAnotherToken reports whether the request should be sent again on
// a newly leased token: the token was refused or is spent or cooling down.
func (o Outcome) RetryOnAnotherToken() bool {
	return o == OutcomeInvalidToken || o == OutcomePrimaryLimit || o == OutcomeSecondaryLimit
}

// TokenStatus is a token's state, as snapshots and refreshes give it.
type TokenStatus string

// The token states.
const (
	// TokenAvailable: usable.
	TokenAvailable TokenStatus = "available"
	// TokenRateLimited: spent for a resource until its reset.
	TokenRateLimited TokenStatus = "rate_limited"
	// TokenCoolingDown: resting after a secondary limit.
	TokenCoolingDown TokenStatus = "cooling_down"
	// TokenInvalid: refused by the server (or marked so); out until added
	// again.
	TokenInvalid TokenStatus = "invalid"
)
