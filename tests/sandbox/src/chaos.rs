//! Chaos knobs every sandbox shares, for resilience tests and benchmarks: a share of calls
//! throttled, failed, held past the client's timeout or answered with a broken body, plus
//! latency on every call. Each platform answers a fate in its own shape (TikTok 429/36009002,
//! Shopify `THROTTLED`, WooCommerce's `{code, message, data}`); the draws come from a seeded
//! generator, one per call, so a run replays. The knobs are set from Rust
//! (`set_chaos`) or over HTTP at `GET|PUT /_sandbox/chaos` on every sandbox.

use crate::control::{control_error, json_body};
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// What goes wrong, and how often. Rates are shares of calls in `0.0..=1.0` and add up to at
/// most 1. Over HTTP the durations are whole milliseconds (`latency_ms`, `hang_ms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Chaos {
    /// Refused as rate limited before the call takes effect.
    pub throttle_rate: f64,
    /// Answered with a server error (5xx) before the call takes effect.
    pub error_rate: f64,
    /// Held for `hang` before a 504, so a client with a shorter timeout gives up. The call
    /// does not take effect.
    pub timeout_rate: f64,
    /// Answered 200 with a broken body *after* the call took effect (a lost answer: the
    /// client must find out what happened before it repeats a write).
    pub malformed_rate: f64,
    /// Added to every call before it is answered.
    #[serde(rename = "latency_ms", with = "millis")]
    pub latency: Duration,
    /// How long a timed-out call is held.
    #[serde(rename = "hang_ms", with = "millis")]
    pub hang: Duration,
    /// Seeds the draws.
    pub seed: u64,
}

impl Default for Chaos {
    fn default() -> Self {
        Chaos {
            throttle_rate: 0.0,
            error_rate: 0.0,
            timeout_rate: 0.0,
            malformed_rate: 0.0,
            latency: Duration::ZERO,
            hang: Duration::from_secs(30),
            seed: 0,
        }
    }
}

impl Chaos {
    /// Why these knobs cannot be used, if they cannot.
    pub fn problem(&self) -> Option<String> {
        let rates = [
            ("throttle_rate", self.throttle_rate),
            ("error_rate", self.error_rate),
            ("timeout_rate", self.timeout_rate),
            ("malformed_rate", self.malformed_rate),
        ];
        if let Some((name, rate)) = rates.iter().find(|(_, r)| !(0.0..=1.0).contains(r)) {
            return Some(format!("{name} is {rate}; a rate is a share of calls between 0 and 1"));
        }
        let sum: f64 = rates.iter().map(|(_, r)| r).sum();
        (sum > 1.0).then(|| format!("the rates add up to {sum}; they must add up to at most 1"))
    }

    fn is_off(&self) -> bool {
        self.throttle_rate == 0.0
            && self.error_rate == 0.0
            && self.timeout_rate == 0.0
            && self.malformed_rate == 0.0
            && self.latency.is_zero()
    }
}

/// What happens to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Serve,
    Throttle,
    Fail,
    /// The call was held for `hang`; answer 504 without taking effect.
    Timeout,
    /// Serve, then break the body.
    Malform,
}

/// The knobs of one sandbox and the generator that draws from them.
#[derive(Debug, Default)]
pub struct ChaosState {
    inner: Mutex<Option<(Chaos, StdRng)>>,
}

impl ChaosState {
    /// Replaces the knobs and reseeds; `Chaos::default()` turns chaos off.
    pub fn set(&self, chaos: Chaos) {
        let next = if chaos.is_off() {
            None
        } else {
            let rng = StdRng::seed_from_u64(chaos.seed);
            Some((chaos, rng))
        };
        *self.inner.lock().unwrap_or_else(PoisonError::into_inner) = next;
    }

    /// The knobs in force.
    pub fn get(&self) -> Chaos {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.as_ref().map(|(c, _)| c.clone()).unwrap_or_default()
    }

    /// Draws the fate of the next call, then waits out the latency (and the hang of a timeout).
    pub async fn fate(&self) -> Fate {
        let (wait, fate) = {
            let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            let Some((chaos, rng)) = inner.as_mut() else { return Fate::Serve };
            let fate = draw(chaos, rng.random());
            let hang = if fate == Fate::Timeout { chaos.hang } else { Duration::ZERO };
            (chaos.latency + hang, fate)
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        fate
    }
}

fn draw(c: &Chaos, roll: f64) -> Fate {
    let mut edge = c.throttle_rate;
    if roll < edge {
        return Fate::Throttle;
    }
    edge += c.error_rate;
    if roll < edge {
        return Fate::Fail;
    }
    edge += c.timeout_rate;
    if roll < edge {
        return Fate::Timeout;
    }
    edge += c.malformed_rate;
    if roll < edge { Fate::Malform } else { Fate::Serve }
}

/// `GET /_sandbox/chaos` (the knobs in force) and `PUT /_sandbox/chaos` (replace them; an
/// empty object turns chaos off). Mount it outside the platform's own middleware so control
/// calls are never throttled or failed themselves.
pub fn routes(state: Arc<ChaosState>) -> Router {
    Router::new().route("/_sandbox/chaos", get(read).put(replace)).with_state(state)
}

async fn read(State(state): State<Arc<ChaosState>>) -> Json<Chaos> {
    Json(state.get())
}

async fn replace(
    State(state): State<Arc<ChaosState>>,
    body: axum::body::Bytes,
) -> Result<Json<Chaos>, Response> {
    let chaos: Chaos = json_body(&body, "not a chaos setting")?;
    if let Some(problem) = chaos.problem() {
        return Err(control_error(StatusCode::UNPROCESSABLE_ENTITY, problem));
    }
    state.set(chaos.clone());
    Ok(Json(chaos))
}

pub(crate) mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_seed_replays_the_same_fates() {
        let chaos =
            Chaos { throttle_rate: 0.3, error_rate: 0.2, malformed_rate: 0.1, seed: 7, ..Default::default() };
        let state = ChaosState::default();
        let mut runs = Vec::new();
        for _ in 0..2 {
            state.set(chaos.clone());
            let mut fates = Vec::new();
            for _ in 0..100 {
                fates.push(state.fate().await);
            }
            runs.push(fates);
        }
        assert_eq!(runs[0], runs[1]);
        let throttled = runs[0].iter().filter(|f| **f == Fate::Throttle).count();
        assert!((15..=45).contains(&throttled), "{throttled}");
        assert!(runs[0].contains(&Fate::Serve) && runs[0].contains(&Fate::Malform));
    }

    #[test]
    fn rates_outside_a_share_or_adding_past_one_are_refused() {
        let bad = Chaos { error_rate: 1.5, ..Chaos::default() };
        assert!(bad.problem().expect("refused").contains("error_rate is 1.5"));
        let bad = Chaos { error_rate: 0.6, throttle_rate: 0.6, ..Chaos::default() };
        assert!(bad.problem().expect("refused").contains("add up to"));
        assert_eq!(Chaos { timeout_rate: 0.2, ..Chaos::default() }.problem(), None);
    }

    #[test]
    fn the_http_shape_uses_milliseconds_and_refuses_unknown_knobs() {
        let chaos: Chaos =
            serde_json::from_str(r#"{"latency_ms": 25, "timeout_rate": 0.1}"#).expect("parses");
        assert_eq!(chaos.latency, Duration::from_millis(25));
        assert_eq!(chaos.hang, Duration::from_secs(30));
        assert!(serde_json::from_str::<Chaos>(r#"{"latency": 25}"#).is_err());
    }
}
