//! The models and the classifier on real responses recorded from GitHub
//! (tests/fixtures/github; sources and licences in its README).

use std::path::Path;

use gitfleet::classify::{classify, ErrorBody, Outcome, ResponseHead};
use gitfleet::github::models::{
    Branch, Contributor, RateLimit, Repository, RepositoryDetails, User,
};
use serde_json::Value;

struct Recording {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

fn load(name: &str) -> Recording {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let json: Value = serde_json::from_str(&text).unwrap();
    let response = &json["response"];
    let headers = response["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Recording {
        status: response["status"].as_u64().unwrap() as u16,
        headers,
        body: response["body"].clone(),
    }
}

fn body_bytes(recording: &Recording) -> Vec<u8> {
    match &recording.body {
        Value::String(text) => text.clone().into_bytes(),
        Value::Null => Vec::new(),
        other => serde_json::to_vec(other).unwrap(),
    }
}

fn verdict(name: &str) -> (Outcome, Option<gitfleet::classify::Figures>) {
    let recording = load(name);
    let head = ResponseHead::from_pairs(
        recording.status,
        recording
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_bytes())),
    );
    let body = ErrorBody::parse(&body_bytes(&recording));
    let verdict = classify(&head, &body, 1_700_000_000_000);
    (verdict.outcome, verdict.figures)
}

fn decode<T: serde::de::DeserializeOwned>(name: &str) -> T {
    serde_json::from_value(load(name).body).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn users_decode() {
    let octocat: User = decode("get-users-octocat.json");
    assert_eq!(octocat.login, "octocat");
    assert_eq!(octocat.account_type.as_deref(), Some("User"));
    let me: User = decode("get-user.json");
    assert!(me.public_repos.is_some());
}

#[test]
fn repository_pages_decode() {
    for page in 1..=4 {
        let repos: Vec<Repository> = decode(&format!("get-users-kohsuke-repos.page{page}.json"));
        assert!(!repos.is_empty());
        assert!(repos.iter().all(|r| r.full_name.starts_with("kohsuke/")));
    }
    let first: Vec<Repository> = decode("get-orgs-jenkinsci-repos.page1.json");
    let last: Vec<Repository> = decode("get-orgs-jenkinsci-repos.page23-last.json");
    assert!(!first.is_empty() && !last.is_empty());
}

#[test]
fn repository_details_decode() {
    let hello: RepositoryDetails = decode("get-repos-octocat-hello-world.json");
    assert_eq!(hello.repository.full_name, "octocat/Hello-World");
    assert_eq!(hello.subscribers_count, Some(1731));
    let octokit: RepositoryDetails = decode("get-repos-octokit-fixture-org-hello-world.json");
    assert_eq!(octokit.repository.owner.login, "octokit-fixture-org");
}

#[test]
fn contributors_and_branches_decode() {
    let contributors: Vec<Contributor> =
        decode("get-repos-hub4j-github-api-contributors.page1.json");
    assert_eq!(contributors[0].login.as_deref(), Some("kohsuke"));
    assert!(contributors.iter().all(|c| c.contributions > 0));
    let branches: Vec<Branch> =
        decode("get-repos-hub4j-test-org-github-api-template-test-branches.json");
    assert_eq!(branches.len(), 2);
    assert!(branches.iter().all(|b| !b.commit.sha.is_empty()));
}

#[test]
fn rate_limit_decodes() {
    let limits: RateLimit = decode("get-rate-limit.json");
    assert!(limits.resources.contains_key("core"));
    assert!(limits.resources.contains_key("search"));
    assert!(limits.rate.is_some());
}

#[test]
fn models_survive_a_round_trip() {
    let hello: RepositoryDetails = decode("get-repos-octocat-hello-world.json");
    let text = serde_json::to_string(&hello).unwrap();
    let back: RepositoryDetails = serde_json::from_str(&text).unwrap();
    assert_eq!(back, hello);
}

#[test]
fn real_success_with_headers_reports_figures() {
    let (outcome, figures) = verdict("get-users-octocat.json");
    assert_eq!(outcome, Outcome::Success);
    let figures = figures.unwrap();
    assert_eq!(figures.remaining, Some(4998));
    assert_eq!(figures.resource.as_deref(), Some("core"));
}

#[test]
fn real_last_unit_is_a_success_with_nothing_left() {
    let (outcome, figures) = verdict("get-users-jacquev6-ratelimit-remaining-0.json");
    assert_eq!(outcome, Outcome::Success);
    assert_eq!(figures.unwrap().remaining, Some(0));
}

#[test]
fn real_401_is_invalid_and_its_figures_are_ignored() {
    let (outcome, figures) = verdict("error-401-bad-credentials.json");
    assert_eq!(outcome, Outcome::Invalid);
    assert_eq!(figures, None);
}

#[test]
fn real_primary_limit_without_reset_header() {
    let (outcome, _) = verdict("error-403-primary-rate-limit.json");
    assert!(
        matches!(outcome, Outcome::PrimaryLimit { .. }),
        "{outcome:?}"
    );
}

#[test]
fn real_abuse_limit_is_a_secondary_limit_with_retry_after() {
    let (outcome, _) = verdict("error-403-secondary-rate-limit.json");
    assert_eq!(
        outcome,
        Outcome::SecondaryLimit {
            wait_s: 60,
            from_retry_after: true
        }
    );
}

#[test]
fn real_permission_403_is_forbidden() {
    let (outcome, figures) = verdict("error-403-forbidden-not-rate-limit.json");
    assert_eq!(outcome, Outcome::Forbidden);
    assert_eq!(figures.unwrap().remaining, Some(4927));
}

#[test]
fn real_404s_and_304() {
    assert_eq!(verdict("error-404-org-not-found.json").0, Outcome::NotFound);
    assert_eq!(
        verdict("error-404-user-not-found.json").0,
        Outcome::NotFound
    );
    assert_eq!(
        verdict("conditional-2-get-repo-304-not-modified.json").0,
        Outcome::NotModified
    );
}
