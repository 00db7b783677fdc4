//! The library's models of GitHub's resources. Field names are GitHub's;
//! fields GitHub may omit or null are `Option`s; unknown fields are ignored,
//! so new fields on GitHub's side never break decoding.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The account that owns a repository or made contributions: GitHub's
/// "simple user".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Login name.
    pub login: String,
    /// Numeric id.
    pub id: u64,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// Avatar image URL.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Profile page.
    #[serde(default)]
    pub html_url: Option<String>,
    /// `User`, `Organization` or `Bot`.
    #[serde(rename = "type", default)]
    pub account_type: Option<String>,
    /// Whether the account is a GitHub staff account.
    #[serde(default)]
    pub site_admin: Option<bool>,
}

/// A user or organisation profile (`GET /user`, `GET /users/{login}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Login name.
    pub login: String,
    /// Numeric id.
    pub id: u64,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// Avatar image URL.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Profile page.
    #[serde(default)]
    pub html_url: Option<String>,
    /// `User`, `Organization` or `Bot`.
    #[serde(rename = "type", default)]
    pub account_type: Option<String>,
    /// Whether the account is a GitHub staff account.
    #[serde(default)]
    pub site_admin: Option<bool>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Company.
    #[serde(default)]
    pub company: Option<String>,
    /// Blog or website.
    #[serde(default)]
    pub blog: Option<String>,
    /// Location.
    #[serde(default)]
    pub location: Option<String>,
    /// Public e-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// Biography.
    #[serde(default)]
    pub bio: Option<String>,
    /// Number of public repositories.
    #[serde(default)]
    pub public_repos: Option<u64>,
    /// Number of followers.
    #[serde(default)]
    pub followers: Option<u64>,
    /// Number of accounts followed.
    #[serde(default)]
    pub following: Option<u64>,
    /// Creation time, ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update, ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A repository's licence, as GitHub summarises it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    /// Short key, e.g. `mit`.
    #[serde(default)]
    pub key: Option<String>,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// SPDX identifier.
    #[serde(default)]
    pub spdx_id: Option<String>,
}

/// A repository as listed (`GET /users/{owner}/repos`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repository {
    /// Numeric id.
    pub id: u64,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// Name without the owner.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// The owning account.
    pub owner: Account,
    /// Whether the repository is private.
    #[serde(default)]
    pub private: bool,
    /// Web page.
    #[serde(default)]
    pub html_url: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether it is a fork.
    #[serde(default)]
    pub fork: bool,
    /// API URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Clone URL over HTTPS.
    #[serde(default)]
    pub clone_url: Option<String>,
    /// Homepage.
    #[serde(default)]
    pub homepage: Option<String>,
    /// Main language.
    #[serde(default)]
    pub language: Option<String>,
    /// Size in KiB.
    #[serde(default)]
    pub size: Option<u64>,
    /// Stars.
    #[serde(default)]
    pub stargazers_count: Option<u64>,
    /// Watchers.
    #[serde(default)]
    pub watchers_count: Option<u64>,
    /// Forks.
    #[serde(default)]
    pub forks_count: Option<u64>,
    /// Open issues and pull requests.
    #[serde(default)]
    pub open_issues_count: Option<u64>,
    /// Default branch.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// Whether it is archived.
    #[serde(default)]
    pub archived: Option<bool>,
    /// Whether it is disabled.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// `public`, `private` or `internal`.
    #[serde(default)]
    pub visibility: Option<String>,
    /// Topics.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    /// Licence summary.
    #[serde(default)]
    pub license: Option<License>,
    /// Creation time, ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last update, ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Last push, ISO 8601.
    #[serde(default)]
    pub pushed_at: Option<String>,
}

/// A repository in full (`GET /repos/{owner}/{repo}`): the listed fields
/// and the counts only the details carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryDetails {
    /// The fields a listing carries too.
    #[serde(flatten)]
    pub repository: Repository,
    /// Watchers (subscribers).
    #[serde(default)]
    pub subscribers_count: Option<u64>,
    /// Forks in the whole network.
    #[serde(default)]
    pub network_count: Option<u64>,
    /// Whether issues are enabled.
    #[serde(default)]
    pub has_issues: Option<bool>,
    /// Whether the wiki is enabled.
    #[serde(default)]
    pub has_wiki: Option<bool>,
    /// Whether it is a template repository.
    #[serde(default)]
    pub is_template: Option<bool>,
}

/// A contributor (`GET /repos/{owner}/{repo}/contributors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    /// Login name (anonymous contributors have none).
    #[serde(default)]
    pub login: Option<String>,
    /// Numeric id.
    #[serde(default)]
    pub id: Option<u64>,
    /// Avatar image URL.
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// Profile page.
    #[serde(default)]
    pub html_url: Option<String>,
    /// `User`, `Bot` or `Anonymous`.
    #[serde(rename = "type", default)]
    pub account_type: Option<String>,
    /// Number of commits.
    pub contributions: u64,
}

/// The commit a branch points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchCommit {
    /// Commit SHA.
    pub sha: String,
    /// API URL of the commit.
    #[serde(default)]
    pub url: Option<String>,
}

/// A branch (`GET /repos/{owner}/{repo}/branches`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    /// Branch name.
    pub name: String,
    /// Its head commit.
    pub commit: BranchCommit,
    /// Whether branch protection is on.
    #[serde(default)]
    pub protected: bool,
}

/// The figures of one rate-limit resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitResource {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests used in this window.
    #[serde(default)]
    pub used: u64,
    /// Requests left in this window.
    pub remaining: u64,
    /// When the window resets, Unix seconds (server clock).
    pub reset: u64,
}

/// The rate limits of one token (`GET /rate_limit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Figures per resource (`core`, `search`, `graphql`, ...).
    pub resources: BTreeMap<String, RateLimitResource>,
    /// Deprecated mirror of `core`.
    #[serde(default)]
    pub rate: Option<RateLimitResource>,
}

/// The rate limits of one pooled token, after a refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRateLimit {
    /// The token's fingerprint.
    pub fingerprint: String,
    /// Its status after the refresh: `available`, `rate_limited`,
    /// `cooling_down` or `invalid`.
    pub status: String,
    /// The figures, when the server answered.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// Why there are no figures, when it did not.
    #[serde(default)]
    pub error: Option<String>,
}

/// The result of checking one token against `GET /user`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenValidation {
    /// The token's fingerprint.
    pub fingerprint: String,
    /// False only when GitHub refused the credentials (401).
    pub valid: bool,
    /// The account the token belongs to, when GitHub said.
    #[serde(default)]
    pub login: Option<String>,
    /// Why it is invalid or could not be fully checked.
    #[serde(default)]
    pub error: Option<String>,
}
