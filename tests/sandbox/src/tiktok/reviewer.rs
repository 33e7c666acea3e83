//! Decides reviews when they fall due, so their webhooks (types 5 and 37) go out at the
//! decision even when no call comes in to settle them lazily.
//!
//! Choice of ours: the timer runs only while a webhook address is set. Without one there is
//! nobody to tell, reviews stay decided lazily by the next call that reads the product, and no
//! timer sits on tokio's clock (a paused clock would otherwise jump to it while a test waits on
//! a socket).

use super::App;
use std::sync::{Arc, Weak};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The review timer's task; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct Reviewer {
    task: JoinHandle<()>,
}

impl Reviewer {
    /// Starts the timer for `app`; `wake` is notified when a product is submitted or a webhook
    /// address is set, so the timer looks again.
    pub fn start(app: Weak<App>, wake: Arc<Notify>) -> Reviewer {
        Reviewer { task: tokio::spawn(run(app, wake)) }
    }
}

impl Drop for Reviewer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(app: Weak<App>, wake: Arc<Notify>) {
    loop {
        // A notification that arrives while deciding stays stored (`notify_one` keeps a permit).
        let due = {
            let Some(app) = app.upgrade() else { return };
            decide_due(&app, Instant::now())
        };
        match due {
            Some(due) => {
                tokio::select! {
                    () = tokio::time::sleep_until(due) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}

/// Decides the reviews due by `now`, sends their webhooks, and returns when the next one is
/// due; none while no webhook address is set.
fn decide_due(app: &App, now: Instant) -> Option<Instant> {
    if !app.webhooks.has_address() {
        return None;
    }
    let next = {
        let mut state = app.lock_state();
        state.settle_all(now);
        state.next_review_due()
    };
    app.flush_events();
    next
}
