//! The four imports a plugin is granted (http, log, clock, config) and nothing else, for
//! every contract version the host speaks. The work is done once, on plain Rust values; each
//! version's generated `Host` traits only translate their own WIT records.
//! HTTP goes out only where `egress` allows (the parsed URL checked, the resolved address
//! checked, no redirects, no `Host` or hop-by-hop headers from the plugin), paced to the
//! platform's limits, with a timeout and a response-size cap; transport errors carry no URL
//! and no secret. Log lines go through `plugin_log` (cleaned, redacted, rate-limited).
//! `config.set-secret` (0.2.0) keeps rotated credentials, within bounds.

use super::bindings::{types, v0_1, v0_2, v0_3};
use super::call::{CallState, ConnectionContext, HTTP_RESPONSE_BYTES};
use super::egress::{self, Refusal};
use super::plugin_log::{self, Level};
use super::plugin_text;
use super::secrets::SetRefusal;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

impl types::Host for CallState {}
impl v0_3::commerce::Host for CallState {}

/// A plugin's HTTP request, whatever its contract version.
struct Outgoing {
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout_ms: Option<u32>,
}

/// The answer handed back to the plugin.
struct Incoming {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Why no answer came back (the WIT `http-error` cases).
enum SendError {
    Denied(String),
    InvalidUrl(String),
    Timeout,
    TooLarge(u64),
    Transport(String),
}

fn now_millis() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Sends a plugin's request if the egress rules allow it: the URL is parsed once and that
/// parsed URL is checked and sent; names are resolved by the client's checked resolver.
async fn send(ctx: Arc<ConnectionContext>, req: Outgoing) -> Result<Incoming, SendError> {
    let refused = |why: String| {
        tracing::warn!(plugin = %ctx.plugin_id, connection = %ctx.label, reason = %why, "http denied");
        SendError::Denied(why)
    };
    let url = match ctx.hosts.check(&ctx.egress, &req.url) {
        Ok(url) => url,
        Err(Refusal::Denied(why)) => return Err(refused(why)),
        Err(Refusal::InvalidUrl(why)) => return Err(SendError::InvalidUrl(why)),
    };
    for (name, _) in &req.headers {
        egress::check_header(name)
            .map_err(|why| refused(format!("{}: {why}", url.origin().ascii_serialization())))?;
    }
    let host = url.host_str().unwrap_or_default().to_string();
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    let cap = ctx.limits.timeout();
    let timeout = req.timeout_ms.map(|ms| Duration::from_millis(ms.into()).min(cap)).unwrap_or(cap);
    let path = url.path().to_string();
    let method = req.method;
    let mut builder = ctx.http.request(method.clone(), url).timeout(timeout);
    for (name, value) in req.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = req.body {
        builder = builder.body(body);
    }
    let api = match &ctx.pacer {
        Some(pacer) => pacer.acquire(method.as_str(), &authority, &path).await,
        None => None,
    };
    let started = std::time::Instant::now();
    let failed = |error| transport_error(&ctx, error);
    let mut response = builder.send().await.map_err(failed)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() as u64 + chunk.len() as u64 > HTTP_RESPONSE_BYTES {
            return Err(SendError::TooLarge(HTTP_RESPONSE_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    tracing::debug!(
        plugin = %ctx.plugin_id, connection = %ctx.label, %method, host = %authority, api = api.as_deref(),
        status, ms = started.elapsed().as_millis() as u64, "http"
    );
    Ok(Incoming { status, headers, body })
}

/// A transport failure as the plugin (and whatever logs or keeps its error) sees it: no URL
/// (its query may hold credentials), the causes in one line, secret values taken out. A name
/// that resolved only to refused addresses is a denial, not a transport failure.
fn transport_error(ctx: &ConnectionContext, error: reqwest::Error) -> SendError {
    if error.is_timeout() {
        return SendError::Timeout;
    }
    let error = error.without_url();
    let mut causes = vec![error.to_string()];
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<egress::EgressRefused>() {
            tracing::warn!(plugin = %ctx.plugin_id, connection = %ctx.label, reason = %refused, "http denied");
            return SendError::Denied(format!("{refused}"));
        }
        let text = cause.to_string();
        if !causes.iter().any(|c| c.contains(&text)) {
            causes.push(text);
        }
        source = cause.source();
    }
    let message = plugin_text::redact(&causes.join(": "), &ctx.secrets.values());
    SendError::Transport(message)
}

/// Implements `log`, `clock` and `http` of one contract version (their records differ in
/// type only, never in shape).
macro_rules! shared_imports {
    ($v:ident) => {
        impl $v::log::Host for CallState {
            async fn log(&mut self, level: $v::log::Level, message: String) -> wasmtime::Result<()> {
                let level = match level {
                    $v::log::Level::Trace => Level::Trace,
                    $v::log::Level::Debug => Level::Debug,
                    $v::log::Level::Info => Level::Info,
                    $v::log::Level::Warn => Level::Warn,
                    $v::log::Level::Error => Level::Error,
                };
                let ctx = &self.ctx;
                let mut call = self.log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let secrets = || ctx.secrets.values();
                plugin_log::log(
                    &ctx.plugin_id,
                    &ctx.label,
                    &ctx.log_budget,
                    &mut call,
                    secrets,
                    level,
                    &message,
                );
                Ok(())
            }
        }

        impl $v::clock::Host for CallState {
            async fn now_millis(&mut self) -> wasmtime::Result<i64> {
                Ok(now_millis())
            }
        }

        impl $v::http::Host for CallState {
            async fn send(
                &mut self,
                req: $v::http::Request,
            ) -> wasmtime::Result<Result<$v::http::Response, $v::http::HttpError>> {
                use $v::http as wit;
                let method = match req.method {
                    wit::Method::Get => reqwest::Method::GET,
                    wit::Method::Post => reqwest::Method::POST,
                    wit::Method::Put => reqwest::Method::PUT,
                    wit::Method::Patch => reqwest::Method::PATCH,
                    wit::Method::Delete => reqwest::Method::DELETE,
                };
                let outgoing = Outgoing {
                    method,
                    url: req.url,
                    headers: req.headers.into_iter().map(|h| (h.name, h.value)).collect(),
                    body: req.body,
                    timeout_ms: req.timeout_ms,
                };
                Ok(match send(self.ctx.clone(), outgoing).await {
                    Ok(r) => Ok(wit::Response {
                        status: r.status,
                        headers: r
                            .headers
                            .into_iter()
                            .map(|(name, value)| wit::Header { name, value })
                            .collect(),
                        body: r.body,
                    }),
                    Err(SendError::Denied(host)) => Err(wit::HttpError::Denied(host)),
                    Err(SendError::InvalidUrl(m)) => Err(wit::HttpError::InvalidUrl(m)),
                    Err(SendError::Timeout) => Err(wit::HttpError::Timeout),
                    Err(SendError::TooLarge(n)) => Err(wit::HttpError::TooLarge(n)),
                    Err(SendError::Transport(m)) => Err(wit::HttpError::Transport(m)),
                })
            }
        }
    };
}

shared_imports!(v0_1);
shared_imports!(v0_2);
shared_imports!(v0_3);

impl v0_1::config::Host for CallState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.ctx.settings.settings.get(&key).cloned())
    }
    async fn secret(&mut self, name: String) -> wasmtime::Result<Option<String>> {
        Ok(self.ctx.secrets.get(&name))
    }
}

/// `config` with `set-secret`, as 0.2.0 and 0.3.0 define it.
macro_rules! config_with_set_secret {
    ($v:ident) => {
        impl $v::config::Host for CallState {
            async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
                Ok(self.ctx.settings.settings.get(&key).cloned())
            }
            async fn secret(&mut self, name: String) -> wasmtime::Result<Option<String>> {
                Ok(self.ctx.secrets.get(&name))
            }
            async fn set_secret(
                &mut self,
                name: String,
                value: String,
            ) -> wasmtime::Result<Result<(), $v::config::SetSecretError>> {
                use $v::config::SetSecretError;
                let ctx = self.ctx.clone();
                let who = (ctx.plugin_id.as_str(), ctx.label.as_str());
                Ok(ctx.secrets.set(who, &mut self.secret_sets, &name, value).await.map_err(|refusal| {
                    match refusal {
                        SetRefusal::UnknownName(name) => SetSecretError::UnknownName(name),
                        SetRefusal::TooLarge(limit) => SetSecretError::TooLarge(limit),
                        SetRefusal::TooManyCalls(limit) => SetSecretError::TooManyCalls(limit),
                        SetRefusal::NotKept(message) => SetSecretError::NotKept(message),
                    }
                }))
            }
        }
    };
}

config_with_set_secret!(v0_2);
config_with_set_secret!(v0_3);
