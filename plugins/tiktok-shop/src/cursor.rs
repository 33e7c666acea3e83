//! The cursor of `list-after-sales`: TikTok pages cancellations and returns through two
//! searches with their own page tokens, so one cursor carries both, and says which search is
//! read to its end. Encoded as JSON (`{"c":"<token>","r":null}`), since page tokens are opaque.

use serde::{Deserialize, Serialize};

/// Where one search stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stream {
    /// Not read yet: the first page is next.
    Start,
    /// The page of this token is next.
    Next(String),
    /// Read to its end.
    Done,
}

impl Stream {
    /// Where a search stands after a page answered `next_page_token` (empty on the last).
    pub fn after(next_page_token: Option<&str>) -> Stream {
        match next_page_token.map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => Stream::Next(token.to_owned()),
            None => Stream::Done,
        }
    }

    /// The page token to send; none for the first page.
    pub fn token(&self) -> Option<&str> {
        match self {
            Stream::Next(token) => Some(token),
            Stream::Start | Stream::Done => None,
        }
    }
}

/// Both searches' places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub cancellations: Stream,
    pub returns: Stream,
}

#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// The cancellations' next token; null once read to the end.
    c: Option<String>,
    /// The returns' next token; null once read to the end.
    r: Option<String>,
}

impl Cursor {
    /// Before the first page.
    pub fn start() -> Cursor {
        Cursor { cancellations: Stream::Start, returns: Stream::Start }
    }

    /// A cursor this connector handed out; an error names what is wrong with it.
    pub fn decode(text: &str) -> Result<Cursor, String> {
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| format!("{text:?} is not a TikTok after-sale cursor this connector gave: {e}"))?;
        let stream = |token: Option<String>| match token.filter(|t| !t.is_empty()) {
            Some(token) => Stream::Next(token),
            None => Stream::Done,
        };
        Ok(Cursor { cancellations: stream(wire.c), returns: stream(wire.r) })
    }

    /// The cursor to hand out; none when both searches are read to their end. A search not
    /// started yet cannot be encoded, so it never is: every page reads both.
    pub fn encode(&self) -> Option<String> {
        if self.cancellations == Stream::Done && self.returns == Stream::Done {
            return None;
        }
        let token = |stream: &Stream| stream.token().map(str::to_owned);
        let wire = Wire { c: token(&self.cancellations), r: token(&self.returns) };
        serde_json::to_string(&wire).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_both_tokens() {
        let cursor = Cursor { cancellations: Stream::Next("b2Zmc2V0OjU=".into()), returns: Stream::Done };
        let text = cursor.encode().expect("more to read");
        assert_eq!(text, r#"{"c":"b2Zmc2V0OjU=","r":null}"#);
        assert_eq!(Cursor::decode(&text), Ok(cursor));
        let both = Cursor { cancellations: Stream::Next("a|b".into()), returns: Stream::Next("c".into()) };
        assert_eq!(both.encode().as_deref().map(Cursor::decode), Some(Ok(both)));
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        assert_eq!(Cursor { cancellations: Stream::Done, returns: Stream::Done }.encode(), None);
        assert_eq!(Stream::after(Some("")), Stream::Done);
        assert_eq!(Stream::after(None), Stream::Done);
        assert_eq!(Stream::after(Some("tok")), Stream::Next("tok".into()));
        assert_eq!(Cursor::start().cancellations.token(), None);
    }

    #[test]
    fn a_foreign_cursor_is_refused() {
        assert!(Cursor::decode("c:abc|r:def").is_err());
        assert!(Cursor::decode("").is_err());
    }
}
