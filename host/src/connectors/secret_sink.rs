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
