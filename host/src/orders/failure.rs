//! Turning a connector failure met while working on an order into what the merchant sees:
//! a stable kind, the cause in the platform's words, and how to fix it; or a retry when
//! waiting will do.

use crate::connectors::{ConnectorError, ErrorKind};
use crate::db::orders::{Failure, OrderSettle};
use crate::queue::Backoff;

/// Attempts at a retryable failure (throttling aside) before the order stops as failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// Which side a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Store,
    Channel,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Store => "store",
            Side::Channel => "channel",
        }
    }
}

/// What an error means for the order: a retry (with the platform's delay when it gave one),
/// or a failure naming what to fix.
pub fn settle_for(e: &ConnectorError, side: Side, attempts: i64, what: &str) -> OrderSettle {
    let cause = format!("{what}: {e}");
    let side_name = side.name();
    let failure = match &e.kind {
        // Throttling is the platform pacing us, not a failure: wait as long as it asks (plus a
        // little jitter so waiting orders do not all come back at once), however often.
        ErrorKind::RateLimited { retry_after, .. } => {
            let wait = (*retry_after).max(std::time::Duration::from_millis(100));
            let after = wait + wait.mul_f64(rand::random::<f64>());
            return OrderSettle::Retry {
                after,
                failure: Failure::new(
                    &format!("{side_name}_throttled"),
                    cause,
                    format!("nothing to do: the {side_name} asked Crossdock to slow down; it retries"),
                ),
            };
        }
        // The plugin's connection is paused as unhealthy, or no instance slot was free:
        // waiting is the fix, however often.
        ErrorKind::Busy { .. } | ErrorKind::Paused { .. } => {
            let after = e
                .retry_after()
                .unwrap_or_else(|| Backoff::default().delay(attempts.min(4), None, rand::random::<f64>()));
            return OrderSettle::Retry {
                after,
                failure: Failure::new(
                    &format!("{side_name}_plugin_waiting"),
                    cause,
                    format!(
                        "nothing to do: Crossdock retries; if the {side_name}'s plugin stays paused, see its \
                         health (GET /api/orgs/{{org}}/plugins)"
                    ),
                ),
            };
        }
        ErrorKind::Transient(_) | ErrorKind::Timeout { .. } => {
            let failure = Failure::new(
                &format!("{side_name}_unavailable"),
                cause.clone(),
                format!(
                    "nothing to do: Crossdock retries; if it keeps failing, check the {side_name}'s status"
                ),
            );
            if attempts < MAX_ATTEMPTS {
                let after = Backoff::default().delay(attempts, e.retry_after(), rand::random::<f64>());
                return OrderSettle::Retry { after, failure };
            }
            failure
        }
        ErrorKind::Unauthorized(_) => Failure::new(
            &format!("{side_name}_unauthorized"),
            cause,
            format!("reconnect the {side_name} (its credentials were refused), then retry the order"),
        ),
        ErrorKind::Invalid { field, .. } if side == Side::Store && field == "stock" => Failure::new(
            "out_of_stock",
            cause,
            "restock the item in the store (or allow overselling it), then retry the order",
        ),
        ErrorKind::NotFound(_) if side == Side::Store => Failure::new(
            "variant_deleted",
            cause,
            "the store no longer has an ordered item: restore it or link the SKU to another variant, then retry",
        ),
        ErrorKind::Invalid { .. } | ErrorKind::NotFound(_) => Failure::new(
            &format!("{side_name}_refused"),
            cause,
            format!("change what the {side_name} refused (named above), then retry the order"),
        ),
        ErrorKind::Unsupported(_) => Failure::new(
            "unsupported",
            cause,
            format!("install a {side_name} plugin built for connector contract 0.3.0 or later"),
        ),
        _ => Failure::new(
            &format!("{side_name}_error"),
            cause,
            format!("check the {side_name} connection and its plugin's log, then retry the order"),
        ),
    };
    OrderSettle::Failed(failure)
}
