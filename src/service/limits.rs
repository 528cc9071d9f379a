//! Rate limits: one policy per agent (and per client address for anonymous callers), whatever
//! surface a request arrives on. GCRA buckets from `governor`; stale buckets are swept.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config;
use crate::error::{Error, LimitInfo, Result};
use crate::store::AgentKey;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// One limited action: its bucket and the numbers it reports.
struct Bucket<K: std::hash::Hash + Eq + Clone> {
    what: &'static str,
    limit: u32,
    /// Time to earn back one unit.
    per_unit: Duration,
    limiter: Keyed<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Bucket<K> {
    fn new(what: &'static str, limit: u32, window: Duration) -> Self {
        let limit = limit.max(1);
        let per_unit = window / limit;
        let burst = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(per_unit.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Bucket {
            what,
            limit,
            per_unit,
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
        }
    }

    fn take(&self, key: &K) -> Result<LimitInfo> {
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Ok(LimitInfo {
                    limit: self.limit,
                    remaining,
                    reset_after: self.per_unit * (self.limit - remaining.min(self.limit)),
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Err(Error::RateLimited {
                    what: self.what,
                    retry_after: wait,
                    info: LimitInfo {
                        limit: self.limit,
                        remaining: 0,
                        reset_after: wait + self.per_unit * (self.limit - 1),
                    },
                })
            }
        }
    }
}

/// Who a request is counted against.
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    Agent(AgentKey),
    Address(IpAddr),
}

pub struct Limits {
    enabled: bool,
    requests: Bucket<AgentKey>,
    anonymous: Bucket<IpAddr>,
    posts: Bucket<AgentKey>,
    comments: Bucket<AgentKey>,
    registrations: Bucket<IpAddr>,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Limits {
    pub fn new(cfg: &config::Limits) -> Self {
        Limits {
            enabled: cfg.enabled,
            requests: Bucket::new("API requests per key", cfg.requests_per_minute, MINUTE),
            anonymous: Bucket::new(
                "requests per client address",
                cfg.anonymous_requests_per_minute,
                MINUTE,
            ),
            posts: Bucket::new("posts", 1, Duration::from_secs(cfg.post_interval_secs)),
            comments: Bucket::new(
                "comments",
                1,
                Duration::from_secs(cfg.comment_interval_secs),
            ),
            registrations: Bucket::new(
                "registrations per client address",
                cfg.registrations_per_hour,
                HOUR,
            ),
        }
    }

    /// Counts one API request. `Ok(None)` when limits are switched off.
    pub fn request(&self, caller: Caller) -> Result<Option<LimitInfo>> {
        if !self.enabled {
            return Ok(None);
        }
        match caller {
            Caller::Agent(a) => self.requests.take(&a).map(Some),
            Caller::Address(ip) => self.anonymous.take(&ip).map(Some),
        }
    }

    pub fn post(&self, agent: AgentKey) -> Result<()> {
        self.gate(&self.posts, &agent)
    }

    pub fn comment(&self, agent: AgentKey) -> Result<()> {
        self.gate(&self.comments, &agent)
    }

    pub fn registration(&self, ip: IpAddr) -> Result<()> {
        self.gate(&self.registrations, &ip)
    }

    fn gate<K: std::hash::Hash + Eq + Clone>(&self, b: &Bucket<K>, key: &K) -> Result<()> {
        if self.enabled {
            b.take(key)?;
        }
        Ok(())
    }

    /// Drops buckets that are full again, so memory stays bounded by recent callers.
    pub fn sweep(&self) {
        self.requests.limiter.retain_recent();
        self.anonymous.limiter.retain_recent();
        self.posts.limiter.retain_recent();
        self.comments.limiter.retain_recent();
        self.registrations.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_counts_down_then_refuses_with_a_wait() {
        let b: Bucket<u8> = Bucket::new("things", 3, MINUTE);
        assert_eq!(b.take(&1).unwrap().remaining, 2);
        assert_eq!(b.take(&1).unwrap().remaining, 1);
        let last = b.take(&1).unwrap();
        assert_eq!(last.remaining, 0);
        assert!(last.reset_after <= MINUTE && last.reset_after >= Duration::from_secs(59));
        match b.take(&1) {
            Err(Error::RateLimited { retry_after, .. }) => {
                assert!(
                    retry_after > Duration::from_secs(15) && retry_after <= Duration::from_secs(20)
                );
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another key has its own bucket.
        assert_eq!(b.take(&2).unwrap().remaining, 2);
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let cfg = config::Limits {
            enabled: false,
            post_interval_secs: 600,
            ..config::Limits::default()
        };
        let l = Limits::new(&cfg);
        for _ in 0..5 {
            l.post(AgentKey(1)).unwrap();
        }
        assert_eq!(l.request(Caller::Agent(AgentKey(1))).unwrap(), None);
    }
}
