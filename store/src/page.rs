//! Cursor pagination.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, Result};

/// Default number of items per page.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 1000;

/// An opaque position in a listing: the last key returned (keyset) or an offset (search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    /// Encodes the cursor as an opaque URL-safe token.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("v1:{}", self.0))
    }

    /// Decodes a token made by [`Cursor::encode`].
    pub fn decode(token: &str) -> Result<Self> {
        let bad = || Error::invalid("cursor is not valid: pass next_cursor from a previous page");
        let raw = URL_SAFE_NO_PAD
            .decode(token.as_bytes())
            .map_err(|_| bad())?;
        let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
        let value = text.strip_prefix("v1:").ok_or_else(bad)?;
        value.parse::<i64>().map(Cursor).map_err(|_| bad())
    }
}

/// A page request: how many items and from where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page, within 1..=MAX_LIMIT.
    pub limit: u32,
    /// Position after which to continue, if any.
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

impl PageRequest {
    /// Validates a limit and an optional cursor token from a request.
    pub fn new(limit: Option<u32>, cursor: Option<&str>) -> Result<Self> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(Error::invalid(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let after = match cursor {
            Some(token) if !token.is_empty() => Some(Cursor::decode(token)?),
            _ => None,
        };
        Ok(Self { limit, after })
    }

    /// The keyset lower bound (exclusive): rows with a key above it come next.
    pub fn after_key(&self) -> i64 {
        self.after.map_or(i64::MIN, |c| c.0)
    }

    /// The keyset upper bound (exclusive) of a newest-first listing: rows with a key below it
    /// come next.
    pub fn before_key(&self) -> i64 {
        self.after.map_or(i64::MAX, |c| c.0)
    }

    /// Number of rows to fetch: one more than the limit, to know whether a next page exists.
    pub fn fetch(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The token for the next page, when there is one.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a keyset page from `limit + 1` fetched rows, keyed by `key`.
    pub fn from_rows(mut rows: Vec<T>, req: &PageRequest, key: impl Fn(&T) -> i64) -> Self {
        let next_cursor = if rows.len() > req.limit as usize {
            rows.truncate(req.limit as usize);
            rows.last().map(|last| Cursor(key(last)).encode())
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }

    /// Maps the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let token = Cursor(42).encode();
        assert_eq!(Cursor::decode(&token).ok(), Some(Cursor(42)));
        assert!(Cursor::decode("not-a-cursor!").is_err());
        assert!(Cursor::decode(&URL_SAFE_NO_PAD.encode("v2:1")).is_err());
    }

    #[test]
    fn limits_are_checked() {
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(MAX_LIMIT + 1), None).is_err());
        assert_eq!(
            PageRequest::new(None, Some("")).map(|p| p.limit).ok(),
            Some(DEFAULT_LIMIT)
        );
    }

    #[test]
    fn page_from_rows_sets_cursor_only_when_more() {
        let req = PageRequest {
            limit: 2,
            after: None,
        };
        let page = Page::from_rows(vec![1, 2, 3], &req, |v| *v);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor, Some(Cursor(2).encode()));
        let page = Page::from_rows(vec![1, 2], &req, |v| *v);
        assert_eq!(page.next_cursor, None);
    }
}
