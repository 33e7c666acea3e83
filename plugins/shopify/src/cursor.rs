//! The connector's page cursor. Usually it is Shopify's own `endCursor`; when a product has
//! more variants than a list page reads, the page ends before it and the cursor says "fetch
//! this product alone next", so one call never re-runs the list query to finish a product.

/// Where the next `list-products` call starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The first page.
    Start,
    /// A list page after this Shopify cursor.
    After(String),
    /// One product read whole (all its variants), then list pages after `after`, the
    /// product's own Shopify cursor.
    Product { id: String, after: String },
}

/// Shopify's cursors are base64, which never contains a space, so the marker is unambiguous.
const PRODUCT_MARKER: &str = "product ";

impl Cursor {
    pub fn decode(cursor: Option<&str>) -> Cursor {
        let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
            return Cursor::Start;
        };
        if let Some(rest) = cursor.strip_prefix(PRODUCT_MARKER)
            && let Some((id, after)) = rest.split_once(' ')
        {
            return Cursor::Product { id: id.to_string(), after: after.to_string() };
        }
        Cursor::After(cursor.to_string())
    }

    pub fn encode(&self) -> Option<String> {
        match self {
            Cursor::Start => None,
            Cursor::After(after) => Some(after.clone()),
            Cursor::Product { id, after } => Some(format!("{PRODUCT_MARKER}{id} {after}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn cursors_round_trip() {
        for cursor in [
            Cursor::After("eyJsYXN0X2lkIjoxfQ==".into()),
            Cursor::Product { id: "gid://shopify/Product/7".into(), after: "eyJsYXN0X2lkIjo3fQ==".into() },
        ] {
            assert_eq!(Cursor::decode(cursor.encode().as_deref()), cursor);
        }
        assert_eq!(Cursor::decode(None), Cursor::Start);
        assert_eq!(Cursor::decode(Some("")), Cursor::Start);
    }
}
