//! Per-address rate limiting: a token bucket for each client address and class of route
//! (the public API and dashboard, or the peer routes), refilled at `rate` requests a second up
//! to `burst`. A request without a token is answered 429 `rate_limited` with `Retry-After`
//! before any parsing, lock or store read, so a flooding client costs the node little and
//! everyone else is still served. Addresses in `exempt` (by default the loopback ones: the
//! operator's own tools) are never limited.
//!
//! The table is bounded: past [`MAX_CLIENTS`] addresses, idle ones (a full bucket) are
//! forgotten (a scan at most once a second); if none is idle, the newcomers share one bucket,
//! so a spray of addresses cannot grow memory or the work per request without bound.

use super::error::ApiError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{ResponseError, web};
use oxcoin::ErrorCode;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Most client addresses tracked at once.
pub const MAX_CLIENTS: usize = 10_000;

/// Limits of one class of routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Requests a second, sustained (0: unlimited).
    pub rate: u32,
    /// Requests at once after a pause (at least 1 is used).
    pub burst: u32,
}

impl Limit {
    fn rate(self) -> f64 {
        f64::from(self.rate)
    }

    fn burst(self) -> f64 {
        f64::from(self.burst.max(1))
    }
}

/// The limiter's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// The public API, the dashboard, metrics and health routes.
    pub api: Limit,
    /// The peer routes (`/p2p`), which carry relays at the network's pace.
    pub p2p: Limit,
    /// Addresses never limited.
    pub exempt: Vec<IpAddr>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            api: Limit { rate: 200, burst: 400 },
            p2p: Limit { rate: 20_000, burst: 40_000 },
            exempt: vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])],
        }
    }
}

/// Which budget a request draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Class {
    Api,
    P2p,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// The buckets of every client; shared by the server's workers.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    buckets: HashMap<(Option<IpAddr>, Class), Bucket>,
    pruned: Option<Instant>,
}

/// What the limiter decided.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Serve the request.
    Allow,
    /// Refuse it; a token is back after this many seconds.
    Refuse {
        /// Seconds until the next token.
        retry_after: u64,
    },
}

impl RateLimiter {
    /// A limiter with `config`.
    pub fn new(config: RateLimitConfig) -> Self {
        Self { config, table: Mutex::new(Table::default()) }
    }

    /// Takes a token for a request from `ip` to `path` at `now`; the newcomers beyond
    /// [`MAX_CLIENTS`] share the bucket keyed by no address.
    pub fn check(&self, ip: Option<IpAddr>, path: &str, now: Instant) -> Verdict {
        // Without an address (not a TCP connection: in-process tests) there is nobody to limit.
        let Some(ip) = ip.map(|ip| ip.to_canonical()) else { return Verdict::Allow };
        if self.config.exempt.iter().any(|e| e.to_canonical() == ip) {
            return Verdict::Allow;
        }
        let class = if path.starts_with("/p2p/") { Class::P2p } else { Class::Api };
        let limit = match class {
            Class::Api => self.config.api,
            Class::P2p => self.config.p2p,
        };
        if limit.rate == 0 {
            return Verdict::Allow;
        }
        let mut table = self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut key = (Some(ip), class);
        if !table.buckets.contains_key(&key) && table.buckets.len() >= MAX_CLIENTS {
            if table.pruned.is_none_or(|t| now.saturating_duration_since(t).as_secs() >= 1) {
                let config = &self.config;
                table.buckets.retain(|(_, class), bucket| {
                    let limit = if *class == Class::Api { config.api } else { config.p2p };
                    refill(*bucket, limit, now).tokens < limit.burst()
                });
                table.pruned = Some(now);
            }
            if table.buckets.len() >= MAX_CLIENTS {
                key = (None, class);
            }
        }
        let bucket = table.buckets.entry(key).or_insert(Bucket { tokens: limit.burst(), refilled: now });
        *bucket = refill(*bucket, limit, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Verdict::Allow
        } else {
            Verdict::Refuse { retry_after: ((1.0 - bucket.tokens) / limit.rate()).ceil().max(1.0) as u64 }
        }
    }
}

fn refill(bucket: Bucket, limit: Limit, now: Instant) -> Bucket {
    let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
    Bucket { tokens: (bucket.tokens + elapsed * limit.rate()).min(limit.burst()), refilled: now }
}

/// The middleware: 429 `rate_limited` with `Retry-After` for a client out of tokens.
///
/// # Errors
/// Those of the routes behind it.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let verdict = match req.app_data::<web::Data<RateLimiter>>() {
        Some(limiter) => limiter.check(req.peer_addr().map(|a| a.ip()), req.path(), Instant::now()),
        None => Verdict::Allow,
    };
    match verdict {
        Verdict::Allow => next.call(req).await.map(ServiceResponse::map_into_boxed_body),
        Verdict::Refuse { retry_after } => {
            let error = ApiError::new(
                ErrorCode::RateLimited,
                format!("too many requests from this address; retry in {retry_after} s"),
            );
            let mut response = error.error_response();
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            Ok(req.into_response(response))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimitConfig {
            api: Limit { rate, burst },
            p2p: Limit { rate: rate * 10, burst: burst * 10 },
            exempt: vec![IpAddr::from([127, 0, 0, 1])],
        })
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn a_client_gets_its_burst_then_the_rate_and_others_are_untouched() {
        let l = limiter(10, 5);
        let t = Instant::now();
        for _ in 0..5 {
            assert_eq!(l.check(ip(1), "/api/v1/status", t), Verdict::Allow);
        }
        assert_eq!(l.check(ip(1), "/api/v1/status", t), Verdict::Refuse { retry_after: 1 });
        assert_eq!(l.check(ip(2), "/api/v1/status", t), Verdict::Allow, "another address has its own bucket");
        assert_eq!(l.check(ip(1), "/p2p/hello", t), Verdict::Allow, "peer routes have their own budget");
        let later = t + Duration::from_millis(100);
        assert_eq!(l.check(ip(1), "/api/v1/status", later), Verdict::Allow, "one token back after 1/rate");
        assert!(matches!(l.check(ip(1), "/api/v1/status", later), Verdict::Refuse { .. }));
        let much_later = t + Duration::from_secs(60);
        for _ in 0..5 {
            assert_eq!(l.check(ip(1), "/api/v1/status", much_later), Verdict::Allow, "refilled to the burst, no more");
        }
        assert!(matches!(l.check(ip(1), "/api/v1/status", much_later), Verdict::Refuse { .. }));
    }

    #[test]
    fn exempt_addresses_and_a_zero_rate_are_never_limited() {
        let l = limiter(1, 1);
        let t = Instant::now();
        for _ in 0..100 {
            assert_eq!(l.check(Some(IpAddr::from([127, 0, 0, 1])), "/api/v1/txs", t), Verdict::Allow);
        }
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(l.check(Some(mapped), "/api/v1/txs", t), Verdict::Allow, "IPv4-mapped form of an exempt address");
        assert_eq!(l.check(Some(IpAddr::from([127, 0, 0, 2])), "/", t), Verdict::Allow);
        assert!(matches!(l.check(Some(IpAddr::from([127, 0, 0, 2])), "/", t), Verdict::Refuse { .. }));
        let off = limiter(0, 0);
        for _ in 0..100 {
            assert_eq!(off.check(ip(1), "/", t), Verdict::Allow);
        }
    }

    #[test]
    fn the_table_stays_bounded_under_an_address_spray() {
        let l = limiter(1, 2);
        let t = Instant::now();
        for i in 0..(MAX_CLIENTS as u32 + 500) {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = l.check(Some(addr), "/", t);
        }
        assert!(l.table.lock().unwrap().buckets.len() <= MAX_CLIENTS + 1);
        // Once buckets are full again (idle), they are forgotten to make room.
        let later = t + Duration::from_secs(10);
        assert_eq!(l.check(Some(IpAddr::from([192, 168, 0, 1])), "/", later), Verdict::Allow);
        assert!(l.table.lock().unwrap().buckets.len() < 10, "idle clients were forgotten");
    }
}
