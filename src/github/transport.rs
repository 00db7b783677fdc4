//! Sending one GET on the shared ureq agent and reading the whole answer.

use std::time::Duration;

use super::links;
use crate::classify::ResponseHead;
use crate::error::Error;

/// Largest body read, so a runaway response cannot exhaust memory.
const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Idle connections kept open: as many as the async runtime runs calls at
/// once (ureq keeps 10 in all by default, so concurrent calls beyond that
/// would open and close a connection each time).
const IDLE_CONNECTIONS: usize = 64;

/// The buffers ureq gives each connection (128 KiB each by default, zeroed
/// when the connection opens). The output one holds a request head, the
/// input one must hold a response head (GitHub's are a few kilobytes);
/// bodies stream through it.
// Limitation: a call on the wire holds one blocking thread and one
// connection with these buffers: about 51 KiB of heap and 89 KiB resident
// per call (tests/bench/call_memory.rs, 64 calls on the wire), far above
// the 16 KiB a call in flight should cost; only calls waiting in the
// runtime's queue are small (about 0.4 KiB). Idle connections keep their
// buffers too.
const OUTPUT_BUFFER_BYTES: usize = 16 * 1024;
const INPUT_BUFFER_BYTES: usize = 32 * 1024;

/// A response read in full, its head already read for the classifier.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub status: u16,
    /// The rate-limit figures, `retry-after` and `date`, parsed once.
    pub head: ResponseHead,
    /// The `rel="next"` target of the `Link` header, if any.
    pub next: Option<String>,
    pub body: Vec<u8>,
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
            // `target/release/examples/call_cost`); per-phase
            // limits cost nothing measurable.
            .timeout_connect(Some(config.connect_timeout))
            .timeout_send_request(Some(config.timeout))
            .timeout_recv_response(Some(config.timeout))
            .timeout_recv_body(Some(config.timeout))
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            .max_idle_connections(IDLE_CONNECTIONS)
            .max_idle_connections_per_host(IDLE_CONNECTIONS)
            .input_buffer_size(INPUT_BUFFER_BYTES)
            .output_buffer_size(OUTPUT_BUFFER_BYTES)
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
        // Read straight from ureq's header map: no header is copied.
        let headers = response.headers();
        let head = ResponseHead::from_pairs(
            status,
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_bytes())),
        );
        let next = links::next_link(
            headers
                .get_all("link")
                .iter()
                .filter_map(|value| value.to_str().ok()),
        );
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
            head,
            next,
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
