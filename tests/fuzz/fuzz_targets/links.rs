//! URL handling: the `Link` header's next page, path segments made from
//! caller input, and origins.
//!
//! Two halves, chosen by the first byte:
//! - even: the rest is `Link` header values, one a line, read as they come
//!   (the seeds are recorded GitHub Link headers). A next page found must
//!   be text between `<` and `>` of the input. Every line is also tried as
//!   a path segment and as a URL for `origin`: a segment holds only
//!   unreserved characters and %XX escapes, is never `.` or `..`, and
//!   decodes back to the input.
//! - odd: a Link header is built from structured entries (URL, rel values,
//!   quoting, extra parameters) and must give back exactly the first
//!   entry whose rel includes `next`: a round trip.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use gitfleet::fuzzing::{next_link, origin, segment};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Entry {
    url: String,
    rels: Vec<Rel>,
    quoted: bool,
    extra: Option<String>,
    space_before_rel: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Rel {
    Next,
    NextUpper,
    Prev,
    Last,
    First,
}

impl Rel {
    fn text(self) -> &'static str {
        match self {
            Rel::Next => "next",
            Rel::NextUpper => "NEXT",
            Rel::Prev => "prev",
            Rel::Last => "last",
            Rel::First => "first",
        }
    }

    fn is_next(self) -> bool {
        matches!(self, Rel::Next | Rel::NextUpper)
    }
}

fn raw_lines(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();
    if let Some(next) = next_link(&lines) {
        assert!(!next.contains('>'), "{next:?}");
        let found = lines.iter().any(|line| {
            line.match_indices('<').any(|(open, _)| {
                let after = &line[open + 1..];
                after
                    .find('>')
                    .is_some_and(|close| after[..close].trim() == next)
            })
        });
        assert!(found, "{next:?} is not a <target> of {lines:?}");
    }
    for line in &lines {
        check_segment(line);
        check_origin(line);
    }
}

fn check_segment(value: &str) {
    match segment(value) {
        Ok(encoded) => {
            assert!(!value.is_empty() && value != "." && value != ".." && value.len() <= 256);
            assert!(encoded != "." && encoded != "..");
            assert!(encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b)));
            assert_eq!(percent_decode(&encoded), value.as_bytes(), "{encoded:?}");
        }
        Err(_) => assert!(value.is_empty() || value == "." || value == ".." || value.len() > 256),
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).expect("ASCII");
            out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    out
}

fn check_origin(url: &str) {
    if let Some(found) = origin(url) {
        assert_eq!(found, found.to_ascii_lowercase());
        let (_, authority) = found.split_once("://").expect("a scheme");
        assert!(!authority.is_empty());
        assert!(!authority.contains(['/', '?', '#']), "{found:?}");
        assert!(
            url.to_ascii_lowercase().starts_with(&found),
            "{found:?} of {url:?}"
        );
    }
}

fn built_header(entries: &[Entry]) {
    let mut parts = Vec::new();
    let mut expected = None;
    for entry in entries {
        // A URL inside <...>: no angle brackets, trimmed as the reader trims.
        let url: String = entry
            .url
            .chars()
            .filter(|c| *c != '<' && *c != '>')
            .collect();
        let url = url.trim().to_string();
        if entry.rels.is_empty() {
            continue;
        }
        let rels: Vec<&str> = entry.rels.iter().map(|r| r.text()).collect();
        let value = if entry.quoted || rels.len() > 1 {
            format!("\"{}\"", rels.join(" "))
        } else {
            rels[0].to_string()
        };
        let mut part = format!("<{url}>");
        if let Some(extra) = &entry.extra {
            // A parameter that is not rel (only letters: no separators).
            let name: String = extra.chars().filter(|c| c.is_ascii_alphabetic()).collect();
            if !name.is_empty() && !name.eq_ignore_ascii_case("rel") {
                part.push_str(&format!("; {name}=\"x\""));
            }
        }
        part.push_str(if entry.space_before_rel {
            "; rel="
        } else {
            ";rel="
        });
        part.push_str(&value);
        parts.push(part);
        if expected.is_none() && entry.rels.iter().any(|r| r.is_next()) {
            expected = Some(url);
        }
    }
    let header = parts.join(", ");
    assert_eq!(next_link(&[header.as_str()]), expected, "{header:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        raw_lines(rest);
    } else if let Ok(entries) = Vec::<Entry>::arbitrary_take_rest(Unstructured::new(rest)) {
        built_header(&entries);
    }
});
