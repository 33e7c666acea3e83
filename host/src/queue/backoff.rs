//! Exponential backoff with full jitter, honouring a platform's retry-after.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_millis(500), max: Duration::from_secs(300) }
    }
}

impl Backoff {
    /// Delay before attempt `attempts + 1`; at least `retry_after` when the platform asked.
    pub fn delay(&self, attempts: i64, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let exp = 2u32.saturating_pow(u32::try_from(attempts.clamp(0, 30)).unwrap_or(30));
        let ceiling = self.base.saturating_mul(exp).min(self.max);
        let jittered = ceiling.mul_f64(jitter.clamp(0.0, 1.0)).max(self.base);
        retry_after.map_or(jittered, |r| r.max(jittered.min(r + self.base)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_exponentially_up_to_the_cap() {
        let b = Backoff { base: Duration::from_millis(100), max: Duration::from_secs(1) };
        assert_eq!(b.delay(1, None, 1.0), Duration::from_millis(200));
        assert_eq!(b.delay(3, None, 1.0), Duration::from_millis(800));
        assert_eq!(b.delay(10, None, 1.0), Duration::from_secs(1));
        assert_eq!(b.delay(3, None, 0.0), Duration::from_millis(100));
    }

    #[test]
    fn retry_after_is_never_undercut() {
        let b = Backoff::default();
        assert!(b.delay(1, Some(Duration::from_secs(7)), 0.1) >= Duration::from_secs(7));
    }
}
