//! The four imports a plugin is granted (http, log, clock, config) and nothing else.
//! HTTP goes out only to allowed hosts, with a timeout and a response-size cap.

use super::bindings::{clock, config, http, log, types};
use super::call::{CallState, ConnectionContext, HTTP_RESPONSE_BYTES};
use super::settings::authority_of;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

impl types::Host for CallState {}

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let plugin = self.ctx.plugin_id.as_str();
        let connection = self.ctx.label.as_str();
        let message: String = message.chars().take(2_000).collect();
        match level {
            log::Level::Trace => tracing::trace!(plugin, connection, message),
            log::Level::Debug => tracing::debug!(plugin, connection, message),
            log::Level::Info => tracing::info!(plugin, connection, message),
            log::Level::Warn => tracing::warn!(plugin, connection, message),
            log::Level::Error => tracing::error!(plugin, connection, message),
        }
        Ok(())
    }
}

impl clock::Host for CallState {
    async fn now_millis(&mut self) -> wasmtime::Result<i64> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Ok(i64::try_from(now.as_millis()).unwrap_or(i64::MAX))
    }
}

impl config::Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.ctx.settings.settings.get(&key).cloned())
    }
    async fn secret(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self.ctx.settings.secrets.get(&name).cloned())
    }
}

impl http::Host for CallState {
    async fn send(
        &mut self,
        req: http::Request,
    ) -> wasmtime::Result<Result<http::Response, http::HttpError>> {
        Ok(send(self.ctx.clone(), req).await)
    }
}

async fn send(ctx: Arc<ConnectionContext>, req: http::Request) -> Result<http::Response, http::HttpError> {
    let authority = authority_of(&req.url)
        .ok_or_else(|| http::HttpError::InvalidUrl(format!("not an absolute URL: {}", req.url)))?;
    if !ctx.hosts.allows(&authority) {
        tracing::warn!(plugin = %ctx.plugin_id, connection = %ctx.label, host = %authority, "http denied");
        return Err(http::HttpError::Denied(authority));
    }
    let url = reqwest::Url::parse(&req.url).map_err(|e| http::HttpError::InvalidUrl(e.to_string()))?;
    let method = match req.method {
        http::Method::Get => reqwest::Method::GET,
        http::Method::Post => reqwest::Method::POST,
        http::Method::Put => reqwest::Method::PUT,
        http::Method::Patch => reqwest::Method::PATCH,
        http::Method::Delete => reqwest::Method::DELETE,
    };
    let cap = ctx.limits.timeout();
    let timeout = req.timeout_ms.map(|ms| Duration::from_millis(ms.into()).min(cap)).unwrap_or(cap);
    let mut builder = ctx.http.request(method.clone(), url).timeout(timeout);
    for header in req.headers {
        builder = builder.header(header.name, header.value);
    }
    if let Some(body) = req.body {
        builder = builder.body(body);
    }
    if let Some(bucket) = &ctx.bucket {
        bucket.acquire().await;
    }
    let started = std::time::Instant::now();
    let mut response = builder.send().await.map_err(transport_error)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| http::Header {
            name: name.as_str().to_string(),
            value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() as u64 + chunk.len() as u64 > HTTP_RESPONSE_BYTES {
            return Err(http::HttpError::TooLarge(HTTP_RESPONSE_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    tracing::debug!(
        plugin = %ctx.plugin_id, connection = %ctx.label, %method, host = %authority, status,
        ms = started.elapsed().as_millis() as u64, "http"
    );
    Ok(http::Response { status, headers, body })
}

fn transport_error(error: reqwest::Error) -> http::HttpError {
    if error.is_timeout() { http::HttpError::Timeout } else { http::HttpError::Transport(error.to_string()) }
}
