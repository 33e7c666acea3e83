//! Shopify's global ids (`gid://shopify/Product/42`), which are the contract's record ids,
//! and how the numeric ids of REST-shaped webhook payloads become them.

/// `gid://shopify/{kind}/{id}`.
pub fn of(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// Whether `gid` is a global id of this kind with a numeric id (`gid://shopify/Product/42`).
pub fn is(kind: &str, gid: &str) -> bool {
    gid.strip_prefix("gid://shopify/")
        .and_then(|rest| rest.strip_prefix(kind))
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_recognised_by_kind() {
        assert_eq!(of("Product", 42), "gid://shopify/Product/42");
        assert!(is("Product", "gid://shopify/Product/42"));
        assert!(!is("Product", "gid://shopify/ProductVariant/42"));
        assert!(!is("Product", "gid://shopify/Product/"));
        assert!(!is("Product", "gid://shopify/Product/4a"));
        assert!(!is("Product", "42"));
    }
}
