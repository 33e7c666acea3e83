//! A small request builder over the host's `http` import, with JSON helpers and a mapping
//! from transport failures to [`ConnectorError`]s.

use crate::store_bindings::crossdock::connector::http as imports;
use crate::types::ConnectorError;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use imports::{HttpError, Method};

/// A request being built.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout_ms: Option<u32>,
}

/// A response, whatever its status.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request { method, url: url.into(), headers: Vec::new(), body: None, timeout_ms: None }
    }
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    /// Sets raw body bytes.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }
    /// Serializes `value` as the JSON body and sets the content type.
    pub fn json<T: Serialize>(self, value: &T) -> crate::Result<Self> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| ConnectorError::Fatal(format!("could not encode request body: {e}")))?;
        Ok(self.header("content-type", "application/json").body(bytes))
    }
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.timeout_ms = Some(ms);
        self
    }
    /// The body as it will go on the wire (signing schemes need the exact bytes).
    pub fn body_bytes(&self) -> Option<&[u8]> {
        self.body.as_deref()
    }

    /// Sends the request through the host.
    pub fn send(self) -> crate::Result<Response> {
        let request = imports::Request {
            method: self.method,
            url: self.url.clone(),
            headers: self.headers.into_iter().map(|(name, value)| imports::Header { name, value }).collect(),
            body: self.body,
            timeout_ms: self.timeout_ms,
        };
        match imports::send(&request) {
            Ok(r) => Ok(Response {
                status: r.status,
                headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
                body: r.body,
            }),
            Err(e) => Err(transport_error(&shown(&self.url), e)),
        }
    }
}

/// A URL as an error message may show it: without its query or fragment (which often hold
/// credentials: `app_secret`, `refresh_token`, a consumer secret) or a user name and password.
pub fn shown(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let host = authority.rsplit_once('@').map(|(_, h)| h).unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

fn transport_error(url: &str, e: HttpError) -> ConnectorError {
    match e {
        HttpError::Denied(why) => ConnectorError::Fatal(format!("the host refused the request: {why}")),
        HttpError::InvalidUrl(m) => ConnectorError::Fatal(format!("invalid URL {url}: {m}")),
        HttpError::Timeout => ConnectorError::Transient(format!("timed out calling {url}")),
        HttpError::TooLarge(n) => {
            ConnectorError::Fatal(format!("response from {url} passed the {n}-byte cap"))
        }
        HttpError::Transport(m) => ConnectorError::Transient(format!("calling {url}: {m}")),
    }
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// Decodes the body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> crate::Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ConnectorError::Transient(format!(
                "unexpected response body (HTTP {}): {e}: {}",
                self.status,
                self.text_preview()
            ))
        })
    }
    /// The first 300 characters of the body, for error messages.
    pub fn text_preview(&self) -> String {
        String::from_utf8_lossy(&self.body).chars().take(300).collect()
    }
    /// Seconds in a `Retry-After` header, as milliseconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        let v = self.header("retry-after")?;
        v.trim().parse::<f64>().ok().map(|s| (s * 1000.0) as u64)
    }
}
