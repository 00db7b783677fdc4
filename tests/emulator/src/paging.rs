//! Query strings, and GitHub-style pagination with `per_page`, `page` and `Link` headers.

/// Items per page when the client does not say.
const DEFAULT_PER_PAGE: usize = 30;
/// The most items GitHub puts on one page.
const MAX_PER_PAGE: usize = 100;

/// A query string, kept as raw `key=value` pairs so links can repeat it unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Splits the part of a request target after `?`.
    pub(crate) fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key.to_string(), value.to_string())
            })
            .collect();
        Query { pairs }
    }

    /// The decoded value of the first parameter named `key`.
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k, _)| percent_decode(k) == key)
            .map(|(_, v)| percent_decode(v))
    }

    /// The same query with `page` set to `page`, placed last as GitHub does.
    pub(crate) fn with_page(&self, page: usize) -> String {
        let mut parts: Vec<String> = self
            .pairs
            .iter()
            .filter(|(key, _)| percent_decode(key) != "page")
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        parts.push(format!("page={page}"));
        parts.join("&")
    }
}

/// Decodes `%XX` escapes and `+` (a space in query strings); bad escapes stay as they are.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| bytes[i] == b'%')
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], escaped) {
            (_, Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which page of a list a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Paging {
    page: usize,
    per_page: usize,
}

impl Paging {
    /// Reads `page` (default 1) and `per_page` (default 30, at most 100) like GitHub:
    /// unreadable or zero values fall back to the defaults.
    pub(crate) fn from_query(query: &Query) -> Paging {
        let number = |key: &str| {
            query
                .get(key)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|&n| n > 0)
        };
        Paging {
            page: number("page").unwrap_or(1),
            per_page: number("per_page")
                .unwrap_or(DEFAULT_PER_PAGE)
                .min(MAX_PER_PAGE),
        }
    }

    /// The items of this page.
    pub(crate) fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.page - 1)
            .saturating_mul(self.per_page)
            .min(items.len());
        let end = start.saturating_add(self.per_page).min(items.len());
        &items[start..end]
    }

    /// The `Link` header for a list of `total` items at `url` (absolute, without query), or
    /// `None` when the whole list fits on the first page.
    pub(crate) fn link(&self, total: usize, url: &str, query: &Query) -> Option<String> {
        let last = total.div_ceil(self.per_page).max(1);
        let mut links = Vec::new();
        let mut add = |page: usize, rel: &str| {
            links.push(format!("<{url}?{}>; rel=\"{rel}\"", query.with_page(page)));
        };
        if self.page > 1 {
            add(self.page - 1, "prev");
        }
        if self.page < last {
            add(self.page + 1, "next");
            add(last, "last");
        }
        if self.page > 1 {
            add(1, "first");
        }
        (!links.is_empty()).then(|| links.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_decodes_queries() {
        let query = Query::parse("q=hello+w%C3%B6rld%3A&per_page=5&flag&bad=%zz");
        assert_eq!(query.get("q").as_deref(), Some("hello wörld:"));
        assert_eq!(query.get("per_page").as_deref(), Some("5"));
        assert_eq!(query.get("flag").as_deref(), Some(""));
        assert_eq!(query.get("bad").as_deref(), Some("%zz"));
        assert_eq!(query.get("page"), None);
    }

    #[test]
    fn reads_paging_with_githubs_defaults_and_caps() {
        let paging = |raw: &str| Paging::from_query(&Query::parse(raw));
        assert_eq!(
            paging(""),
            Paging {
                page: 1,
                per_page: 30
            }
        );
        assert_eq!(
            paging("page=3&per_page=500"),
            Paging {
                page: 3,
                per_page: 100
            }
        );
        assert_eq!(
            paging("page=0&per_page=x"),
            Paging {
                page: 1,
                per_page: 30
            }
        );
    }

    #[test]
    fn slices_pages() {
        let items: Vec<u32> = (0..250).collect();
        let paging = |raw: &str| Paging::from_query(&Query::parse(raw));
        assert_eq!(paging("per_page=100&page=3").slice(&items), &items[200..]);
        assert!(paging("per_page=100&page=4").slice(&items).is_empty());
        assert!(paging("page=99999999999999999").slice(&items).is_empty());
    }

    #[test]
    fn links_keep_other_parameters_and_follow_githubs_order() {
        let query = Query::parse("per_page=100&sort=full_name&page=2");
        let paging = Paging::from_query(&query);
        let link = paging
            .link(250, "http://h/orgs/o/repos", &query)
            .expect("link");
        assert_eq!(
            link,
            "<http://h/orgs/o/repos?per_page=100&sort=full_name&page=1>; rel=\"prev\", \
             <http://h/orgs/o/repos?per_page=100&sort=full_name&page=3>; rel=\"next\", \
             <http://h/orgs/o/repos?per_page=100&sort=full_name&page=3>; rel=\"last\", \
             <http://h/orgs/o/repos?per_page=100&sort=full_name&page=1>; rel=\"first\""
        );
        let first = Paging::from_query(&Query::default()).link(31, "http://h/x", &Query::default());
        assert_eq!(
            first.as_deref(),
            Some("<http://h/x?page=2>; rel=\"next\", <http://h/x?page=2>; rel=\"last\"")
        );
        assert_eq!(
            Paging::from_query(&Query::default()).link(30, "u", &Query::default()),
            None
        );
        assert_eq!(
            Paging::from_query(&Query::default()).link(0, "u", &Query::default()),
            None
        );
    }
}
