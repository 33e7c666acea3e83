//! One connection's secrets as its plugin calls see them: the configured values, replaced by
//! what the plugin rotates through `config.set-secret` (a refreshed access token), so a value
//! set in one call is what every later call of the same connector reads. Each rotation is
//! also handed to the connection's `SecretSink`, when the host gave it one, to outlive the
//! process. A plugin is untrusted: it can only rotate names it was given or declared, values
//! are size-capped, and one plugin call can set only a few.

use super::secret_sink::SecretSink;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Longest value `set-secret` takes, in bytes.
pub const MAX_SECRET_BYTES: usize = 8 * 1024;
/// Most `set-secret` calls one plugin call may make, refused ones included.
pub const MAX_SETS_PER_CALL: u32 = 4;
/// How long the host waits for the sink to keep a value.
const KEEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a `set-secret` was refused (mirrors the WIT `set-secret-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SetRefusal {
    UnknownName(String),
    TooLarge(u32),
    TooManyCalls(u32),
    NotKept(String),
}

/// A connection's secrets, shared by every call through one connector (and its clones).
pub(crate) struct ConnectionSecrets {
    values: Mutex<BTreeMap<String, String>>,
    /// Names the manifest declares (`secrets = [...]`).
    declared: BTreeSet<String>,
    sink: Mutex<Option<Arc<dyn SecretSink>>>,
}

impl std::fmt::Debug for ConnectionSecrets {
    /// Names only: values never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSecrets")
            .field("names", &self.lock().keys().collect::<Vec<_>>())
            .field("declared", &self.declared)
            .field("sink", &self.sink.lock().unwrap_or_else(PoisonError::into_inner).is_some())
            .finish()
    }
}

impl ConnectionSecrets {
    pub fn new(values: BTreeMap<String, String>, declared: &[String]) -> Self {
        ConnectionSecrets {
            values: Mutex::new(values),
            declared: declared.iter().cloned().collect(),
            sink: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, String>> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where rotated values go from now on.
    pub fn set_sink(&self, sink: Arc<dyn SecretSink>) {
        *self.sink.lock().unwrap_or_else(PoisonError::into_inner) = Some(sink);
    }

    /// Every current value, to take out of text shown or kept (longest first, so a value
    /// that contains another is replaced whole).
    pub fn values(&self) -> Vec<String> {
        let mut values: Vec<String> = self.lock().values().cloned().collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values
    }

    /// The current value of a secret.
    pub fn get(&self, name: &str) -> Option<String> {
        self.lock().get(name).cloned()
    }

    /// Takes a rotated value: checks the bounds (`sets_so_far` counts this plugin call's
    /// attempts), makes it what later reads see, then hands it to the sink. `who` names the
    /// plugin and connection in logs; the value is never logged.
    pub async fn set(
        &self,
        who: (&str, &str),
        sets_so_far: &mut u32,
        name: &str,
        value: String,
    ) -> Result<(), SetRefusal> {
        let (plugin, connection) = who;
        let shown: String = name.chars().take(64).collect();
        *sets_so_far = sets_so_far.saturating_add(1);
        let refusal = if *sets_so_far > MAX_SETS_PER_CALL {
            Some(SetRefusal::TooManyCalls(MAX_SETS_PER_CALL))
        } else if !self.declared.contains(name) && !self.lock().contains_key(name) {
            Some(SetRefusal::UnknownName(shown.clone()))
        } else if value.len() > MAX_SECRET_BYTES {
            Some(SetRefusal::TooLarge(MAX_SECRET_BYTES as u32))
        } else {
            None
        };
        if let Some(refusal) = refusal {
            tracing::warn!(plugin, connection, secret = %shown, ?refusal, "set-secret refused");
            return Err(refusal);
        }
        self.lock().insert(name.to_string(), value.clone());
        let sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let Some(sink) = sink else {
            tracing::info!(plugin, connection, secret = %shown, kept = false, "secret rotated");
            return Ok(());
        };
        let kept = match tokio::time::timeout(KEEP_TIMEOUT, sink.keep(name, &value)).await {
            Ok(kept) => kept,
            Err(_) => Err(format!("not kept within {} s", KEEP_TIMEOUT.as_secs())),
        };
        match kept {
            Ok(()) => {
                tracing::info!(plugin, connection, secret = %shown, kept = true, "secret rotated");
                Ok(())
            }
            Err(message) => {
                tracing::error!(plugin, connection, secret = %shown, error = %message, "rotated secret not kept");
                Err(SetRefusal::NotKept(message))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::secret_sink::KeepFuture;

    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<(String, String)>>);

    impl SecretSink for Recorder {
        fn keep<'a>(&'a self, name: &'a str, value: &'a str) -> KeepFuture<'a> {
            self.0.lock().expect("not poisoned").push((name.to_string(), value.to_string()));
            Box::pin(async { Ok(()) })
        }
    }

    fn secrets() -> ConnectionSecrets {
        let values = BTreeMap::from([("access-token".to_string(), "old".to_string())]);
        ConnectionSecrets::new(values, &["refresh-token".to_string()])
    }

    #[tokio::test]
    async fn a_rotated_secret_is_read_back_and_handed_to_the_sink() {
        let secrets = secrets();
        let sink = Arc::new(Recorder::default());
        secrets.set_sink(sink.clone());
        let mut sets = 0;
        assert_eq!(secrets.set(("p", "c"), &mut sets, "access-token", "new".into()).await, Ok(()));
        assert_eq!(secrets.set(("p", "c"), &mut sets, "refresh-token", "rt".into()).await, Ok(()));
        assert_eq!(secrets.get("access-token").as_deref(), Some("new"));
        assert_eq!(secrets.get("refresh-token").as_deref(), Some("rt"));
        let kept = sink.0.lock().expect("not poisoned").clone();
        assert_eq!(kept, [("access-token".into(), "new".into()), ("refresh-token".into(), "rt".into())]);
    }

    #[tokio::test]
    async fn unknown_names_huge_values_and_floods_are_refused() {
        let secrets = secrets();
        let mut sets = 0;
        let unknown = secrets.set(("p", "c"), &mut sets, "app-secret", "x".into()).await;
        assert_eq!(unknown, Err(SetRefusal::UnknownName("app-secret".into())));
        let huge = secrets.set(("p", "c"), &mut sets, "access-token", "x".repeat(MAX_SECRET_BYTES + 1)).await;
        assert_eq!(huge, Err(SetRefusal::TooLarge(MAX_SECRET_BYTES as u32)));
        assert_eq!(secrets.get("access-token").as_deref(), Some("old"), "a refused value is not taken");
        assert_eq!(secrets.set(("p", "c"), &mut sets, "access-token", "a".into()).await, Ok(()));
        assert_eq!(secrets.set(("p", "c"), &mut sets, "access-token", "b".into()).await, Ok(()));
        let flood = secrets.set(("p", "c"), &mut sets, "access-token", "c".into()).await;
        assert_eq!(flood, Err(SetRefusal::TooManyCalls(MAX_SETS_PER_CALL)));
        assert_eq!(secrets.get("access-token").as_deref(), Some("b"));
    }

    #[derive(Debug)]
    struct Broken;

    impl SecretSink for Broken {
        fn keep<'a>(&'a self, _name: &'a str, _value: &'a str) -> KeepFuture<'a> {
            Box::pin(async { Err("the database is down".to_string()) })
        }
    }

    #[tokio::test]
    async fn a_value_the_sink_could_not_keep_still_serves_this_process() {
        let secrets = secrets();
        secrets.set_sink(Arc::new(Broken));
        let mut sets = 0;
        let kept = secrets.set(("p", "c"), &mut sets, "access-token", "new".into()).await;
        assert_eq!(kept, Err(SetRefusal::NotKept("the database is down".into())));
        assert_eq!(secrets.get("access-token").as_deref(), Some("new"));
        assert!(!format!("{secrets:?}").contains("new"), "values never reach Debug");
    }
}
