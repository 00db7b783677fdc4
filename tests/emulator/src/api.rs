//! The REST endpoints: what each answers before rate limiting is applied.

use serde_json::{json, Value};

use crate::limits::{Caller, Resource};
use crate::paging::{Paging, Query};
use crate::world::{
    branches_texts, contributors_texts, repo_json, repo_summary_text, user_json, RepoShape, World,
    GITHUB_API,
};

/// GitHub's generic documentation link in error bodies.
pub(crate) const DOCS_URL: &str = "https://docs.github.com/rest";

/// An endpoint's answer: status, JSON body (empty for 204) and `Link` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) link: Option<String>,
}

impl Answer {
    fn json(status: u16, body: &Value, base: &str) -> Answer {
        Answer::text(status, &body.to_string(), base)
    }

    /// A JSON text, with its GitHub URLs moved to `base`.
    fn text(status: u16, json: &str, base: &str) -> Answer {
        Answer {
            status,
            body: json.replace(GITHUB_API, base),
            link: None,
        }
    }

    /// An error answer `{"message": ..., "documentation_url": ...}`.
    pub(crate) fn error(status: u16, message: &str, documentation_url: &str) -> Answer {
        let body = json!({ "message": message, "documentation_url": documentation_url });
        Answer {
            status,
            body: body.to_string(),
            link: None,
        }
    }

    fn not_found() -> Answer {
        Answer::error(404, "Not Found", DOCS_URL)
    }
}

/// One request as the endpoints see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: &'a Query,
    /// `http://host:port` of this server as the client addressed it.
    pub(crate) base: &'a str,
    pub(crate) caller: &'a Caller,
}

/// The rate-limit resource a path counts against; `None` for `/rate_limit`.
pub(crate) fn resource_of(path: &str) -> Option<Resource> {
    if path == "/rate_limit" {
        None
    } else if path.starts_with("/search/") {
        Some(Resource::Search)
    } else {
        Some(Resource::Core)
    }
}

/// Answers every endpoint but `/rate_limit`, which needs the rate-limit state.
pub(crate) fn answer(world: &World, call: &Call<'_>) -> Answer {
    if call.method != "GET" && call.method != "HEAD" {
        return Answer::not_found();
    }
    let segments: Vec<&str> = call.path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["user"] => authenticated_user(world, call),
        ["users", login] => user(world, call, login),
        ["users", login, "repos"] => owner_repos(world, call, login, false),
        ["orgs", login, "repos"] => owner_repos(world, call, login, true),
        ["repos", owner, repo] => repository(world, call, owner, repo),
        ["repos", owner, repo, "contributors"] => contributors(world, call, owner, repo),
        ["repos", owner, repo, "branches"] => branches(world, call, owner, repo),
        ["search", "repositories"] => search_repositories(world, call),
        _ => Answer::not_found(),
    }
}

fn authenticated_user(world: &World, call: &Call<'_>) -> Answer {
    let Caller::User { login, user_id } = call.caller else {
        return Answer::error(
            401,
            "Requires authentication",
            "https://docs.github.com/rest/users/users#get-the-authenticated-user",
        );
    };
    let body = match world.owner(login) {
        Some(owner) => user_json(&owner.login, owner.id, owner.is_org, owner.repos.len()),
        None => user_json(login, *user_id, false, 0),
    };
    Answer::json(200, &body, call.base)
}

fn user(world: &World, call: &Call<'_>, login: &str) -> Answer {
    let body = match (world.owner(login), call.caller) {
        (Some(owner), _) => user_json(&owner.login, owner.id, owner.is_org, owner.repos.len()),
        (
            None,
            Caller::User {
                login: own,
                user_id,
            },
        ) if own.eq_ignore_ascii_case(login) => user_json(own, *user_id, false, 0),
        _ => return Answer::not_found(),
    };
    Answer::json(200, &body, call.base)
}

fn owner_repos(world: &World, call: &Call<'_>, login: &str, org_only: bool) -> Answer {
    match world.owner(login) {
        Some(owner) if owner.is_org || !org_only => {
            page(call, &owner.repos, |repo| repo_summary_text(owner, repo))
        }
        _ => Answer::not_found(),
    }
}

fn repository(world: &World, call: &Call<'_>, owner: &str, repo: &str) -> Answer {
    match world.owner(owner).and_then(|o| Some((o, o.repo(repo)?))) {
        Some((owner, repo)) => {
            Answer::json(200, &repo_json(owner, repo, RepoShape::Detail), call.base)
        }
        None => Answer::not_found(),
    }
}

fn contributors(world: &World, call: &Call<'_>, owner: &str, repo: &str) -> Answer {
    let Some((owner, repo)) = world.owner(owner).and_then(|o| Some((o, o.repo(repo)?))) else {
        return Answer::not_found();
    };
    match contributors_texts(owner, repo) {
        Some(people) => page(call, people, String::as_str),
        None => Answer {
            status: 204,
            body: String::new(),
            link: None,
        },
    }
}

fn branches(world: &World, call: &Call<'_>, owner: &str, repo: &str) -> Answer {
    match world.owner(owner).and_then(|o| Some((o, o.repo(repo)?))) {
        Some((owner, repo)) => page(call, branches_texts(owner, repo), String::as_str),
        None => Answer::not_found(),
    }
}

fn search_repositories(world: &World, call: &Call<'_>) -> Answer {
    let query = call.query.get("q").unwrap_or_default();
    if query.trim().is_empty() {
        let body = json!({
            "message": "Validation Failed",
            "errors": [{ "resource": "Search", "field": "q", "code": "missing" }],
            "documentation_url": "https://docs.github.com/v3/search",
            "status": "422",
        });
        return Answer::json(422, &body, call.base);
    }
    let found = world.search(&query);
    let paging = Paging::from_query(call.query);
    let items: Vec<Value> = paging
        .slice(&found)
        .iter()
        .map(|(owner, repo)| {
            let mut item = repo_json(owner, repo, RepoShape::Summary);
            item["score"] = json!(1.0);
            item
        })
        .collect();
    let body = json!({ "total_count": found.len(), "incomplete_results": false, "items": items });
    let mut answer = Answer::json(200, &body, call.base);
    answer.link = paging.link(
        found.len(),
        &format!("{}{}", call.base, call.path),
        call.query,
    );
    answer
}

/// One page of a list endpoint, with its `Link` header.
fn page<'a, T>(call: &Call<'_>, items: &'a [T], render: impl Fn(&'a T) -> &'a str) -> Answer {
    let paging = Paging::from_query(call.query);
    let shown: Vec<&str> = paging.slice(items).iter().map(render).collect();
    let mut answer = Answer::text(200, &format!("[{}]", shown.join(",")), call.base);
    answer.link = paging.link(
        items.len(),
        &format!("{}{}", call.base, call.path),
        call.query,
    );
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn get(path_and_query: &str, caller: &Caller) -> Answer {
        let world = World::new(&Config::default_owners());
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let query = Query::parse(query);
        let call = Call {
            method: "GET",
            path,
            query: &query,
            base: "http://x:1",
            caller,
        };
        answer(&world, &call)
    }

    #[test]
    fn routes_to_the_endpoints() {
        let anonymous = Caller::Anonymous;
        assert_eq!(get("/users/octocat", &anonymous).status, 200);
        assert_eq!(get("/users/nobody-here", &anonymous).status, 404);
        assert_eq!(get("/orgs/octocat/repos", &anonymous).status, 404);
        assert_eq!(get("/orgs/bigorg/repos", &anonymous).status, 200);
        assert_eq!(
            get("/repos/octocat/empty/contributors", &anonymous).status,
            204
        );
        assert_eq!(get("/repos/octocat/nope", &anonymous).status, 404);
        assert_eq!(get("/user", &anonymous).status, 401);
        assert_eq!(get("/search/repositories", &anonymous).status, 422);
        assert_eq!(get("/gists", &anonymous).status, 404);
        assert_eq!(resource_of("/search/repositories"), Some(Resource::Search));
        assert_eq!(resource_of("/rate_limit"), None);
    }

    #[test]
    fn rewrites_urls_to_the_server() {
        let body = get("/repos/octocat/Hello-World", &Caller::Anonymous).body;
        assert!(
            body.contains("\"url\":\"http://x:1/repos/octocat/Hello-World\""),
            "{body}"
        );
        assert!(!body.contains("api.github.com"));
    }

    #[test]
    fn the_user_endpoint_shows_the_caller() {
        let me = Caller::User {
            login: "someone".to_string(),
            user_id: 42,
        };
        let body: Value = serde_json::from_str(&get("/user", &me).body).expect("json");
        assert_eq!(
            (body["login"].as_str(), body["id"].as_u64()),
            (Some("someone"), Some(42))
        );
        let octocat = Caller::User {
            login: "octocat".to_string(),
            user_id: 1,
        };
        let body: Value = serde_json::from_str(&get("/user", &octocat).body).expect("json");
        assert_eq!(body["name"], "The Octocat");
        assert_eq!(get("/users/someone", &me).status, 200);
    }

    #[test]
    fn searches_repositories() {
        let answer = get(
            "/search/repositories?q=repo+user:bigorg&per_page=10",
            &Caller::Anonymous,
        );
        let body: Value = serde_json::from_str(&answer.body).expect("json");
        assert_eq!(body["total_count"], 250);
        assert_eq!(body["items"].as_array().map(Vec::len), Some(10));
        assert_eq!(body["items"][0]["full_name"], "bigorg/repo-001");
        assert!(answer
            .link
            .expect("link")
            .contains("q=repo+user:bigorg&per_page=10&page=2"));
    }
}
