//! Calls the JSON API in process on behalf of the visitor: the request carries the
//! visitor's session cookie, and for changes the CSRF token their form posted, so the API's
//! own authentication, organization scoping and CSRF check decide what a page may do.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use serde_json::Value;
use std::net::SocketAddr;
use tower::ServiceExt;

/// The API, callable in process. Cheap to clone.
#[derive(Clone)]
pub struct ApiClient {
    router: Router,
}

/// Why the API refused a call: its status and its `error` text.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An answer: its JSON body and the headers (login reads `Set-Cookie` from them).
pub struct Answer {
    pub body: Value,
    pub headers: HeaderMap,
}

impl ApiClient {
    pub fn new(router: Router) -> Self {
        ApiClient { router }
    }

    /// Calls `method path` with `body` as JSON, as the visitor at `peer` whose `cookie` this
    /// is; `csrf` goes in the `X-CSRF-Token` header.
    pub async fn call(
        &self,
        peer: Option<SocketAddr>,
        cookie: Option<&HeaderValue>,
        csrf: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, Refusal> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(serde_json::to_vec(body).unwrap_or_default())),
            None => request.body(Body::empty()),
        }
        .map_err(|e| Refusal { status: StatusCode::BAD_REQUEST, message: format!("bad request: {e}") })?;
        let mut request = request;
        // The visitor's own address, for the API's login throttle.
        if let Some(peer) = peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let headers = response.headers().clone();
        let bytes =
            axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024).await.map_err(|e| Refusal {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("reading the API's answer: {e}"),
            })?;
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        if status.is_success() {
            Ok(Answer { body, headers })
        } else {
            let message = body
                .get("error")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{status}: {body}"));
            Err(Refusal { status, message })
        }
    }
}
