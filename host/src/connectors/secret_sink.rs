//! Where a connector's rotated credentials go. A platform may replace a secret while the
//! connector runs (TikTok Shop refreshes an expired access token); the connector hands the
//! new value to the host through the `config.set-secret` import, and the host keeps it
//! (encrypted at rest) so that the next call, and the next process, use it: one refresh per
//! expiry, not one per call.

use std::future::Future;
use std::pin::Pin;

/// What keeping a secret returns: Ok, or why it could not be kept.
pub type KeepFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Keeps the secrets one connection's connector rotates. Implemented by the host's secret
/// store; one instance per connection, so it knows which connection a secret belongs to.
pub trait SecretSink: Send + Sync + std::fmt::Debug {
    /// Stores `value` as the connection's secret `name`, replacing the earlier value.
    fn keep<'a>(&'a self, name: &'a str, value: &'a str) -> KeepFuture<'a>;
}

/// Holds what a connector sets before its connection is stored (the tokens it gets for an
/// authorization code on the check that makes the connection), for the host to store with
/// the new connection.
#[derive(Default)]
pub struct CapturedSecrets(std::sync::Mutex<std::collections::BTreeMap<String, String>>);

impl std::fmt::Debug for CapturedSecrets {
    /// Names only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CapturedSecrets").field(&self.take_copy().into_keys().collect::<Vec<_>>()).finish()
    }
}

impl CapturedSecrets {
    /// Every value set so far, the latest per name.
    pub fn take_copy(&self) -> std::collections::BTreeMap<String, String> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

impl SecretSink for CapturedSecrets {
    fn keep<'a>(&'a self, name: &'a str, value: &'a str) -> KeepFuture<'a> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_string(), value.to_string());
        Box::pin(async { Ok(()) })
    }
}
