//! Real GitHub response bodies recorded by other projects' test suites, embedded at build time.
//!
//! The files live in `tests/fixtures/github/` of the gitfleet repository; its README.md names
//! the source repository, path and licence of each. All the files embedded here come from
//! hub4j/github-api (MIT licence, `LICENSE-hub4j-github-api` there). Only the `response.body`
//! of each recording is used.

use std::sync::OnceLock;

use serde_json::Value;

const OCTOCAT_USER: &str = include_str!("../../fixtures/github/get-users-octocat.json");
const HELLO_WORLD: &str = include_str!("../../fixtures/github/get-repos-octocat-hello-world.json");
const KOHSUKE_REPOS: &str =
    include_str!("../../fixtures/github/get-users-kohsuke-repos.page1.json");
const CONTRIBUTORS: &str =
    include_str!("../../fixtures/github/get-repos-hub4j-github-api-contributors.page1.json");
const BRANCHES: &str = include_str!(
    "../../fixtures/github/get-repos-hub4j-test-org-github-api-template-test-branches.json"
);

/// The recorded bodies the emulator serves or uses as templates.
#[derive(Debug)]
pub(crate) struct Fixtures {
    /// `GET /users/octocat`: served as is, and the template of other full user objects.
    pub(crate) octocat: Value,
    /// `GET /repos/octocat/Hello-World`: served as is, and the template of repository details.
    pub(crate) hello_world: Value,
    /// kohsuke's first 30 repositories: their names and figures give kohsuke's repositories,
    /// and the first is the template of repository list items.
    pub(crate) kohsuke_repos: Vec<Value>,
    /// The first contributor of hub4j/github-api: template of contributors and of the short
    /// user objects inside repositories.
    pub(crate) contributor: Value,
    /// The `main` branch of hub4j-test-org/github-api-template-test: template of branches.
    pub(crate) branch: Value,
}

/// The parsed fixtures, read once.
pub(crate) fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let list = |text: &str| match body(text) {
            Value::Array(items) => items,
            other => panic!("fixture body is not a list: {other}"),
        };
        let branches = list(BRANCHES);
        Fixtures {
            octocat: body(OCTOCAT_USER),
            hello_world: body(HELLO_WORLD),
            kohsuke_repos: list(KOHSUKE_REPOS),
            contributor: list(CONTRIBUTORS).swap_remove(0),
            branch: branches
                .into_iter()
                .find(|b| b["name"] == "main")
                .expect("branches fixture has a main branch"),
        }
    })
}

/// The `response.body` of one recorded exchange.
fn body(text: &str) -> Value {
    let mut exchange: Value = serde_json::from_str(text).expect("fixture is valid JSON");
    exchange["response"]["body"].take()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_parse_into_the_expected_templates() {
        let f = fixtures();
        assert_eq!(f.octocat["login"], "octocat");
        assert_eq!(f.hello_world["full_name"], "octocat/Hello-World");
        assert_eq!(f.kohsuke_repos.len(), 30);
        assert_eq!(f.kohsuke_repos[0]["owner"]["login"], "kohsuke");
        assert!(f.contributor["contributions"].is_u64());
        assert_eq!(f.branch["name"], "main");
    }
}
