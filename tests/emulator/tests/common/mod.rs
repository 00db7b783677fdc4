//! A small blocking client for the emulator tests, on top of ureq.

#![allow(dead_code)]

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use ureq::Agent;

/// One answer, with lower-case header names.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Reply {
    /// A header value; panics when it is missing.
    pub fn header(&self, name: &str) -> &str {
        match self.headers.get(name) {
            Some(value) => value,
            None => panic!("no {name} header in {:?}", self.headers),
        }
    }

    /// A header parsed as a number.
    pub fn number(&self, name: &str) -> u64 {
        self.header(name).parse().expect("numeric header")
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    /// `(limit, remaining, used)` from the rate-limit headers.
    pub fn quota(&self) -> (u64, u64, u64) {
        (
            self.number("x-ratelimit-limit"),
            self.number("x-ratelimit-remaining"),
            self.number("x-ratelimit-used"),
        )
    }

    /// The URL of a `Link` relation, if any.
    pub fn link(&self, rel: &str) -> Option<String> {
        let links = self.headers.get("link")?;
        links.split(", ").find_map(|link| {
            let (url, relation) = link.split_once("; ")?;
            (relation == format!("rel=\"{rel}\"")).then(|| {
                url.trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
        })
    }
}

/// A keep-alive client that returns every status as a [`Reply`].
#[derive(Clone)]
pub struct Client {
    agent: Agent,
}

impl Client {
    pub fn new() -> Self {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        Client { agent }
    }

    /// GET with an optional token and extra headers.
    pub fn get_with(
        &self,
        url: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, ureq::Error> {
        let mut request = self.agent.get(url);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call()?;
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_lowercase(),
                    value.to_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string()?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    /// GET that must reach the server.
    pub fn get(&self, url: &str, token: Option<&str>) -> Reply {
        self.get_with(url, token, &[])
            .expect("request reaches the emulator")
    }
}

/// Real unix time now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Unix seconds of a `Date` header.
pub fn date_secs(reply: &Reply) -> u64 {
    let date = httpdate::parse_http_date(reply.header("date")).expect("RFC 7231 date");
    date.duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}
