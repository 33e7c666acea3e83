//! Keeps `serve`'s background loops (HTTP, queue workers, catalog, orders, drift) running:
//! a loop that ends, fails or panics before shutdown is logged and started again after a
//! growing pause, and its state is kept for `/readyz`, so one bad round never stops the
//! service and never goes unseen.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What `/readyz` reports of one supervised loop.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct TaskState {
    /// False between an end and the restart.
    pub running: bool,
    /// How often it was started again.
    pub restarts: u32,
    /// Why it last ended, if it did.
    pub last_end: Option<String>,
}

/// The supervised loops' states, by name; shared with the API for `/readyz`.
#[derive(Debug, Clone, Default)]
pub struct TaskStates(Arc<Mutex<BTreeMap<&'static str, TaskState>>>);

impl TaskStates {
    pub fn snapshot(&self) -> BTreeMap<&'static str, TaskState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn update(&self, name: &'static str, f: impl FnOnce(&mut TaskState)) {
        f(self.0.lock().unwrap_or_else(|p| p.into_inner()).entry(name).or_default());
    }
}

/// Owns the supervised loops and stops them together.
#[derive(Debug)]
pub struct Supervisor {
    tasks: JoinSet<()>,
    stop: CancellationToken,
    states: TaskStates,
    /// The first pause before a restart; doubled on each restart, at most 30 s.
    first_pause: Duration,
}

const MAX_PAUSE: Duration = Duration::from_secs(30);

impl Supervisor {
    pub fn new(stop: CancellationToken, states: TaskStates) -> Self {
        Supervisor { tasks: JoinSet::new(), stop, states, first_pause: Duration::from_secs(1) }
    }

    /// Runs `start()` until shutdown, starting it again whenever it ends early (returns,
    /// fails or panics). The loop itself watches the stop token to end at shutdown.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, start: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (stop, states, first_pause) = (self.stop.clone(), self.states.clone(), self.first_pause);
        self.tasks.spawn(async move {
            let mut pause = first_pause;
            loop {
                states.update(name, |s| s.running = true);
                let ended = tokio::spawn(start()).await;
                let why = match ended {
                    Ok(Ok(())) => "ended".to_string(),
                    Ok(Err(error)) => format!("failed: {error:#}"),
                    Err(e) => crate::queue::panic_reason(&format!("service task {name}"), e),
                };
                if stop.is_cancelled() {
                    if why != "ended" {
                        tracing::error!(task = name, %why, "service task failed while stopping");
                    }
                    states.update(name, |s| s.running = false);
                    return;
                }
                tracing::error!(task = name, %why, pause_ms = pause.as_millis() as u64, "service task ended early; restarting it");
                states.update(name, |s| {
                    s.running = false;
                    s.restarts = s.restarts.saturating_add(1);
                    s.last_end = Some(why);
                });
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(MAX_PAUSE);
            }
        });
    }

    /// Stops every loop and waits for them: each finishes what it has in hand first.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_loop_that_panics_or_fails_is_started_again_and_its_end_is_recorded() {
        let stop = CancellationToken::new();
        let states = TaskStates::default();
        let mut supervisor = Supervisor::new(stop.clone(), states.clone());
        let starts = Arc::new(AtomicU32::new(0));
        let counted = starts.clone();
        supervisor.spawn("flaky", move || {
            let (n, stop) = (counted.fetch_add(1, Ordering::SeqCst), stop.clone());
            async move {
                match n {
                    0 => panic!("the first round panics"),
                    1 => anyhow::bail!("the second round fails"),
                    _ => {
                        stop.cancelled().await;
                        Ok(())
                    }
                }
            }
        });
        // Paused time: the restart pauses pass as soon as every task waits.
        while starts.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let state = states.snapshot()["flaky"].clone();
        assert_eq!(state.restarts, 2);
        assert!(state.running, "started a third time and running");
        let last = state.last_end.expect("the last end is kept");
        assert!(last.contains("the second round fails"), "{last}");
        supervisor.shutdown().await;
        assert!(!states.snapshot()["flaky"].running);
        assert_eq!(starts.load(Ordering::SeqCst), 3, "not started again after shutdown");
    }
}
