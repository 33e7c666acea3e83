//! Pacing a connection's HTTP requests to the platform's limits, so Crossdock stays under
//! them instead of collecting 429s. Throttling the platform still answers with comes back as
//! a typed error and is retried.
//!
//! Two kinds of limit, both from the plugin's manifest (the operator cannot raise them):
//! - `requests-per-second`: one bucket for the whole connection, all APIs together;
//! - per API (`[[limits.api]]`, and `per-api-per-second` for APIs no entry names): one bucket
//!   per (connection, API), created on the first request to that API.
//!
//! One API is one method on one host and path shape: `POST /product/202309/products/17…/
//! inventory/update` and the same call for another product are the same API. A
//! `[[limits.api]]` entry names the shape with `*` for one segment; for other paths, a
//! segment that is an id (digits, maybe with `-_.:`, or 16+ characters with a digit) counts
//! as `*`. TikTok Shop counts its limits the same way, per (app, shop, API).
//!
//! A per-API limit is the platform's published number; the host paces to `PACE_SHARE` of it
//! with a burst of `BURST_SECONDS` worth of requests, so a long bulk run uses nearly all of the
//! limit while timing noise between host and platform never adds up to a refusal.

use super::manifest::Limits;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// The share of a per-API limit the host paces to.
pub const PACE_SHARE: f64 = 0.97;
/// A per-API bucket holds this many seconds of requests (at least one request).
pub const BURST_SECONDS: f64 = 0.1;
/// Most per-API buckets one connection gets; further APIs share one more bucket.
const MAX_API_BUCKETS: usize = 256;

/// A token bucket refilled continuously at `rate` tokens per second, holding at most `burst`.
/// A caller reserves its token at once and sleeps until it is due, so waiters are served in
/// order without waking one another.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    /// Tokens (negative when reserved ahead) as of the instant.
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// `per_second` tokens a second, a burst of one second's worth.
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        Self::with_burst(rate, rate)
    }

    /// `rate` tokens a second, at most `burst` at once (both at least 1).
    pub fn with_burst(rate: f64, burst: f64) -> Self {
        let burst = burst.max(1.0);
        TokenBucket { rate: rate.max(0.001), burst, state: Mutex::new((burst, Instant::now())) }
    }

    /// The bucket for an API the platform limits to `limit` requests a second.
    pub fn for_api_limit(limit: u32) -> Self {
        let limit = f64::from(limit.max(1));
        Self::with_burst(limit * PACE_SHARE, limit * BURST_SECONDS)
    }

    /// Requests per second this bucket lets through in the long run.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Waits until a token is due and takes it.
    pub async fn acquire(&self) {
        let wait = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let (tokens, last) = *state;
            let refilled =
                (tokens + now.saturating_duration_since(last).as_secs_f64() * self.rate).min(self.burst);
            let left = refilled - 1.0;
            *state = (left, now);
            if left >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-left / self.rate) }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// A `[[limits.api]]` entry, its path split into segments.
#[derive(Debug)]
struct ApiPattern {
    method: Option<String>,
    path: String,
    segments: Vec<String>,
    per_second: u32,
}

impl ApiPattern {
    fn matches(&self, method: &str, segments: &[&str]) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.segments.len() == segments.len()
            && self.segments.iter().zip(segments).all(|(p, s)| (p == "*" && !s.is_empty()) || p == s)
    }
}

/// Paces one connection: its connection-wide bucket and its per-API buckets.
#[derive(Debug)]
pub struct Pacer {
    limits: Limits,
    connection: Option<TokenBucket>,
    apis: Vec<ApiPattern>,
    buckets: Mutex<HashMap<String, Arc<TokenBucket>>>,
}

impl Pacer {
    /// The pacer `limits` ask for; none when they ask for no pacing at all.
    pub fn new(limits: &Limits) -> Option<Self> {
        if limits.requests_per_second.is_none()
            && limits.per_api_per_second.is_none()
            && limits.api.is_empty()
        {
            return None;
        }
        let apis = limits
            .api
            .iter()
            .map(|a| ApiPattern {
                method: a.method.clone(),
                path: a.path.clone(),
                segments: a.path.split('/').map(str::to_string).collect(),
                per_second: a.per_second,
            })
            .collect();
        Some(Pacer {
            limits: limits.clone(),
            connection: limits.requests_per_second.map(TokenBucket::new),
            apis,
            buckets: Mutex::default(),
        })
    }

    /// The limits this pacer was built from.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The API a request belongs to (`POST host/product/202309/products/*/inventory/update`)
    /// and the platform's limit for it; none when the manifest paces no API one by one.
    pub fn api_of(&self, method: &str, authority: &str, path: &str) -> Option<(String, u32)> {
        let method = method.to_ascii_uppercase();
        let segments: Vec<&str> = path.split('/').collect();
        if let Some(api) = self.apis.iter().find(|a| a.matches(&method, &segments)) {
            return Some((format!("{method} {authority}{}", api.path), api.per_second));
        }
        let per_second = self.limits.per_api_per_second?;
        let shape: Vec<&str> = segments.iter().map(|s| if is_id(s) { "*" } else { s }).collect();
        Some((format!("{method} {authority}{}", shape.join("/")), per_second))
    }

    /// Waits for the connection's token and the API's, then returns the API's name (none
    /// when APIs are not paced one by one).
    pub async fn acquire(&self, method: &str, authority: &str, path: &str) -> Option<String> {
        if let Some(bucket) = &self.connection {
            bucket.acquire().await;
        }
        let (api, per_second) = self.api_of(method, authority, path)?;
        let bucket = {
            let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
            let key = if buckets.len() >= MAX_API_BUCKETS && !buckets.contains_key(&api) {
                "(other APIs)".to_string()
            } else {
                api.clone()
            };
            buckets.entry(key).or_insert_with(|| Arc::new(TokenBucket::for_api_limit(per_second))).clone()
        };
        bucket.acquire().await;
        Some(api)
    }
}

/// Whether a path segment is a record id rather than part of the API's name.
fn is_id(segment: &str) -> bool {
    let has_digit = segment.bytes().any(|b| b.is_ascii_digit());
    let id_chars = segment.bytes().all(|b| b.is_ascii_digit() || b"-_.:".contains(&b));
    has_digit && (id_chars || segment.len() >= 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::manifest::ApiLimit;

    #[tokio::test(start_paused = true)]
    async fn a_bucket_lets_a_burst_through_then_paces_to_its_rate() {
        let bucket = TokenBucket::new(10);
        let start = Instant::now();
        for _ in 0..10 {
            bucket.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(1), "a second's burst passes at once");
        for _ in 0..20 {
            bucket.acquire().await;
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1990) && elapsed <= Duration::from_millis(2100),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_api_bucket_paces_just_under_the_platform_limit_with_a_small_burst() {
        let bucket = Arc::new(TokenBucket::for_api_limit(50));
        let start = Instant::now();
        let mut waiters = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let bucket = bucket.clone();
            waiters.spawn(async move {
                let mut granted = Vec::new();
                for _ in 0..61 {
                    bucket.acquire().await;
                    granted.push(Instant::now());
                }
                granted
            });
        }
        let mut granted: Vec<Instant> = waiters.join_all().await.into_iter().flatten().collect();
        granted.sort();
        assert_eq!(granted.len(), 976);
        let at_once = granted.iter().filter(|t| **t == start).count();
        assert_eq!(at_once, 5, "a tenth of a second's burst");
        // The platform's own bucket (50 a second, 50 at most, full at first) admits every one,
        // with tokens to spare for timing noise.
        let (mut tokens, mut last, mut lowest) = (50.0f64, start, 50.0f64);
        for t in &granted {
            tokens = (tokens + (*t - last).as_secs_f64() * 50.0).min(50.0) - 1.0;
            last = *t;
            lowest = lowest.min(tokens);
        }
        assert!(lowest >= 40.0, "the platform's bucket never ran low: {lowest}");
        let rate = (granted.len() - 5) as f64 / (granted[granted.len() - 1] - start).as_secs_f64();
        assert!((48.0..=48.6).contains(&rate), "paced at 97 % of 50/s: {rate}");
    }

    fn limits(per_api: Option<u32>, api: Vec<ApiLimit>) -> Limits {
        Limits { per_api_per_second: per_api, api, ..Limits::default() }
    }

    #[test]
    fn an_api_is_a_method_and_a_path_shape() {
        let inventory = ApiLimit {
            method: Some("POST".into()),
            path: "/product/202309/products/*/inventory/update".into(),
            per_second: 40,
        };
        let pacer = Pacer::new(&limits(Some(50), vec![inventory])).expect("paces");
        let api = |m: &str, p: &str| pacer.api_of(m, "h", p);
        assert_eq!(
            api("post", "/product/202309/products/1729/inventory/update"),
            Some(("POST h/product/202309/products/*/inventory/update".into(), 40))
        );
        // Unnamed APIs: ids and TikTok's version segment are shapes, not names.
        assert_eq!(
            api("GET", "/product/202309/products/1729592969712207008"),
            Some(("GET h/product/*/products/*".into(), 50))
        );
        assert_eq!(
            api("PUT", "/product/202309/products/17"),
            Some(("PUT h/product/*/products/*".into(), 50))
        );
        assert_eq!(
            api("POST", "/product/202309/products/activate"),
            Some(("POST h/product/*/products/activate".into(), 50))
        );
        assert_eq!(
            api("GET", "/orders/0b6f6c9e-8f1a-4cde-9a7b-3c2d1e0f9a8b/lines"),
            Some(("GET h/orders/*/lines".into(), 50))
        );
        assert_eq!(api("GET", "/admin/products.json"), Some(("GET h/admin/products.json".into(), 50)));
        assert!(Pacer::new(&Limits::default()).is_none(), "nothing to pace");
        let only_named = Pacer::new(&limits(None, vec![])).is_none();
        assert!(only_named);
    }

    #[tokio::test(start_paused = true)]
    async fn each_api_has_its_own_bucket_and_the_connection_cap_still_applies() {
        let pacer = Pacer::new(&limits(Some(10), vec![])).expect("paces");
        let start = Instant::now();
        for i in 0..20 {
            pacer.acquire("POST", "h", &format!("/a/{i}/update")).await;
            pacer.acquire("POST", "h", &format!("/b/{i}/update")).await;
        }
        // 20 requests per API at 9.7/s after a burst of 1: about 1.96 s, both APIs at once.
        let elapsed = start.elapsed().as_secs_f64();
        assert!((1.9..2.1).contains(&elapsed), "{elapsed}");

        let capped =
            Pacer::new(&Limits { requests_per_second: Some(10), ..limits(Some(50), vec![]) }).expect("paces");
        let start = Instant::now();
        for i in 0..30 {
            capped.acquire("GET", "h", &format!("/x{}", i % 3)).await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!((1.9..2.1).contains(&elapsed), "the connection cap of 10/s holds: {elapsed}");
    }
}
