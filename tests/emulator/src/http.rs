//! Just enough HTTP/1.1 for the emulator: read a request head (discarding any body), write a
//! response with `Content-Length`, and keep the connection alive unless told otherwise.

use std::io::{self, BufRead, Read, Write};
use std::net::IpAddr;

/// Longest request line or header line accepted.
const MAX_LINE: usize = 16 * 1024;
/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 128;
/// Largest request body accepted (and thrown away): the endpoints take none.
const MAX_BODY: u64 = 1024 * 1024;

/// A request head.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// Path and query, e.g. `/users/octocat/repos?page=2`.
    pub(crate) target: String,
    /// `true` for HTTP/1.0.
    http10: bool,
    headers: Vec<(String, String)>,
    /// The client's address.
    pub(crate) peer: IpAddr,
}

impl Request {
    /// The first value of a header, whatever the case of its name.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request was HTTP/1.0.
    pub(crate) fn is_http10(&self) -> bool {
        self.http10
    }

    /// Whether the client wants the connection kept open after the answer.
    pub(crate) fn keep_alive(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let has = |token: &str| connection.split(',').any(|t| t.trim() == token);
        if self.http10 {
            has("keep-alive")
        } else {
            !has("close")
        }
    }

    /// The path, without the query.
    pub(crate) fn path(&self) -> &str {
        self.target
            .split_once('?')
            .map_or(self.target.as_str(), |(path, _)| path)
    }

    /// The raw query, without the `?`.
    pub(crate) fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The client closed the connection between requests, or it broke.
    Closed,
    /// The bytes were not an acceptable HTTP/1.x request; answer 400 and close.
    Malformed(&'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

/// Reads the next request on a connection, and skips its body.
pub(crate) fn read_request(reader: &mut impl BufRead, peer: IpAddr) -> Result<Request, ReadError> {
    // Clients may send empty lines between requests; RFC 9112 says to ignore them.
    let mut line = String::new();
    for _ in 0..8 {
        line = read_line(reader)?.ok_or(ReadError::Closed)?;
        if !line.is_empty() {
            break;
        }
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Malformed("bad request line"));
    };
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(ReadError::Malformed("unsupported HTTP version")),
    };
    let target = origin_form(target).ok_or(ReadError::Malformed("bad request target"))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or(ReadError::Closed)?;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(ReadError::Malformed("too many headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(ReadError::Malformed("bad header"))?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ReadError::Malformed("bad header name"));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let request = Request {
        method: method.to_string(),
        target: target.to_string(),
        http10,
        headers,
        peer,
    };
    skip_body(reader, &request)?;
    Ok(request)
}

/// The path-and-query of a request target, also accepting the absolute form.
fn origin_form(target: &str) -> Option<&str> {
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |slash| &rest[slash..]),
        None => target,
    };
    target.starts_with('/').then_some(target)
}

/// One line without its line ending; `None` at a clean end of stream.
fn read_line(reader: &mut impl BufRead) -> Result<Option<String>, ReadError> {
    let mut bytes = Vec::new();
    let read = reader.take(MAX_LINE as u64).read_until(b'\n', &mut bytes)?;
    if read == 0 {
        return Ok(None);
    }
    if bytes.pop() != Some(b'\n') {
        return Err(if read == MAX_LINE {
            ReadError::Malformed("line too long")
        } else {
            ReadError::Closed
        });
    }
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| ReadError::Malformed("line is not UTF-8"))
}

fn skip_body(reader: &mut impl BufRead, request: &Request) -> Result<(), ReadError> {
    if request.header("transfer-encoding").is_some() {
        return Err(ReadError::Malformed(
            "request bodies must have a Content-Length",
        ));
    }
    let Some(length) = request.header("content-length") else {
        return Ok(());
    };
    let length: u64 = length
        .parse()
        .map_err(|_| ReadError::Malformed("bad Content-Length"))?;
    if length > MAX_BODY {
        return Err(ReadError::Malformed("request body too large"));
    }
    let skipped = io::copy(&mut reader.take(length), &mut io::sink())?;
    if skipped < length {
        return Err(ReadError::Closed);
    }
    Ok(())
}

/// A response to write.
#[derive(Clone, Debug, Default)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    pub(crate) fn new(status: u16) -> Self {
        Response {
            status,
            ..Response::default()
        }
    }

    /// Adds a header.
    pub(crate) fn header(&mut self, name: &str, value: impl ToString) {
        self.headers.push((name.to_string(), value.to_string()));
    }

    /// 400 for a request that could not be read.
    pub(crate) fn bad_request(reason: &str) -> Self {
        let mut response = Response::new(400);
        response.header("Content-Type", "text/plain; charset=utf-8");
        response.body = format!("{reason}\n").into_bytes();
        response
    }

    /// Writes the response in one piece. Without `keep_alive` it adds `Connection: close`;
    /// with it, HTTP/1.0 clients (`http10`) need `Connection: keep-alive`.
    pub(crate) fn write_to(
        &self,
        out: &mut impl Write,
        keep_alive: bool,
        http10: bool,
        head_only: bool,
    ) -> io::Result<()> {
        let (bytes, _) = self.encode(keep_alive, http10, head_only);
        out.write_all(&bytes)?;
        out.flush()
    }

    /// The response's bytes as [`Response::write_to`] sends them, and the length of the head
    /// (everything before the body).
    pub(crate) fn encode(
        &self,
        keep_alive: bool,
        http10: bool,
        head_only: bool,
    ) -> (Vec<u8>, usize) {
        let bodyless = matches!(self.status, 100..=199 | 204 | 304);
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !bodyless {
            head.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if !keep_alive {
            head.push_str("Connection: close\r\n");
        } else if http10 {
            head.push_str("Connection: keep-alive\r\n");
        }
        head.push_str("\r\n");
        let head_len = head.len();
        let mut bytes = head.into_bytes();
        if !bodyless && !head_only {
            bytes.extend_from_slice(&self.body);
        }
        (bytes, head_len)
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::net::Ipv4Addr;

    fn read(text: &str) -> Vec<Result<Request, ReadError>> {
        let mut reader = Cursor::new(text.as_bytes().to_vec());
        let mut requests = Vec::new();
        loop {
            let result = read_request(&mut reader, IpAddr::V4(Ipv4Addr::LOCALHOST));
            let done = result.is_err();
            requests.push(result);
            if done {
                return requests;
            }
        }
    }

    #[test]
    fn reads_pipelined_requests_and_skips_bodies() {
        let requests = read(
            "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization: token t\r\n\r\n\
             POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\
             GET http://h:1/c HTTP/1.0\n\n",
        );
        let ok: Vec<&Request> = requests.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(ok.len(), 3);
        assert_eq!((ok[0].path(), ok[0].query()), ("/a", "x=1"));
        assert_eq!(ok[0].header("AUTHORIZATION"), Some("token t"));
        assert!(ok[0].keep_alive());
        assert_eq!(
            (ok[1].method.as_str(), ok[1].target.as_str()),
            ("POST", "/b")
        );
        assert_eq!(ok[2].target, "/c");
        assert!(!ok[2].keep_alive() && ok[2].is_http10());
        assert!(matches!(requests.last(), Some(Err(ReadError::Closed))));
    }

    #[test]
    fn rejects_malformed_requests() {
        for text in [
            "GET /\r\n\r\n",
            "GET / HTTP/2\r\n\r\n",
            "GET nope HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nno colon\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            assert!(
                matches!(read(text)[0], Err(ReadError::Malformed(_))),
                "{text}"
            );
        }
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_LINE));
        assert!(matches!(
            read(&long)[0],
            Err(ReadError::Malformed("line too long"))
        ));
    }

    #[test]
    fn writes_lengths_and_connection_headers() {
        let mut response = Response::new(200);
        response.header("Content-Type", "application/json");
        response.body = b"{}".to_vec();
        let mut out = Vec::new();
        response
            .write_to(&mut out, false, false, false)
            .expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
             Connection: close\r\n\r\n{}"
        );
        let mut out = Vec::new();
        Response::new(304)
            .write_to(&mut out, true, false, false)
            .expect("write");
        assert_eq!(out, b"HTTP/1.1 304 Not Modified\r\n\r\n");
    }
}
