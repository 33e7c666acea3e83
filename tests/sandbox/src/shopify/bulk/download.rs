//! Result files of bulk operations, served as Shopify serves them: from a storage bucket at a
//! signed URL that needs no access token (Google Cloud Storage V4 query parameters,
//! `X-Goog-Signature` and friends), valid seven days, with `Range` requests. The files never
//! change, so any byte window of one can be fetched again.
//!
//! `GET /bulk-operation-outputs/{object}?X-Goog-…`: the whole file (200), one byte range
//! (`Range: bytes=a-b`, `a-`, `-n` → 206 with `Content-Range`), or 416 for a range past the
//! end. Errors are GCS's XML bodies: 403 `SignatureDoesNotMatch`, 400 `ExpiredToken`, 404
//! `NoSuchKey`. The chaos knobs apply as on the Admin API: 429 `SlowDown`-style throttling, 503,
//! a hang then 504, or a body cut short.
//!
//! Choices of ours: the signature is an HMAC over the path and the signing time (GCS signs
//! more); several ranges in one header get the whole file (200), which RFC 9110 allows.

use super::super::AppState;
use crate::chaos::Fate;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;

/// Where result files live below the sandbox's address.
pub const PATH_PREFIX: &str = "/bulk-operation-outputs";
/// Seconds a signed URL stays valid (Shopify: seven days).
pub const URL_LIFETIME_SECONDS: i64 = 7 * 24 * 3600;
/// Bytes of a chaos-broken body kept at most.
const MAX_CHAOS_BODY: usize = 64 * 1024 * 1024;

/// The signed URL of `object`, signed at `signed_at` (Unix seconds).
pub fn signed_url(base_url: &str, object: &str, secret: &[u8], signed_at: i64) -> String {
    let path = format!("{PATH_PREFIX}/{object}");
    let date = goog_date(signed_at);
    let signature = sign(secret, &path, &date);
    let day = &date[..8];
    format!(
        "{base_url}{path}?X-Goog-Algorithm=GOOG4-HMAC-SHA256\
         &X-Goog-Credential=shopify-sandbox-bulk%2F{day}%2Fauto%2Fstorage%2Fgoog4_request\
         &X-Goog-Date={date}&X-Goog-Expires={URL_LIFETIME_SECONDS}&X-Goog-SignedHeaders=host\
         &X-Goog-Signature={signature}"
    )
}

/// `20260115T100000Z`.
fn goog_date(unix_seconds: i64) -> String {
    crate::shopify::timestamp::format(unix_seconds).replace(['-', ':'], "")
}

fn sign(secret: &[u8], path: &str, date: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(format!("GET\n{path}\n{date}\n{URL_LIFETIME_SECONDS}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The download route, with its own chaos layer.
pub fn routes(state: Arc<AppState>) -> Router {
    Router::new()
        .route(&format!("{PATH_PREFIX}/{{object}}"), get(download))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), chaos))
        .with_state(state)
}

/// A storage error as Google Cloud Storage writes it.
fn storage_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")], body).into_response()
}

async fn chaos(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    state.bulk.count_download();
    let fate = state.chaos.fate().await;
    match fate {
        Fate::Throttle => {
            return storage_error(
                StatusCode::TOO_MANY_REQUESTS,
                "SlowDown",
                "Please reduce your request rate.",
            );
        }
        Fate::Fail => {
            return storage_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "We encountered an internal error. Please try again.",
            );
        }
        Fate::Timeout => return StatusCode::GATEWAY_TIMEOUT.into_response(),
        Fate::Serve | Fate::Malform => {}
    }
    let response = next.run(request).await;
    if fate != Fate::Malform || !response.status().is_success() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_CHAOS_BODY).await.unwrap_or_default();
    let mut response = Response::from_parts(parts, Body::from(bytes.slice(..bytes.len() / 2)));
    response.headers_mut().remove(header::CONTENT_LENGTH);
    response
}

async fn download(
    State(state): State<Arc<AppState>>,
    Path(object): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (Some(date), Some(signature)) = (params.get("X-Goog-Date"), params.get("X-Goog-Signature")) else {
        return storage_error(
            StatusCode::BAD_REQUEST,
            "MissingSecurityHeader",
            "Your request was missing a required header.",
        );
    };
    let path = format!("{PATH_PREFIX}/{object}");
    if sign(state.bulk.secret(), &path, date) != *signature {
        return storage_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    let signed_at = crate::shopify::timestamp::parse(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        date.get(..4).unwrap_or_default(),
        date.get(4..6).unwrap_or_default(),
        date.get(6..8).unwrap_or_default(),
        date.get(9..11).unwrap_or_default(),
        date.get(11..13).unwrap_or_default(),
        date.get(13..15).unwrap_or_default(),
    ));
    if signed_at.is_none_or(|at| crate::shopify::shop::now_seconds() > at + URL_LIFETIME_SECONDS) {
        return storage_error(StatusCode::BAD_REQUEST, "ExpiredToken", "The provided token has expired.");
    }
    let Some(file) = state.bulk.file(&object) else {
        return storage_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.");
    };
    let bytes = &file.bytes;
    let total = bytes.len() as u64;
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let mut response = match byte_range(asked, total) {
        ByteRange::Whole => (StatusCode::OK, bytes.clone()).into_response(),
        ByteRange::Part(first, last) => {
            let part = bytes[first as usize..=last as usize].to_vec();
            let mut response = (StatusCode::PARTIAL_CONTENT, part).into_response();
            let range = format!("bytes {first}-{last}/{total}");
            response.headers_mut().insert(header::CONTENT_RANGE, header_value(&range));
            response
        }
        ByteRange::Unsatisfiable => {
            let mut response = storage_error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The requested range cannot be satisfied.",
            );
            response.headers_mut().insert(header::CONTENT_RANGE, header_value(&format!("bytes */{total}")));
            return response;
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jsonl"));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::ETAG, header_value(&format!("\"{}\"", object)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=0"));
    response
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// What a `Range` header asks of a file of `total` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    Whole,
    /// First and last byte, inclusive.
    Part(u64, u64),
    Unsatisfiable,
}

/// Reads a `Range` header (RFC 9110 §14.1.2): a header that is absent, malformed, of another
/// unit or with several ranges gets the whole file.
pub fn byte_range(header: Option<&str>, total: u64) -> ByteRange {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return ByteRange::Whole;
    };
    if spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return ByteRange::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    match (number(first), number(last)) {
        // `-n`: the last n bytes.
        (None, Some(n)) if first.trim().is_empty() => {
            if n == 0 || total == 0 {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Part(total - n.min(total), total - 1)
            }
        }
        (Some(a), None) if last.trim().is_empty() => {
            if a >= total {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Part(a, total - 1)
            }
        }
        (Some(a), Some(b)) if a <= b => {
            if a >= total {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Part(a, b.min(total - 1))
            }
        }
        _ => ByteRange::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers_pick_inclusive_byte_windows() {
        assert_eq!(byte_range(None, 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=0-9"), 100), ByteRange::Part(0, 9));
        assert_eq!(byte_range(Some("bytes=90-200"), 100), ByteRange::Part(90, 99));
        assert_eq!(byte_range(Some("bytes=95-"), 100), ByteRange::Part(95, 99));
        assert_eq!(byte_range(Some("bytes=-10"), 100), ByteRange::Part(90, 99));
        assert_eq!(byte_range(Some("bytes=-500"), 100), ByteRange::Part(0, 99));
        assert_eq!(byte_range(Some("bytes=100-"), 100), ByteRange::Unsatisfiable);
        assert_eq!(byte_range(Some("bytes=-0"), 100), ByteRange::Unsatisfiable);
        assert_eq!(byte_range(Some("bytes=5-2"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("bytes=0-1,5-6"), 100), ByteRange::Whole);
        assert_eq!(byte_range(Some("items=0-1"), 100), ByteRange::Whole);
    }

    #[test]
    fn a_signed_url_carries_the_signature_of_its_path_and_date() {
        let url = signed_url("http://127.0.0.1:1", "abc-final", b"secret", 1_768_471_200);
        assert!(url.starts_with("http://127.0.0.1:1/bulk-operation-outputs/abc-final?"), "{url}");
        assert!(url.contains("&X-Goog-Date=20260115T100000Z&"), "{url}");
        let signature = sign(b"secret", "/bulk-operation-outputs/abc-final", "20260115T100000Z");
        assert!(url.ends_with(&format!("X-Goog-Signature={signature}")), "{url}");
        assert_ne!(signature, sign(b"other", "/bulk-operation-outputs/abc-final", "20260115T100000Z"));
    }
}
