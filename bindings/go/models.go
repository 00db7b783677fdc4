package gitfleet

import (
	"encoding/json"
	"time"
)

// The results of client calls: the library's models, decoded from its
// JSON with GitHub's field names. A field GitHub left out or null is the
// zero value. [RawClient] gives the undecoded documents.

// Account is the account that owns a repository: GitHub's "simple user".
type Account struct {
	// Login is the login name.
	Login string `json:"login"`
	// ID is the numeric id.
	ID int64 `json:"id"`
	// NodeID is the GraphQL node id.
	NodeID string `json:"node_id"`
	// AvatarURL is the avatar image's URL.
	AvatarURL string `json:"avatar_url"`
	// HTMLURL is the profile page.
	HTMLURL string `json:"html_url"`
	// Type is "User", "Organization" or "Bot".
	Type string `json:"type"`
	// SiteAdmin says whether it is a GitHub staff account.
	SiteAdmin bool `json:"site_admin"`
}

// User is a user or organisation profile (GET /user, GET /users/{login}).
type User struct {
	// Login is the login name.
	Login string `json:"login"`
	// ID is the numeric id.
	ID int64 `json:"id"`
	// NodeID is the GraphQL node id.
	NodeID string `json:"node_id"`
	// AvatarURL is the avatar image's URL.
	AvatarURL string `json:"avatar_url"`
	// HTMLURL is the profile page.
	HTMLURL string `json:"html_url"`
	// Type is "User", "Organization" or "Bot".
	Type string `json:"type"`
	// SiteAdmin says whether it is a GitHub staff account.
	SiteAdmin bool `json:"site_admin"`
	// Name is the display name.
	Name string `json:"name"`
	// Company is the company.
	Company string `json:"company"`
	// Blog is the blog or website.
	Blog string `json:"blog"`
	// Location is the location.
	Location string `json:"location"`
	// Email is the public e-mail address.
	Email string `json:"email"`
	// Bio is the biography.
	Bio string `json:"bio"`
	// PublicRepos is the number of public repositories.
	PublicRepos int `json:"public_repos"`
	// Followers is the number of followers.
	Followers int `json:"followers"`
	// Following is the number of accounts followed.
	Following int `json:"following"`
	// CreatedAt is when the account was created.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the profile last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// License is a repository's licence, as GitHub summarises it.
type License struct {
	// Key is the short key, e.g. "mit".
	Key string `json:"key"`
	// Name is the full name.
	Name string `json:"name"`
	// SPDXID is the SPDX identifier.
	SPDXID string `json:"spdx_id"`
}

// Repository is a repository as listed (GET /users/{owner}/repos).
type Repository struct {
	// ID is the numeric id.
	ID int64 `json:"id"`
	// NodeID is the GraphQL node id.
	NodeID string `json:"node_id"`
	// Name is the name without the owner.
	Name string `json:"name"`
	// FullName is "owner/name".
	FullName string `json:"full_name"`
	// Owner is the owning account.
	Owner Account `json:"owner"`
	// Private says whether the repository is private.
	Private bool `json:"private"`
	// HTMLURL is the web page.
	HTMLURL string `json:"html_url"`
	// Description is the description.
	Description string `json:"description"`
	// Fork says whether it is a fork.
	Fork bool `json:"fork"`
	// URL is the API URL.
	URL string `json:"url"`
	// CloneURL is the clone URL over HTTPS.
	CloneURL string `json:"clone_url"`
	// Homepage is the homepage.
	Homepage string `json:"homepage"`
	// Language is the main language.
	Language string `json:"language"`
	// Size is the size in KiB.
	Size int64 `json:"size"`
	// StargazersCount is the number of stars.
	StargazersCount int `json:"stargazers_count"`
	// WatchersCount is the number of watchers.
	WatchersCount int `json:"watchers_count"`
	// ForksCount is the number of forks.
	ForksCount int `json:"forks_count"`
	// OpenIssuesCount is the number of open issues and pull requests.
	OpenIssuesCount int `json:"open_issues_count"`
	// DefaultBranch is the default branch.
	DefaultBranch string `json:"default_branch"`
	// Archived says whether it is archived.
	Archived bool `json:"archived"`
	// Disabled says whether it is disabled.
	Disabled bool `json:"disabled"`
	// Visibility is "public", "private" or "internal".
	Visibility string `json:"visibility"`
	// Topics are the repository's topics.
	Topics []string `json:"topics"`
	// License is the licence summary; nil when GitHub names none.
	License *License `json:"license"`
	// CreatedAt is when the repository was created.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when it was last updated.
	UpdatedAt time.Time `json:"updated_at"`
	// PushedAt is when it was last pushed to.
	PushedAt time.Time `json:"pushed_at"`
}

// RepositoryDetails is a repository in full (GET /repos/{owner}/{repo}):
// the listed fields and the counts only the details carry.
type RepositoryDetails struct {
	// Repository holds the fields a listing carries too.
	Repository
	// SubscribersCount is the number of watchers (subscribers).
	SubscribersCount int `json:"subscribers_count"`
	// NetworkCount is the number of forks in the whole network.
	NetworkCount int `json:"network_count"`
	// HasIssues says whether issues are enabled.
	HasIssues bool `json:"has_issues"`
	// HasWiki says whether the wiki is enabled.
	HasWiki bool `json:"has_wiki"`
	// IsTemplate says whether it is a template repository.
	IsTemplate bool `json:"is_template"`
}

// Contributor is a contributor of a repository.
type Contributor struct {
	// Login is the login name; "" for an anonymous contributor.
	Login string `json:"login"`
	// ID is the numeric id; 0 for an anonymous contributor.
	ID int64 `json:"id"`
	// AvatarURL is the avatar image's URL.
	AvatarURL string `json:"avatar_url"`
	// HTMLURL is the profile page.
	HTMLURL string `json:"html_url"`
	// Type is "User", "Bot" or "Anonymous".
	Type string `json:"type"`
	// Contributions is the number of commits.
	Contributions int `json:"contributions"`
}

// BranchCommit is the commit a branch points at.
type BranchCommit struct {
	// SHA is the commit's SHA.
	SHA string `json:"sha"`
	// URL is the commit's API URL.
	URL string `json:"url"`
}

// Branch is a branch of a repository.
type Branch struct {
	// Name is the branch name.
	Name string `json:"name"`
	// Commit is its head commit.
	Commit BranchCommit `json:"commit"`
	// Protected says whether branch protection is on.
	Protected bool `json:"protected"`
}

// RateLimitResource is the figures of one rate-limit resource.
type RateLimitResource struct {
	// Limit is the number of requests allowed per window.
	Limit int `json:"limit"`
	// Used is the number of requests used in this window.
	Used int `json:"used"`
	// Remaining is the number of requests left in this window.
	Remaining int `json:"remaining"`
	// Reset is when the window resets, Unix seconds (server clock).
	Reset int64 `json:"reset"`
}

// ResetTime is Reset as a time.Time.
func (r RateLimitResource) ResetTime() time.Time { return time.Unix(r.Reset, 0) }

// RateLimit is the rate limits of one token (GET /rate_limit).
type RateLimit struct {
	// Resources are keyed by name: "core", "search", "graphql", ...
	Resources map[string]RateLimitResource `json:"resources"`
	// Rate is the deprecated mirror of "core"; nil when absent.
	Rate *RateLimitResource `json:"rate"`
}

// TokenRateLimit is the rate limits of one pooled token after a refresh.
type TokenRateLimit struct {
	// Fingerprint names the token (see [Fingerprint]).
	Fingerprint string `json:"fingerprint"`
	// Status is the token's state after the refresh.
	Status TokenStatus `json:"status"`
	// RateLimit is nil when the server gave no figures; Error says why.
	RateLimit *RateLimit `json:"rate_limit"`
	// Error says why there are no figures.
	Error string `json:"error"`
}

// TokenValidation is the result of checking one token against GET /user.
type TokenValidation struct {
	// Fingerprint names the token (see [Fingerprint]).
	Fingerprint string `json:"fingerprint"`
	// Valid is false only when GitHub refused the credentials (401).
	Valid bool `json:"valid"`
	// Login is the token's account, when GitHub said.
	Login string `json:"login"`
	// Error says why the token is invalid or could not be fully checked.
	Error string `json:"error"`
}

// TokenSnapshot is one pooled token as [TokenManager.Snapshot] shows it:
// everything but the secret.
type TokenSnapshot struct {
	// Fingerprint names the token (see [Fingerprint]).
	Fingerprint string `json:"fingerprint"`
	// Provider is the token's provider.
	Provider Provider `json:"provider"`
	// Username is the one given when the token was added.
	Username string `json:"username"`
	// Priority is its priority (higher first under [StrategyPriority]).
	Priority int `json:"priority"`
	// Status is the overall state: invalid, cooling down, rate limited on
	// any resource, or available.
	Status TokenStatus `json:"status"`
	// AvailableAt is, for a token cooling down or rate limited, when it is
	// usable again (Unix seconds, this machine's clock); 0 otherwise.
	AvailableAt int64 `json:"available_at"`
	// Resources are the figures per resource the server reported on.
	Resources map[string]ResourceSnapshot `json:"resources"`
}

// AvailableTime is AvailableAt as a time.Time; the zero Time for 0.
func (t TokenSnapshot) AvailableTime() time.Time { return unixOrZero(t.AvailableAt) }

// ResourceSnapshot is one resource of one pooled token. The figures are
// nil until the server reports them (a token never used counts as full).
type ResourceSnapshot struct {
	// Limit is the number of requests allowed per window.
	Limit *int64 `json:"limit"`
	// Remaining is the number of requests left in the current window.
	Remaining *int64 `json:"remaining"`
	// Used is the number of requests used in the current window.
	Used *int64 `json:"used"`
	// Reset is when the window resets, Unix seconds (this machine's
	// clock); 0 when unknown.
	Reset int64 `json:"reset"`
	// Status is TokenAvailable or TokenRateLimited.
	Status TokenStatus `json:"status"`
	// InFlight counts the leases of this resource not yet reported.
	InFlight int `json:"in_flight"`
}

// ResetTime is Reset as a time.Time; the zero Time for 0.
func (r ResourceSnapshot) ResetTime() time.Time { return unixOrZero(r.Reset) }

func unixOrZero(seconds int64) time.Time {
	if seconds == 0 {
		return time.Time{}
	}
	return time.Unix(seconds, 0)
}

// decodeError is a result document that did not decode.
func decodeError(err error) *Error {
	return &Error{
		Status:  StatusDecode,
		Message: "could not decode the response: " + err.Error(),
	}
}

func decodeOne[T any](doc []byte, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(doc, v); err != nil {
		return nil, decodeError(err)
	}
	return v, nil
}

func decodeList[T any](doc []byte, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	list := []T{}
	if err := json.Unmarshal(doc, &list); err != nil {
		return nil, decodeError(err)
	}
	return list, nil
}

func decodeMap[T any](doc []byte, err error) (map[string]T, error) {
	if err != nil {
		return nil, err
	}
	m := map[string]T{}
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, decodeError(err)
	}
	return m, nil
}
