//! The consent page a platform shows a merchant who is asked to authorize an app (TikTok
//! Shop's service authorization, Shopify's app install): plain HTML with an approve link
//! and a Cancel link, each leading to where the platform sends the browser next.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// The page: `title`, a line of `text`, and the two choices.
pub(crate) fn page(title: &str, text: &str, approve_label: &str, approve: &str, cancel: &str) -> Response {
    Html(format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <h1>{title}</h1><p>{text}</p>\
         <p><a id=\"approve\" href=\"{approve}\">{approve_label}</a> \
         <a id=\"cancel\" href=\"{cancel}\">Cancel</a></p></body></html>",
        title = escape(title),
        text = escape(text),
        approve_label = escape(approve_label),
        approve = escape(approve),
        cancel = escape(cancel),
    ))
    .into_response()
}

/// A page saying why the request cannot be authorized (400).
pub(crate) fn refused(message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html><head><title>Cannot authorize</title></head><body><h1>Cannot authorize</h1><p>{}</p></body></html>",
        escape(message)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// RFC 3986 percent-encoding of a query value.
pub(crate) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `k=v&…` with each value percent-encoded.
pub(crate) fn query(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

/// `url` with `query` appended (`?` or `&`).
pub(crate) fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}
