//! URLs: path segments from caller input, and the `Link` header's next page.

use crate::error::{Error, Result};

/// Percent-encodes one path segment taken from caller input (an owner, a
/// repository name), so it cannot change the path. Empty, `.` and `..` are
/// refused.
pub(crate) fn segment(what: &str, value: &str) -> Result<String> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(Error::InvalidArgument(format!(
            "the {what} is empty or a dot path"
        )));
    }
    if value.len() > 256 {
        return Err(Error::InvalidArgument(format!(
            "the {what} is longer than 256 bytes"
        )));
    }
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(encoded)
}

/// The `rel="next"` target of `Link` header values, if any.
pub(crate) fn next_link<'a>(values: impl Iterator<Item = &'a str>) -> Option<String> {
    for value in values {
        let mut rest = value;
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let close = after.find('>')?;
            let target = &after[..close];
            let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
            let params = &after[close + 1..params_end];
            if params.split(';').any(is_rel_next) {
                return Some(target.trim().to_string());
            }
            rest = &after[params_end..];
        }
    }
    None
}

fn is_rel_next(param: &str) -> bool {
    let Some((key, value)) = param.split_once('=') else {
        return false;
    };
    key.trim().eq_ignore_ascii_case("rel")
        && value
            .trim()
            .trim_end_matches(',')
            .trim_matches('"')
            .split_ascii_whitespace()
            .any(|rel| rel.eq_ignore_ascii_case("next"))
}

/// `scheme://host[:port]` of a URL, lowercased.
pub(crate) fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() {
        return None;
    }
    Some(format!("{}://{}", scheme, authority).to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_several_rels() {
        let link = concat!(
            r#"<https://api.github.com/user/50003/repos?per_page=30&page=2>; rel="next", "#,
            r#"<https://api.github.com/user/50003/repos?per_page=30&page=9>; rel="last""#
        );
        assert_eq!(
            next_link([link].into_iter()).as_deref(),
            Some("https://api.github.com/user/50003/repos?per_page=30&page=2")
        );
    }

    #[test]
    fn no_next_on_last_page() {
        let link = r#"<https://x/r?page=22>; rel="prev", <https://x/r?page=1>; rel="first""#;
        assert_eq!(next_link([link].into_iter()), None);
        assert_eq!(next_link([""].into_iter()), None);
        assert_eq!(next_link(["garbage <unterminated"].into_iter()), None);
    }

    #[test]
    fn unquoted_and_multi_valued_rel() {
        assert_eq!(
            next_link(["<https://x/a>; rel=next"].into_iter()).as_deref(),
            Some("https://x/a")
        );
        assert_eq!(
            next_link([r#"<https://x/b>; rel="last next""#].into_iter()).as_deref(),
            Some("https://x/b")
        );
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("owner", "octocat").unwrap(), "octocat");
        assert_eq!(segment("repo", "a/../b").unwrap(), "a%2F..%2Fb");
        assert_eq!(segment("repo", "x?y#z").unwrap(), "x%3Fy%23z");
        assert!(segment("repo", "..").is_err());
        assert!(segment("repo", "").is_err());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://API.github.com/x?y").as_deref(),
            Some("https://api.github.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080/api/v3").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("nonsense"), None);
    }
}
