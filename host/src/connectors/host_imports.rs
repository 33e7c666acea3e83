//! The four imports a plugin is granted (http, log, clock, config) and nothing else, for
//! every contract version the host speaks. The work is done once, on plain Rust values; each
//! version's generated `Host` traits only translate their own WIT records.
//! HTTP goes out only to allowed hosts, paced to the platform's limits, with a timeout and a
//! response-size cap. `config.set-secret` (0.2.0) keeps rotated credentials, within bounds.

use super::bindings::{types, v0_1, v0_2, v0_3};
use super::call::{CallState, ConnectionContext, HTTP_RESPONSE_BYTES};
use super::secrets::SetRefusal;
use super::settings::authority_of;
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

/// Severity of a plugin's log line (the WIT `level` cases).
#[derive(Clone, Copy)]
enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

fn log(ctx: &ConnectionContext, level: Level, message: &str) {
    let plugin = ctx.plugin_id.as_str();
    let connection = ctx.label.as_str();
    let message: String = message.chars().take(2_000).collect();
    match level {
        Level::Trace => tracing::trace!(plugin, connection, message),
        Level::Debug => tracing::debug!(plugin, connection, message),
        Level::Info => tracing::info!(plugin, connection, message),
        Level::Warn => tracing::warn!(plugin, connection, message),
        Level::Error => tracing::error!(plugin, connection, message),
    }
}

fn now_millis() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

async fn send(ctx: Arc<ConnectionContext>, req: Outgoing) -> Result<Incoming, SendError> {
    let authority = authority_of(&req.url)
        .ok_or_else(|| SendError::InvalidUrl(format!("not an absolute URL: {}", req.url)))?;
    if !ctx.hosts.allows(&authority) {
        tracing::warn!(plugin = %ctx.plugin_id, connection = %ctx.label, host = %authority, "http denied");
        return Err(SendError::Denied(authority));
    }
    let url = reqwest::Url::parse(&req.url).map_err(|e| SendError::InvalidUrl(e.to_string()))?;
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
    let mut response = builder.send().await.map_err(transport_error)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
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

fn transport_error(error: reqwest::Error) -> SendError {
    if error.is_timeout() { SendError::Timeout } else { SendError::Transport(error.to_string()) }
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
                log(&self.ctx, level, &message);
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
