//! The connector's page cursor. Usually it is Shopify's own `endCursor`; when a product has
//! more variants than a list page reads, the page ends before it and the cursor says "fetch
//! this product alone next", so one call never re-runs the list query to finish a product.
//! A bulk read's cursor names the operation and the byte of its result file the next page
//! starts at: `bulk:<operation gid>` while Shopify prepares the file (and for its first page),
//! `bulk:<operation gid>:<byte offset>` after. Each call is a fresh instance, so everything a
//! bulk read needs between calls is in that cursor; the file's signed URL is not (it is a
//! credential, and a poll returns it again).

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
    /// A bulk operation's result file from this byte on (0 until its first page).
    Bulk { operation: String, offset: u64 },
}

/// Shopify's cursors are base64, which never contains a space, so the marker is unambiguous.
const PRODUCT_MARKER: &str = "product ";
/// Neither base64 nor the product marker starts so.
const BULK_MARKER: &str = "bulk:";

impl Cursor {
    pub fn decode(cursor: Option<&str>) -> Cursor {
        let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
            return Cursor::Start;
        };
        if let Some(operation) = cursor.strip_prefix(BULK_MARKER) {
            // The gid has colons of its own (`gid://…`), but never a last one before digits.
            if let Some((id, offset)) = operation.rsplit_once(':')
                && let Ok(offset) = offset.parse()
            {
                return Cursor::Bulk { operation: id.to_string(), offset };
            }
            return Cursor::Bulk { operation: operation.to_string(), offset: 0 };
        }
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
            Cursor::Bulk { operation, offset: 0 } => Some(format!("{BULK_MARKER}{operation}")),
            Cursor::Bulk { operation, offset } => Some(format!("{BULK_MARKER}{operation}:{offset}")),
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
            Cursor::Bulk { operation: "gid://shopify/BulkOperation/5100000001".into(), offset: 0 },
            Cursor::Bulk { operation: "gid://shopify/BulkOperation/5100000001".into(), offset: 1_048_576 },
        ] {
            assert_eq!(Cursor::decode(cursor.encode().as_deref()), cursor);
        }
        assert_eq!(Cursor::decode(None), Cursor::Start);
        assert_eq!(Cursor::decode(Some("")), Cursor::Start);
    }

    #[test]
    fn bulk_cursors_name_the_operation_and_the_byte_to_start_at() {
        let operation = "gid://shopify/BulkOperation/5100000001".to_string();
        let waiting = Cursor::Bulk { operation: operation.clone(), offset: 0 };
        assert_eq!(waiting.encode().as_deref(), Some("bulk:gid://shopify/BulkOperation/5100000001"));
        let reading = Cursor::Bulk { operation: operation.clone(), offset: 4096 };
        assert_eq!(reading.encode().as_deref(), Some("bulk:gid://shopify/BulkOperation/5100000001:4096"));
        assert_eq!(
            Cursor::decode(Some("bulk:gid://shopify/BulkOperation/7:0")),
            Cursor::Bulk { operation: "gid://shopify/BulkOperation/7".into(), offset: 0 }
        );
    }
}
