//! Chaos knobs for resilience tests: a share of calls throttled (HTTP 429 / 36009002), failed
//! (HTTP 500 / 36009003) or answered with a body that is not JSON, and added latency; every
//! draw comes from a seeded generator so a run can be replayed.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

/// What goes wrong, and how often. Rates are shares of calls in `0.0..=1.0`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TikTokChaos {
    /// HTTP 500 with code 36009003, before the call takes effect.
    pub error_rate: f64,
    /// HTTP 429 with code 36009002, before the call takes effect.
    pub throttle_rate: f64,
    /// Added to every call before it is answered.
    pub latency: Duration,
    /// HTTP 200 with an HTML body, after the call took effect (a lost answer).
    pub malformed_rate: f64,
    /// Seeds the draws.
    pub seed: u64,
}

/// What happens to one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    Serve,
    Throttle,
    Fail,
    Malform,
}

#[derive(Debug)]
pub(crate) struct Chaos {
    pub config: TikTokChaos,
    rng: StdRng,
}

impl Chaos {
    pub fn new(config: TikTokChaos) -> Chaos {
        let rng = StdRng::seed_from_u64(config.seed);
        Chaos { config, rng }
    }

    /// Draws the fate of the next call (one draw per call, so a seed replays).
    pub fn draw(&mut self) -> Fate {
        let roll: f64 = self.rng.random();
        let c = &self.config;
        if roll < c.throttle_rate {
            Fate::Throttle
        } else if roll < c.throttle_rate + c.error_rate {
            Fate::Fail
        } else if roll < c.throttle_rate + c.error_rate + c.malformed_rate {
            Fate::Malform
        } else {
            Fate::Serve
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_the_same_fates() {
        let config = TikTokChaos {
            throttle_rate: 0.3,
            error_rate: 0.2,
            malformed_rate: 0.1,
            seed: 7,
            ..Default::default()
        };
        let draw = || {
            let mut chaos = Chaos::new(config.clone());
            (0..100).map(|_| chaos.draw()).collect::<Vec<_>>()
        };
        let first = draw();
        assert_eq!(first, draw());
        let throttled = first.iter().filter(|f| **f == Fate::Throttle).count();
        assert!((15..=45).contains(&throttled), "{throttled}");
    }
}
