package gitfleet

import (
	"context"
	"encoding/json"
)

// RawClient makes the calls of a [Client] and returns the library's JSON
// documents undecoded (see "Results" in the repository's README), for
// callers that decode them their own way. Get one with [Client.Raw]; it is
// safe for concurrent use, as its client is.
type RawClient struct {
	c *Client
}

// Raw gives the calls of c that return raw JSON documents.
func (c *Client) Raw() RawClient { return RawClient{c} }

func raw(doc []byte, err error) (json.RawMessage, error) {
	if err != nil {
		return nil, err
	}
	return json.RawMessage(doc), nil
}

// RateLimit is [Client.RateLimit]'s document.
func (r RawClient) RateLimit(ctx context.Context) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opRateLimit))
}

// RefreshRateLimits is [Client.RefreshRateLimits]'s document.
func (r RawClient) RefreshRateLimits(ctx context.Context) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opRefreshRateLimits))
}

// AuthenticatedUser is [Client.AuthenticatedUser]'s document.
func (r RawClient) AuthenticatedUser(ctx context.Context) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opAuthenticatedUser))
}

// User is [Client.User]'s document.
func (r RawClient) User(ctx context.Context, login string) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opUser, login))
}

// OwnerRepositories is [Client.OwnerRepositories]'s document.
func (r RawClient) OwnerRepositories(ctx context.Context, owner string) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opOwnerRepositories, owner))
}

// Repository is [Client.Repository]'s document.
func (r RawClient) Repository(ctx context.Context, owner, repo string) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opRepository, owner, repo))
}

// Contributors is [Client.Contributors]'s document.
func (r RawClient) Contributors(ctx context.Context, owner, repo string) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opContributors, owner, repo))
}

// Branches is [Client.Branches]'s document.
func (r RawClient) Branches(ctx context.Context, owner, repo string) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opBranches, owner, repo))
}

// ValidateToken is [Client.ValidateToken]'s document.
func (r RawClient) ValidateToken(ctx context.Context, token string) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opValidateToken, token))
}

// ValidatePool is [Client.ValidatePool]'s document.
func (r RawClient) ValidatePool(ctx context.Context) (json.RawMessage, error) {
	return raw(r.c.call(ctx, opValidatePool))
}
