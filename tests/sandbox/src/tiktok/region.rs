//! What differs by market (reference §5.2, §5.5, §10): currency, the allowed price range,
//! title length, package-weight units and the SKU cap.

use rust_decimal::Decimal;

/// The markets TikTok Shop sells in (note UK is `GB`).
pub(crate) const MARKETS: [&str; 16] =
    ["BR", "FR", "DE", "ID", "IE", "IT", "JP", "MY", "MX", "PH", "SG", "ES", "TH", "GB", "US", "VN"];

/// The one currency a local shop in `region` prices in.
pub(crate) fn currency(region: &str) -> Option<&'static str> {
    Some(match region {
        "BR" => "BRL",
        "FR" | "DE" | "IE" | "IT" | "ES" => "EUR",
        "GB" => "GBP",
        "ID" => "IDR",
        "JP" => "JPY",
        "MX" => "MXN",
        "MY" => "MYR",
        "PH" => "PHP",
        "SG" => "SGD",
        "TH" => "THB",
        "US" => "USD",
        "VN" => "VND",
        _ => return None,
    })
}

/// Allowed price range for local sellers, in local currency (reference §5.5).
pub(crate) fn price_range(region: &str) -> (Decimal, Decimal) {
    let (low, high): (i64, i64) = match region {
        // (minimum in hundredths, maximum in units)
        "US" => (1, 7_600),
        "GB" => (1, 5_600),
        "FR" | "DE" | "IE" | "IT" | "ES" => (1, 6_300),
        "ID" => (10_000, 100_000_000),
        "MY" => (1, 320_000),
        "PH" => (1, 400_000),
        "SG" => (1, 10_000),
        "TH" => (3_000, 260_000),
        "VN" => (100, 180_000_000),
        "JP" => (100, 500_000),
        "MX" => (100, 50_000),
        "BR" => (50, 10_000),
        _ => (1, 1_000_000_000),
    };
    (Decimal::new(low, 2), Decimal::from(high))
}

/// Allowed title length in characters.
pub(crate) fn title_length(region: &str) -> (usize, usize) {
    match region {
        "US" | "GB" | "DE" | "ES" | "FR" | "IE" | "IT" | "JP" => (1, 255),
        "BR" | "MX" => (1, 300),
        _ => (25, 255),
    }
}

/// Package-weight units the market accepts.
pub(crate) fn weight_units(region: &str) -> &'static [&'static str] {
    match region {
        "US" => &["KILOGRAM", "POUND"],
        "BR" | "JP" | "MX" => &["KILOGRAM", "GRAM"],
        _ => &["KILOGRAM"],
    }
}

/// The most SKUs one product may carry.
pub(crate) fn max_skus(region: &str) -> usize {
    match region {
        "BR" | "JP" | "MX" | "GB" | "US" | "FR" | "DE" | "IE" | "IT" | "ES" => 300,
        _ => 100,
    }
}

/// The prefix seen on tokens and ciphers of the market (the mapping is UNCONFIRMED, §10).
pub(crate) fn cipher_prefix(region: &str) -> &'static str {
    match region {
        "US" => "TTP_",
        "GB" | "FR" | "DE" | "IE" | "IT" | "ES" => "GCP_",
        _ => "ROW_",
    }
}
