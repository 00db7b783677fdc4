//! The emulated world: owners, their repositories, contributors and branches, and the JSON
//! GitHub would send for them. Everything is derived deterministically from the owner list,
//! using recorded GitHub bodies (see [`crate::fixtures`]) as templates so the shapes are real.
//!
//! URLs in the JSON point at `https://api.github.com`; the server rewrites them to its own
//! address.

use std::sync::OnceLock;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::OwnerSpec;
use crate::fixtures::fixtures;

/// The API base URL used inside generated and recorded bodies.
pub(crate) const GITHUB_API: &str = "https://api.github.com";

/// A repository named so answers `204 No Content` to `/contributors`.
const EMPTY_REPO: &str = "empty";

/// octocat's repositories, as on GitHub (plus `empty`).
const OCTOCAT_REPOS: [&str; 8] = [
    "Hello-World",
    "Spoon-Knife",
    "empty",
    "git-consortium",
    "hello-worId",
    "linguist",
    "octocat.github.io",
    "test-repo1",
];

/// The owner, repository and contributor count of the one repository with many contributors.
const MANY_CONTRIBUTORS: (&str, &str, usize) = ("bigcontrib", "many", 250);

const LANGUAGES: [Option<&str>; 7] = [
    Some("Rust"),
    Some("Python"),
    Some("C"),
    Some("Go"),
    Some("JavaScript"),
    Some("Java"),
    None,
];

/// A 64-bit hash of some byte strings that never changes between runs or platforms.
pub(crate) fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    u64::from_le_bytes(
        digest[..8]
            .try_into()
            .expect("a SHA-256 digest has 32 bytes"),
    )
}

/// Every owner the emulator serves.
#[derive(Debug)]
pub(crate) struct World {
    owners: Vec<Owner>,
}

/// A user or organisation and its repositories, sorted by name.
#[derive(Debug)]
pub(crate) struct Owner {
    pub(crate) login: String,
    pub(crate) id: u64,
    pub(crate) is_org: bool,
    pub(crate) repos: Vec<Repo>,
}

/// The figures of one repository; its JSON is built from them.
#[derive(Debug)]
pub(crate) struct Repo {
    pub(crate) name: String,
    id: u64,
    description: Option<String>,
    language: Option<String>,
    default_branch: String,
    created_at: String,
    updated_at: String,
    pushed_at: String,
    size: u64,
    stars: u64,
    forks: u64,
    open_issues: u64,
    /// JSON texts, rendered on first use: lists are asked for again and again.
    rendered: Rendered,
}

#[derive(Debug, Default)]
struct Rendered {
    summary: OnceLock<String>,
    contributors: OnceLock<Option<Vec<String>>>,
    branches: OnceLock<Vec<String>>,
}

impl World {
    pub(crate) fn new(specs: &[OwnerSpec]) -> World {
        let mut next_repo_id = 200_000_000;
        let owners = specs
            .iter()
            .map(|spec| Owner::new(spec, &mut next_repo_id))
            .collect();
        World { owners }
    }

    /// All owners, in configuration order.
    #[cfg(test)]
    pub(crate) fn owners(&self) -> &[Owner] {
        &self.owners
    }

    /// The owner with this login, ignoring case as GitHub does.
    pub(crate) fn owner(&self, login: &str) -> Option<&Owner> {
        self.owners
            .iter()
            .find(|owner| owner.login.eq_ignore_ascii_case(login))
    }

    /// The user id of a login: the owner's when there is one, else derived from the login.
    pub(crate) fn user_id(&self, login: &str) -> u64 {
        match self.owner(login) {
            Some(owner) => owner.id,
            None => 150_000_000 + stable_hash(&[b"user", login.as_bytes()]) % 10_000_000,
        }
    }

    /// Repositories whose name or description contains every word of `query`, restricted by
    /// `user:` or `org:` qualifiers, sorted by full name.
    pub(crate) fn search(&self, query: &str) -> Vec<(&Owner, &Repo)> {
        let mut owners_wanted = Vec::new();
        let mut words = Vec::new();
        for term in query.split_whitespace() {
            match term.split_once(':') {
                Some(("user" | "org", login)) => owners_wanted.push(login.to_lowercase()),
                _ => words.push(term.to_lowercase()),
            }
        }
        let mut found: Vec<(&Owner, &Repo)> = self
            .owners
            .iter()
            .filter(|owner| {
                owners_wanted.is_empty() || owners_wanted.contains(&owner.login.to_lowercase())
            })
            .flat_map(|owner| owner.repos.iter().map(move |repo| (owner, repo)))
            .filter(|(owner, repo)| {
                let text = format!(
                    "{}/{} {}",
                    owner.login,
                    repo.name,
                    repo.description.as_deref().unwrap_or("")
                )
                .to_lowercase();
                words.iter().all(|word| text.contains(word.as_str()))
            })
            .collect();
        found.sort_by_key(|(owner, repo)| full_name_key(owner, repo));
        found
    }
}

fn full_name_key(owner: &Owner, repo: &Repo) -> (String, String) {
    let full_name = format!("{}/{}", owner.login, repo.name);
    (full_name.to_lowercase(), full_name)
}

impl Owner {
    fn new(spec: &OwnerSpec, next_repo_id: &mut u64) -> Owner {
        let f = fixtures();
        let login = spec.login.as_str();
        let id = match login {
            "octocat" => f.octocat["id"].as_u64().expect("octocat has an id"),
            "kohsuke" => f.kohsuke_repos[0]["owner"]["id"]
                .as_u64()
                .expect("kohsuke has an id"),
            _ => 10_000_000 + stable_hash(&[b"owner", login.as_bytes()]) % 80_000_000,
        };
        let mut generate = |name: &str| {
            *next_repo_id += 1;
            Repo::generated(login, name, *next_repo_id)
        };
        let mut repos: Vec<Repo> = match login {
            "octocat" => OCTOCAT_REPOS
                .iter()
                .take(spec.repos)
                .map(|&name| match name {
                    "Hello-World" => Repo::recorded(&f.hello_world),
                    _ => generate(name),
                })
                .collect(),
            "kohsuke" => f
                .kohsuke_repos
                .iter()
                .take(spec.repos)
                .map(Repo::recorded)
                .collect(),
            _ if login == MANY_CONTRIBUTORS.0 && spec.repos > 0 => {
                vec![generate(MANY_CONTRIBUTORS.1)]
            }
            _ => Vec::new(),
        };
        for number in repos.len() + 1..=spec.repos {
            repos.push(generate(&format!("repo-{number:03}")));
        }
        repos.sort_by_key(|repo| (repo.name.to_lowercase(), repo.name.clone()));
        Owner {
            login: spec.login.clone(),
            id,
            is_org: spec.is_org,
            repos,
        }
    }

    /// The repository with this name, ignoring case as GitHub does.
    pub(crate) fn repo(&self, name: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|repo| repo.name.eq_ignore_ascii_case(name))
    }
}

impl Repo {
    /// The figures of a recorded repository.
    fn recorded(body: &Value) -> Repo {
        let text = |key: &str| body[key].as_str().map(str::to_string);
        let number = |key: &str| body[key].as_u64().unwrap_or(0);
        Repo {
            name: text("name").expect("a recorded repository has a name"),
            id: number("id"),
            description: text("description"),
            language: text("language"),
            default_branch: text("default_branch").unwrap_or_else(|| "main".to_string()),
            created_at: text("created_at").unwrap_or_default(),
            updated_at: text("updated_at").unwrap_or_default(),
            pushed_at: text("pushed_at").unwrap_or_default(),
            size: number("size"),
            stars: number("stargazers_count"),
            forks: number("forks_count"),
            open_issues: number("open_issues_count"),
            rendered: Rendered::default(),
        }
    }

    /// Made-up but stable figures for `owner/name`.
    fn generated(owner: &str, name: &str, id: u64) -> Repo {
        let hash = stable_hash(&[owner.as_bytes(), b"/", name.as_bytes()]);
        let created = 1_300_000_000 + hash % 300_000_000;
        let updated = created + (hash >> 20) % 150_000_000;
        let stars = (hash >> 30) % 2_000;
        Repo {
            name: name.to_string(),
            id,
            description: Some(format!("{name}, a repository of {owner}")),
            language: LANGUAGES[(hash % LANGUAGES.len() as u64) as usize].map(str::to_string),
            default_branch: "main".to_string(),
            created_at: crate::clock::iso8601(created),
            updated_at: crate::clock::iso8601(updated),
            pushed_at: crate::clock::iso8601(updated - (hash >> 40) % 86_400),
            size: (hash >> 10) % 50_000,
            stars,
            forks: stars / 4,
            open_issues: (hash >> 50) % 60,
            rendered: Rendered::default(),
        }
    }

    fn full_name(&self, owner: &Owner) -> String {
        format!("{}/{}", owner.login, self.name)
    }

    /// `/contributors` of an empty repository answers 204.
    pub(crate) fn is_empty(&self) -> bool {
        self.name == EMPTY_REPO
    }
}

/// Which of GitHub's two repository shapes to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RepoShape {
    /// An item of a repository list or search.
    Summary,
    /// `GET /repos/{owner}/{repo}`.
    Detail,
}

/// The full user object of `GET /users/{login}` and `GET /user`.
pub(crate) fn user_json(login: &str, id: u64, is_org: bool, public_repos: usize) -> Value {
    let template = &fixtures().octocat;
    if template["login"] == login {
        return template.clone();
    }
    let from = format!("/{}", template["login"].as_str().unwrap_or(""));
    let mut user = retargeted(template, &from, &format!("/{login}"));
    set_identity(&mut user, login, id, is_org);
    for (key, value) in [
        ("name", Value::Null),
        ("company", Value::Null),
        ("blog", json!("")),
        ("location", Value::Null),
        ("email", Value::Null),
        ("bio", Value::Null),
        ("twitter_username", Value::Null),
        ("public_repos", json!(public_repos)),
        ("public_gists", json!(id % 20)),
        ("followers", json!(id % 1000)),
        ("following", json!(id % 50)),
        (
            "created_at",
            json!(crate::clock::iso8601(1_200_000_000 + id % 400_000_000)),
        ),
        (
            "updated_at",
            json!(crate::clock::iso8601(1_650_000_000 + id % 50_000_000)),
        ),
    ] {
        user[key] = value;
    }
    user
}

/// The owner of a repository or a contributor: GitHub's short user object.
pub(crate) fn short_user_json(login: &str, id: u64, is_org: bool) -> Value {
    let template = &fixtures().contributor;
    let from = format!("/{}", template["login"].as_str().unwrap_or(""));
    let mut user = retargeted(template, &from, &format!("/{login}"));
    if let Value::Object(fields) = &mut user {
        fields.shift_remove("contributions");
    }
    set_identity(&mut user, login, id, is_org);
    user
}

/// One repository as GitHub shows it in the given shape.
pub(crate) fn repo_json(owner: &Owner, repo: &Repo, shape: RepoShape) -> Value {
    let f = fixtures();
    let template = match shape {
        RepoShape::Summary => &f.kohsuke_repos[0],
        RepoShape::Detail => &f.hello_world,
    };
    let full_name = repo.full_name(owner);
    if shape == RepoShape::Detail && template["full_name"] == full_name.as_str() {
        return template.clone();
    }
    let from = template["full_name"].as_str().unwrap_or("").to_string();
    let mut body = retargeted(template, &from, &full_name);
    let stars = json!(repo.stars);
    let forks = json!(repo.forks);
    let issues = json!(repo.open_issues);
    for (key, value) in [
        ("id", json!(repo.id)),
        ("node_id", json!(node_id("Repository", repo.id))),
        ("name", json!(repo.name)),
        ("full_name", json!(full_name)),
        (
            "owner",
            short_user_json(&owner.login, owner.id, owner.is_org),
        ),
        ("description", json!(repo.description)),
        ("created_at", json!(repo.created_at)),
        ("updated_at", json!(repo.updated_at)),
        ("pushed_at", json!(repo.pushed_at)),
        ("homepage", json!("")),
        ("size", json!(repo.size)),
        ("stargazers_count", stars.clone()),
        ("watchers_count", stars.clone()),
        ("watchers", stars),
        ("language", json!(repo.language)),
        ("forks_count", forks.clone()),
        ("forks", forks.clone()),
        ("network_count", forks),
        ("open_issues_count", issues.clone()),
        ("open_issues", issues),
        ("subscribers_count", json!(repo.stars / 3)),
        ("default_branch", json!(repo.default_branch)),
    ] {
        if let Some(slot) = body.get_mut(key) {
            *slot = value;
        }
    }
    if shape == RepoShape::Detail && owner.is_org {
        body["organization"] = short_user_json(&owner.login, owner.id, true);
    }
    body
}

/// The JSON text of [`repo_json`] in the summary shape, rendered once.
pub(crate) fn repo_summary_text<'a>(owner: &Owner, repo: &'a Repo) -> &'a str {
    repo.rendered
        .summary
        .get_or_init(|| repo_json(owner, repo, RepoShape::Summary).to_string())
}

/// The JSON texts of [`contributors_json`], rendered once.
pub(crate) fn contributors_texts<'a>(owner: &Owner, repo: &'a Repo) -> Option<&'a [String]> {
    let texts = repo.rendered.contributors.get_or_init(|| {
        contributors_json(owner, repo).map(|people| people.iter().map(Value::to_string).collect())
    });
    texts.as_deref()
}

/// The JSON texts of [`branches_json`], rendered once.
pub(crate) fn branches_texts<'a>(owner: &Owner, repo: &'a Repo) -> &'a [String] {
    repo.rendered.branches.get_or_init(|| {
        branches_json(owner, repo)
            .iter()
            .map(Value::to_string)
            .collect()
    })
}

/// The contributors of a repository, most contributions first; `None` for an empty one.
fn contributors_json(owner: &Owner, repo: &Repo) -> Option<Vec<Value>> {
    if repo.is_empty() {
        return None;
    }
    let hash = stable_hash(&[repo.full_name(owner).as_bytes()]);
    let (many_owner, many_repo, many_count) = MANY_CONTRIBUTORS;
    let count = if owner.login == many_owner && repo.name == many_repo {
        many_count
    } else {
        1 + (hash % 4) as usize
    };
    let mut people: Vec<(String, u64)> = Vec::with_capacity(count);
    if !owner.is_org {
        people.push((owner.login.clone(), owner.id));
    }
    let mut number = hash % 1000;
    while people.len() < count {
        people.push((format!("contributor-{number:03}"), 160_000_000 + number));
        number = (number + 37) % 1000;
    }
    let contributors = people
        .iter()
        .enumerate()
        .map(|(rank, (login, id))| {
            let mut item = short_user_json(login, *id, false);
            item["contributions"] = json!((count - rank) as u64 * 7 + hash % 7);
            item
        })
        .collect();
    Some(contributors)
}

/// The branches of a repository, sorted by name.
fn branches_json(owner: &Owner, repo: &Repo) -> Vec<Value> {
    if repo.is_empty() {
        return Vec::new();
    }
    let full_name = repo.full_name(owner);
    let extra = stable_hash(&[b"branches", full_name.as_bytes()]) % 3;
    let mut names = vec![repo.default_branch.clone()];
    names.extend(
        ["develop", "feature-login"]
            .iter()
            .take(extra as usize)
            .map(|s| s.to_string()),
    );
    names.sort();
    let template = &fixtures().branch;
    names
        .iter()
        .map(|name| {
            let digest = Sha256::digest(format!("{full_name}@{name}").as_bytes());
            let sha: String = digest[..20]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            let mut branch = template.clone();
            branch["name"] = json!(name);
            branch["commit"]["sha"] = json!(sha);
            branch["commit"]["url"] =
                json!(format!("{GITHUB_API}/repos/{full_name}/commits/{sha}"));
            branch["protection_url"] = json!(format!(
                "{GITHUB_API}/repos/{full_name}/branches/{name}/protection"
            ));
            branch
        })
        .collect()
}

/// Sets the fields that identify a user in both user shapes.
fn set_identity(user: &mut Value, login: &str, id: u64, is_org: bool) {
    let kind = if is_org { "Organization" } else { "User" };
    user["login"] = json!(login);
    user["id"] = json!(id);
    user["node_id"] = json!(node_id(kind, id));
    user["avatar_url"] = json!(format!("https://avatars.githubusercontent.com/u/{id}?v=4"));
    user["type"] = json!(kind);
    user["site_admin"] = json!(false);
}

/// A copy of `template` with `from` replaced by `to` in every string value.
fn retargeted(template: &Value, from: &str, to: &str) -> Value {
    match template {
        Value::String(text) => Value::String(text.replace(from, to)),
        Value::Array(items) => items
            .iter()
            .map(|item| retargeted(item, from, to))
            .collect(),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, value)| (key.clone(), retargeted(value, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// GitHub's legacy global node id, e.g. `MDQ6VXNlcjU4MzIzMQ==` for user 583231.
fn node_id(kind: &str, id: u64) -> String {
    base64(format!("0{}:{kind}{id}", kind.len()).as_bytes())
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn world() -> World {
        World::new(&Config::default_owners())
    }

    #[test]
    fn node_ids_match_githubs() {
        assert_eq!(node_id("User", 583231), "MDQ6VXNlcjU4MzIzMQ==");
        assert_eq!(
            node_id("Repository", 1296269),
            "MDEwOlJlcG9zaXRvcnkxMjk2MjY5"
        );
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn owners_have_the_configured_repositories() {
        let world = world();
        let counts: Vec<(&str, usize)> = world
            .owners()
            .iter()
            .map(|o| (o.login.as_str(), o.repos.len()))
            .collect();
        assert_eq!(counts[0], ("octocat", 8));
        assert_eq!(world.owner("BigOrg").map(|o| o.repos.len()), Some(250));
        assert_eq!(world.owner("emptyuser").map(|o| o.repos.len()), Some(0));
        let octocat = world.owner("octocat").expect("octocat");
        assert!(octocat.repo("hello-world").is_some() && octocat.repo("empty").is_some());
        let kohsuke = world.owner("kohsuke").expect("kohsuke");
        assert!(kohsuke.repo("args4j").is_some());
    }

    #[test]
    fn generated_repositories_are_consistent_and_deterministic() {
        let world = world();
        let torvalds = world.owner("torvalds").expect("torvalds");
        let repo = &torvalds.repos[0];
        let body = repo_json(torvalds, repo, RepoShape::Summary);
        let full_name = format!("torvalds/{}", repo.name);
        assert_eq!(body["full_name"], full_name.as_str());
        assert_eq!(body["owner"]["login"], "torvalds");
        assert_eq!(
            body["html_url"],
            format!("https://github.com/{full_name}").as_str()
        );
        assert_eq!(
            body["ssh_url"],
            format!("git@github.com:{full_name}.git").as_str()
        );
        let text = body.to_string();
        assert!(
            !text.contains("kohsuke") && !text.contains("access-modifier"),
            "{text}"
        );
        assert_eq!(
            text,
            repo_json(torvalds, repo, RepoShape::Summary).to_string()
        );
        assert_eq!(World::new(&Config::default_owners()).search("").len(), 322);
    }

    #[test]
    fn recorded_bodies_are_served_as_recorded() {
        let world = world();
        let octocat = world.owner("octocat").expect("octocat");
        let hello = octocat.repo("Hello-World").expect("Hello-World");
        assert_eq!(
            repo_json(octocat, hello, RepoShape::Detail),
            fixtures().hello_world
        );
        assert_eq!(
            user_json("octocat", octocat.id, false, 8),
            fixtures().octocat
        );
        let other = user_json("torvalds", 7, false, 7);
        assert_eq!(other["url"], "https://api.github.com/users/torvalds");
        assert_eq!(
            other["repos_url"],
            "https://api.github.com/users/torvalds/repos"
        );
    }

    #[test]
    fn contributors_and_branches() {
        let world = world();
        let octocat = world.owner("octocat").expect("octocat");
        assert!(contributors_json(octocat, octocat.repo("empty").expect("empty")).is_none());
        let hello = octocat.repo("Hello-World").expect("Hello-World");
        let people = contributors_json(octocat, hello).expect("contributors");
        assert_eq!(people[0]["login"], "octocat");
        let big = world.owner("bigcontrib").expect("bigcontrib");
        let many = contributors_json(big, &big.repos[0]).expect("many");
        assert_eq!(many.len(), 250);
        let counts: Vec<u64> = many
            .iter()
            .map(|c| c["contributions"].as_u64().unwrap_or(0))
            .collect();
        assert!(counts.windows(2).all(|pair| pair[0] > pair[1]));
        let branches = branches_json(octocat, hello);
        assert!(branches.iter().any(|b| b["name"] == "master"));
        assert_eq!(
            branches[0]["commit"]["sha"].as_str().map(str::len),
            Some(40)
        );
    }
}
