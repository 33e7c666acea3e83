//! Reading a big catalog with a Shopify bulk operation instead of pages. The connector decides
//! on a first page: with `bulk-read = "auto"` (the default) it counts the shop's products and
//! goes bulk above `bulk-threshold` (default 250); `"always"` skips the count, `"never"` keeps
//! to pages. It starts [`BULK_PRODUCTS`](crate::query::BULK_PRODUCTS) and answers an empty page
//! whose cursor names the operation: the host's convention for "the store is preparing the
//! data, ask again with this cursor in a moment" (it waits 250 ms, growing to 2 s). Each later
//! call polls the operation once: still running, the same empty page again; failed, a typed
//! error naming the operation and Shopify's `errorCode`; completed, a window of the JSONL file
//! read with an HTTP `Range` request (see [`window`]) and a cursor at the byte the next page
//! starts at, until the file ends.
//!
//! Pure functions over Shopify's answers, tested natively; `lib.rs` makes the calls.

pub mod window;

use crossdock_plugin_sdk::types::ConnectorError;
use serde::{Deserialize, Deserializer};

/// `bulk-threshold` when unset: more products than this are read in bulk.
pub const DEFAULT_THRESHOLD: u64 = 250;
/// Smallest window read from the file.
pub const MIN_WINDOW: u64 = 64 * 1024;
/// Largest window read from the file for a page, well under the host's 8 MiB response cap.
pub const MAX_WINDOW: u64 = 4 * 1024 * 1024;
/// Largest window tried for one product that does not fit in [`MAX_WINDOW`].
pub const LARGEST_WINDOW: u64 = 7 * 1024 * 1024;
// The host refuses a response body past 8 MiB.
const _: () = assert!(LARGEST_WINDOW < 8 * 1024 * 1024);
/// Bytes a product is assumed to take when the operation does not say.
const GUESSED_PRODUCT_BYTES: u64 = 2_048;
/// Waited before retrying a throttled download without a `Retry-After`.
const DEFAULT_RETRY_MS: u64 = 1_000;

/// The `bulk-read` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Always page.
    Never,
    /// Bulk above the threshold.
    Auto,
    /// Always bulk.
    Always,
}

/// When to read in bulk, from the connection's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    /// More products than this are read in bulk (mode `auto`).
    pub threshold: u64,
}

impl Settings {
    /// Reads `bulk-read` and `bulk-threshold` (either may be unset).
    pub fn parse(mode: Option<&str>, threshold: Option<&str>) -> Result<Settings, ConnectorError> {
        let mode = match mode.map(|m| m.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("auto") => Mode::Auto,
            Some("never") => Mode::Never,
            Some("always") => Mode::Always,
            Some(other) => {
                return Err(ConnectorError::Fatal(format!(
                    "connection setting `bulk-read` must be never, auto or always, not `{other}`"
                )));
            }
        };
        let threshold = match threshold.map(str::trim).filter(|t| !t.is_empty()) {
            None => DEFAULT_THRESHOLD,
            Some(text) => text.parse().map_err(|_| {
                ConnectorError::Fatal(format!(
                    "connection setting `bulk-threshold` must be a whole number of products, not `{text}`"
                ))
            })?,
        };
        Ok(Settings { mode, threshold })
    }
}

// ---- response shapes -------------------------------------------------------------------

/// `productsCount { count precision }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductsCountData {
    pub products_count: Count,
}

#[derive(Debug, Deserialize)]
pub struct Count {
    pub count: u64,
    /// `EXACT`, or `AT_LEAST` past Shopify's counting limit.
    #[serde(default)]
    pub precision: Option<String>,
}

impl ProductsCountData {
    /// Whether the shop has more products than `threshold`.
    pub fn above(&self, threshold: u64) -> bool {
        let count = &self.products_count;
        count.count > threshold
            || (count.count == threshold && count.precision.as_deref() == Some("AT_LEAST"))
    }
}

/// `bulkOperationRunQuery`'s payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRunData {
    pub bulk_operation_run_query: BulkRunPayload,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRunPayload {
    #[serde(default)]
    pub bulk_operation: Option<OperationRef>,
    #[serde(default)]
    pub user_errors: Vec<UserError>,
}

#[derive(Debug, Deserialize)]
pub struct OperationRef {
    pub id: String,
}

#[derive(Debug, Deserialize)]
pub struct UserError {
    #[serde(default)]
    pub code: Option<String>,
    pub message: String,
}

/// What starting a bulk read came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// The operation's id.
    Operation(String),
    /// Shopify runs as many bulk operations for this app as it allows; read by pages instead.
    Busy(String),
}

impl BulkRunData {
    /// The operation started, or why not: a full house is [`Started::Busy`], anything else
    /// (a query Shopify refuses) is fatal.
    pub fn started(self) -> Result<Started, ConnectorError> {
        let payload = self.bulk_operation_run_query;
        if let Some(operation) = payload.bulk_operation.filter(|_| payload.user_errors.is_empty()) {
            return Ok(Started::Operation(operation.id));
        }
        let messages = payload.user_errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
        let busy = payload
            .user_errors
            .iter()
            .any(|e| matches!(e.code.as_deref(), Some("LIMIT_REACHED" | "OPERATION_IN_PROGRESS")));
        if busy {
            return Ok(Started::Busy(messages));
        }
        Err(ConnectorError::Fatal(format!("Shopify refused the bulk query of the catalog: {messages}")))
    }
}

/// A poll's answer: the shop's currency and the operation (none when Shopify does not know it).
#[derive(Debug, Deserialize)]
pub struct BulkPollData {
    pub shop: crate::mapping::ShopNode,
    #[serde(default)]
    pub node: Option<OperationNode>,
}

/// `BulkOperation`, as far as reading it needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationNode {
    pub status: String,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default, deserialize_with = "unsigned")]
    pub object_count: Option<u64>,
    #[serde(default, deserialize_with = "unsigned")]
    pub root_object_count: Option<u64>,
    #[serde(default, deserialize_with = "unsigned")]
    pub file_size: Option<u64>,
    #[serde(default)]
    pub url: Option<String>,
}

/// `UnsignedInt64` comes as a string (`"1024"`); a number is read too.
fn unsigned<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    Ok(match Option::<Raw>::deserialize(deserializer)? {
        None => None,
        Some(Raw::Number(n)) => Some(n),
        Some(Raw::Text(text)) => Some(text.trim().parse().map_err(serde::de::Error::custom)?),
    })
}

/// Where a bulk read stands after one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still being prepared (objects written so far): answer an empty page with the same
    /// cursor.
    Preparing(u64),
    /// Done, with nothing in it.
    Empty,
    /// Done: the file's signed URL, its size and how many products it holds.
    Ready { url: String, size: u64, products: u64 },
}

impl BulkPollData {
    /// Where operation `id` stands; a failed, cancelled, expired or unknown operation is an
    /// error that names it.
    pub fn progress(&self, id: &str) -> Result<Progress, ConnectorError> {
        let Some(operation) = self.node.as_ref() else {
            return Err(ConnectorError::Fatal(format!(
                "Shopify does not know bulk operation {id} (the cursor is not this shop's); the next catalog read starts a new one"
            )));
        };
        match operation.status.as_str() {
            "CREATED" | "RUNNING" => Ok(Progress::Preparing(operation.object_count.unwrap_or(0))),
            "COMPLETED" => match (&operation.url, operation.file_size) {
                (Some(url), size) if size != Some(0) => Ok(Progress::Ready {
                    url: url.clone(),
                    size: size.unwrap_or(u64::MAX),
                    products: operation.root_object_count.unwrap_or(0),
                }),
                _ => Ok(Progress::Empty),
            },
            "FAILED" => Err(failed(id, operation.error_code.as_deref())),
            "CANCELING" | "CANCELED" => Err(ConnectorError::Transient(format!(
                "Shopify's bulk operation {id} was cancelled (by the merchant or another client); the next catalog read starts a new one"
            ))),
            "EXPIRED" => Err(ConnectorError::Transient(format!(
                "Shopify's bulk operation {id} has expired (results are kept 7 days); the next catalog read starts a new one"
            ))),
            other => Err(ConnectorError::Fatal(format!(
                "Shopify's bulk operation {id} has a status this connector does not know: {other}"
            ))),
        }
    }
}

/// The error for a `FAILED` operation, by Shopify's `errorCode`.
fn failed(id: &str, code: Option<&str>) -> ConnectorError {
    let code = code.unwrap_or("no errorCode");
    let message = format!("Shopify's bulk operation {id} failed: {code}");
    match code {
        "ACCESS_DENIED" => ConnectorError::Unauthorized(format!(
            "{message}; the access token lacks a scope the catalog query needs (read_products)"
        )),
        "INTERNAL_SERVER_ERROR" => {
            ConnectorError::Transient(format!("{message}; the next catalog read starts a new one"))
        }
        "TIMEOUT" => ConnectorError::Fatal(format!(
            "{message}; the catalog query ran past Shopify's limit (set `bulk-read = \"never\"` to read by pages)"
        )),
        _ => ConnectorError::Fatal(message),
    }
}

// ---- windows of the file ---------------------------------------------------------------

/// Bytes to read for a page of `limit` products from a file of `size` bytes holding
/// `products` products: the average product's share for one more than `limit` (the next
/// product's first line shows the last one is whole), with a quarter to spare.
pub fn window_size(limit: u32, size: u64, products: u64) -> u64 {
    let per_product =
        if products == 0 || size == u64::MAX { GUESSED_PRODUCT_BYTES } else { size.div_ceil(products) };
    let wanted = per_product.saturating_mul(u64::from(limit.max(1)) + 1).saturating_mul(5) / 4;
    wanted.clamp(MIN_WINDOW, MAX_WINDOW)
}

/// The `Range` header for `len` bytes from `offset`.
pub fn range_header(offset: u64, len: u64) -> String {
    format!("bytes={offset}-{}", offset + len.max(1) - 1)
}

/// The bytes of a ranged download.
#[derive(Debug)]
pub struct Downloaded {
    /// The file's bytes from the asked offset.
    pub bytes: Vec<u8>,
    /// Whether they run to the end of the file.
    pub at_end: bool,
}

/// Checks a download's answer for `bytes={offset}-…`: `Ok(None)` when `offset` is past the end
/// (416). `size` is the file size the operation reported (`u64::MAX` when it did not say).
pub fn check_download(
    id: &str,
    status: u16,
    content_range: Option<&str>,
    retry_after_ms: Option<u64>,
    body: Vec<u8>,
    offset: u64,
    size: u64,
) -> Result<Option<Downloaded>, ConnectorError> {
    let refused = |what: &str| {
        let preview: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        format!("downloading the result of Shopify's bulk operation {id} {what} (HTTP {status}): {preview}")
    };
    match status {
        206 => {
            let Some((first, last, total)) = content_range.and_then(parse_content_range) else {
                return Err(ConnectorError::Transient(refused("came back without a readable Content-Range")));
            };
            if first != offset || body.len() as u64 != last - first + 1 {
                return Err(ConnectorError::Transient(format!(
                    "downloading the result of Shopify's bulk operation {id}: asked from byte {offset}, got bytes {first}-{last} in {} bytes (cut short)",
                    body.len()
                )));
            }
            Ok(Some(Downloaded { bytes: body, at_end: last + 1 >= total }))
        }
        // The whole file: the server ignored the range.
        200 => {
            if size != u64::MAX && body.len() as u64 != size {
                return Err(ConnectorError::Transient(refused("was cut short")));
            }
            let from = usize::try_from(offset).unwrap_or(usize::MAX).min(body.len());
            Ok(Some(Downloaded { bytes: body[from..].to_vec(), at_end: true }))
        }
        416 => Ok(None),
        429 => Err(ConnectorError::rate_limited(
            retry_after_ms.unwrap_or(DEFAULT_RETRY_MS),
            refused("was throttled"),
        )),
        500..=599 => Err(ConnectorError::Transient(refused("failed"))),
        _ => Err(ConnectorError::Transient(format!(
            "{}; the next catalog read starts a new operation",
            refused("was refused")
        ))),
    }
}

/// `bytes a-b/total` → (a, b, total); `total` may be `*` (unknown: read as never reached).
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let range = value.trim().strip_prefix("bytes ")?;
    let (span, total) = range.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let (first, last): (u64, u64) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
    let total = match total.trim() {
        "*" => u64::MAX,
        total => total.parse().ok()?,
    };
    (first <= last).then_some((first, last, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn poll(node: serde_json::Value) -> BulkPollData {
        serde_json::from_value(json!({"shop": {"currencyCode": "EUR"}, "node": node})).expect("poll shape")
    }

    const ID: &str = "gid://shopify/BulkOperation/5100000001";

    #[test]
    fn settings_default_to_auto_above_250_and_refuse_nonsense() {
        assert_eq!(Settings::parse(None, None).ok(), Some(Settings { mode: Mode::Auto, threshold: 250 }));
        let set = Settings::parse(Some(" Always "), Some("1000")).expect("valid");
        assert_eq!(set, Settings { mode: Mode::Always, threshold: 1000 });
        assert_eq!(Settings::parse(Some("never"), Some("")).map(|s| s.mode).ok(), Some(Mode::Never));
        assert!(
            matches!(Settings::parse(Some("sometimes"), None), Err(ConnectorError::Fatal(m)) if m.contains("bulk-read"))
        );
        assert!(
            matches!(Settings::parse(None, Some("-3")), Err(ConnectorError::Fatal(m)) if m.contains("bulk-threshold"))
        );
    }

    #[test]
    fn a_count_above_the_threshold_or_past_shopifys_limit_goes_bulk() {
        let count = |count: u64, precision: &str| -> ProductsCountData {
            serde_json::from_value(json!({"productsCount": {"count": count, "precision": precision}}))
                .expect("shape")
        };
        assert!(!count(250, "EXACT").above(250));
        assert!(count(251, "EXACT").above(250));
        assert!(count(10_000, "AT_LEAST").above(10_000));
    }

    #[test]
    fn starting_answers_the_operation_or_says_shopify_is_busy() {
        let run = |payload: serde_json::Value| -> Result<Started, ConnectorError> {
            serde_json::from_value::<BulkRunData>(json!({"bulkOperationRunQuery": payload}))
                .expect("shape")
                .started()
        };
        assert_eq!(
            run(json!({"bulkOperation": {"id": ID, "status": "CREATED"}, "userErrors": []})).ok(),
            Some(Started::Operation(ID.into()))
        );
        let busy = run(json!({"bulkOperation": null, "userErrors": [{"field": null, "code": "LIMIT_REACHED",
            "message": "Bulk operations limit reached."}]}));
        assert_eq!(busy.ok(), Some(Started::Busy("Bulk operations limit reached.".into())));
        let refused =
            run(json!({"bulkOperation": null, "userErrors": [{"field": ["query"], "code": "INVALID",
            "message": "Invalid bulk query: Unknown field"}]}));
        assert!(matches!(refused, Err(ConnectorError::Fatal(m)) if m.contains("Unknown field")));
    }

    #[test]
    fn a_running_operation_is_still_preparing_and_a_completed_one_is_ready() {
        let running = poll(json!({"id": ID, "status": "RUNNING", "objectCount": "12"}));
        assert_eq!(running.progress(ID).ok(), Some(Progress::Preparing(12)));
        let done =
            poll(json!({"id": ID, "status": "COMPLETED", "objectCount": "40", "rootObjectCount": "10",
            "fileSize": "20480", "url": "https://storage.example/x?sig=1"}));
        assert_eq!(
            done.progress(ID).ok(),
            Some(Progress::Ready {
                url: "https://storage.example/x?sig=1".into(),
                size: 20_480,
                products: 10
            })
        );
        let empty =
            poll(json!({"id": ID, "status": "COMPLETED", "objectCount": "0", "fileSize": null, "url": null}));
        assert_eq!(empty.progress(ID).ok(), Some(Progress::Empty));
        assert_eq!(done.shop.currency_code, "EUR");
    }

    #[test]
    fn a_failed_operation_is_a_typed_error_naming_it_and_its_code() {
        let failed = |code: &str| poll(json!({"id": ID, "status": "FAILED", "errorCode": code})).progress(ID);
        match failed("INTERNAL_SERVER_ERROR") {
            Err(ConnectorError::Transient(m)) => {
                assert!(m.contains(ID) && m.contains("INTERNAL_SERVER_ERROR"), "{m}")
            }
            other => panic!("expected transient, got {other:?}"),
        }
        assert!(matches!(failed("ACCESS_DENIED"), Err(ConnectorError::Unauthorized(m)) if m.contains(ID)));
        assert!(matches!(failed("TIMEOUT"), Err(ConnectorError::Fatal(m)) if m.contains("TIMEOUT")));
        let canceled = poll(json!({"id": ID, "status": "CANCELED"})).progress(ID);
        assert!(matches!(canceled, Err(ConnectorError::Transient(m)) if m.contains("cancelled")));
        let unknown = poll(serde_json::Value::Null).progress(ID);
        assert!(matches!(unknown, Err(ConnectorError::Fatal(m)) if m.contains(ID)));
    }

    #[test]
    fn windows_fit_the_page_and_the_host_cap() {
        // 2,000 bytes a product: 51 products and a quarter.
        assert_eq!(window_size(50, 20_000_000, 10_000), 127_500);
        assert_eq!(window_size(1, 10, 1), MIN_WINDOW);
        assert_eq!(window_size(250, 200_000_000, 1_000), MAX_WINDOW);
        assert_eq!(window_size(50, u64::MAX, 0), 130_560);
        assert_eq!(range_header(100, 50), "bytes=100-149");
    }

    #[test]
    fn downloads_are_checked_against_the_asked_range() {
        let ok = check_download(ID, 206, Some("bytes 100-104/200"), None, b"abcde".to_vec(), 100, 200)
            .expect("good")
            .expect("bytes");
        assert_eq!((ok.bytes.as_slice(), ok.at_end), (&b"abcde"[..], false));
        let last = check_download(ID, 206, Some("bytes 195-199/200"), None, b"vwxyz".to_vec(), 195, 200);
        assert!(last.expect("good").expect("bytes").at_end);
        let cut = check_download(ID, 206, Some("bytes 100-104/200"), None, b"ab".to_vec(), 100, 200);
        assert!(matches!(cut, Err(ConnectorError::Transient(m)) if m.contains("cut short")));
        let whole =
            check_download(ID, 200, None, None, b"0123456789".to_vec(), 4, 10).expect("good").expect("bytes");
        assert_eq!((whole.bytes.as_slice(), whole.at_end), (&b"456789"[..], true));
        assert!(
            check_download(ID, 416, Some("bytes */200"), None, Vec::new(), 200, 200).expect("good").is_none()
        );
        assert!(matches!(
            check_download(ID, 429, None, Some(2_000), Vec::new(), 0, 10),
            Err(ConnectorError::RateLimited(r)) if r.retry_after_ms == 2_000
        ));
        let forbidden = check_download(ID, 403, None, None, b"<Error>".to_vec(), 0, 10);
        assert!(
            matches!(forbidden, Err(ConnectorError::Transient(m)) if m.contains("HTTP 403") && m.contains(ID))
        );
    }
}
