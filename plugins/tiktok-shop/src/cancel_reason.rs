//! The `cancel_reason` of a seller cancellation (reference §8.1): TikTok takes a code from its
//! list, not free text. A code is passed through; a free text becomes the closest US code (out
//! of stock unless it speaks of a price or an address), with `_uk` for UK shops.

/// Out of stock: the most common reason, and the default.
const OUT_OF_STOCK: &str = "seller_cancel_reason_out_of_stock";
const WRONG_PRICE: &str = "seller_cancel_reason_wrong_price";
const ADDRESS_NOT_DELIVERABLE: &str = "seller_cancel_paid_reason_address_not_deliver";

/// The reason code for `reason` (a code or a free text) in a shop of `region`.
pub fn reason_code(reason: &str, region: Option<&str>) -> String {
    let reason = reason.trim();
    if reason.starts_with("seller_cancel_") {
        return reason.to_owned();
    }
    let words = reason.to_lowercase();
    let code = if words.contains("price") {
        WRONG_PRICE
    } else if words.contains("address") || words.contains("deliver") || words.contains("ship to") {
        ADDRESS_NOT_DELIVERABLE
    } else {
        OUT_OF_STOCK
    };
    match region {
        Some("GB" | "UK") => format!("{code}_uk"),
        _ => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_texts_map_to_the_closest_code() {
        assert_eq!(reason_code("Out of stock", Some("US")), "seller_cancel_reason_out_of_stock");
        assert_eq!(reason_code("", None), "seller_cancel_reason_out_of_stock");
        assert_eq!(reason_code("customer changed mind", Some("US")), "seller_cancel_reason_out_of_stock");
        assert_eq!(reason_code("Wrong PRICE on listing", Some("US")), "seller_cancel_reason_wrong_price");
        assert_eq!(
            reason_code("we cannot deliver to this address", Some("US")),
            "seller_cancel_paid_reason_address_not_deliver"
        );
    }

    #[test]
    fn uk_shops_get_the_uk_codes_and_codes_pass_through() {
        assert_eq!(reason_code("out of stock", Some("GB")), "seller_cancel_reason_out_of_stock_uk");
        assert_eq!(
            reason_code(" seller_cancel_reason_wrong_price ", Some("GB")),
            "seller_cancel_reason_wrong_price"
        );
    }
}
