//! Sending one GET on the shared ureq agent and reading the whole answer.

use std::time::Duration;

use crate::classify::ResponseHead;
use crate::error::Error;

/// Largest body read, so a runaway response cannot exhaust memory.
const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// The headers kept from a response: the ones the pool and pagination read.
const KEPT_HEADERS: &[&str] = &[
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-used",
    "x-ratelimit-reset",
    "x-ratelimit-resource",
    "retry-after",
    "date",
    "link",
];

/// A response read in full.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn head(&self) -> ResponseHead {
        ResponseHead::from_pairs(
            self.status,
            self.headers
                .iter()
                .map(|(name, value)| (*name, value.as_slice())),
        )
    }

    /// Every value of a kept header, in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| *n == name)
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// One ureq agent (one connection pool) for every request of a client.
pub(crate) struct Transport {
    agent: ureq::Agent,
}

/// Timeouts and identity for the agent.
pub(crate) struct TransportConfig<'a> {
    pub user_agent: &'a str,
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl Transport {
    pub fn new(config: &TransportConfig<'_>) -> Transport {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(config.user_agent)
            // One global timeout would be simpler, but in ureq 3.5 it costs
            // ~80 us per request on loopback (measured with
            // `cargo run --release --example call_overhead`); per-phase
            // limits cost nothing measurable.
            .timeout_connect(Some(config.connect_timeout))
            .timeout_send_request(Some(config.timeout))
            .timeout_recv_response(Some(config.timeout))
            .timeout_recv_body(Some(config.timeout))
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            .max_idle_connections_per_host(64)
            .build()
            .new_agent();
        Transport { agent }
    }

    /// Sends `GET url`, with the token as a bearer credential when given.
    pub fn get(&self, url: &str, token: Option<&str>) -> Result<RawResponse, Error> {
        let mut request = self
            .agent
            .get(url)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(token) = token {
            // Limitation: ureq copies the header value into its own request
            // and write buffer, which are not wiped; only this copy is.
            let value = zeroize::Zeroizing::new(format!("Bearer {token}"));
            request = request.header("Authorization", value.as_str());
        }

        let mut response = request.call().map_err(transport_error)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                let kept = KEPT_HEADERS.iter().find(|k| name.as_str() == **k)?;
                Some((*kept, value.as_bytes().to_vec()))
            })
            .collect();
        let mut body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(transport_error)?;
        if let (Some(token), false) = (token, (200..300).contains(&status)) {
            // Error bodies become error messages: a server that quotes the
            // request's credentials must not put them there.
            mask(&mut body, token.as_bytes());
        }
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }
}

/// Overwrites every occurrence of `secret` in `body` with `*`, in place.
fn mask(body: &mut [u8], secret: &[u8]) {
    if secret.is_empty() {
        return;
    }
    let mut start = 0;
    while let Some(found) = body[start..]
        .windows(secret.len())
        .position(|window| window == secret)
    {
        let at = start + found;
        body[at..at + secret.len()].fill(b'*');
        start = at + secret.len();
    }
}

/// Turns a ureq error into ours. ureq's messages name the host or the I/O
/// failure, never request headers, so no token can leak through them.
fn transport_error(error: ureq::Error) -> Error {
    match error {
        ureq::Error::Timeout(which) => Error::Timeout(format!("{which:?}").to_lowercase()),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            Error::Timeout(io.to_string())
        }
        ureq::Error::BodyExceedsLimit(limit) => {
            Error::Decode(format!("the response body is larger than {limit} bytes"))
        }
        ureq::Error::BadUri(uri) => Error::InvalidArgument(format!("bad URL: {uri}")),
        other => Error::Network(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_every_copy_of_the_secret() {
        let mut body = b"{\"message\":\"Bearer ghp_x, again ghp_x\"}".to_vec();
        mask(&mut body, b"ghp_x");
        assert_eq!(body, b"{\"message\":\"Bearer *****, again *****\"}");
        let mut short = b"gh".to_vec();
        mask(&mut short, b"ghp_x");
        assert_eq!(short, b"gh");
    }
}
