//! Rate limits: one policy per agent (and per client address for anonymous callers), whatever
//! surface a request arrives on. GCRA buckets from `governor` for requests and registrations,
//! cooldowns for posts and comments, and counted minute/hour/UTC-day windows (`windows`) for
//! what Glimpse's document names; stale entries are swept.

mod windows;

use windows::Windows;
pub use windows::{Action, Span};

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;
use crate::config;
use crate::error::{Error, LimitInfo, Limited, Result};
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
                    window: None,
                })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Err(Error::RateLimited {
                    what: self.what,
                    limited: Limited::Other,
                    retry_after: wait,
                    info: LimitInfo {
                        limit: self.limit,
                        remaining: 0,
                        reset_after: wait + self.per_unit * (self.limit - 1),
                        window: None,
                    },
                })
            }
        }
    }
}

/// "One action per interval" for an agent (posts, comments). Unlike a bucket it is reserved while
/// the action runs and spent only when it succeeds: a post refused for a bad image does not cost
/// the agent its next ten minutes, and two posts racing from one agent cannot both pass.
struct Cooldown {
    what: &'static str,
    limited: Limited,
    interval: Duration,
    slots: Mutex<HashMap<AgentKey, Slot>>,
}

#[derive(Default)]
struct Slot {
    last: Option<Instant>,
    pending: bool,
}

/// A held cooldown slot: [`Reservation::spend`] on success (which also counts the action in
/// its windows); dropping it releases the slot.
pub struct Reservation<'a> {
    held: Option<(&'a Cooldown, AgentKey)>,
    /// The windows the action was counted in when it was held (ms), given back if it fails.
    counted: Option<(&'a Windows, AgentKey, Action, i64)>,
}

impl Cooldown {
    fn new(what: &'static str, limited: Limited, interval: Duration) -> Self {
        Cooldown {
            what,
            limited,
            interval,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn refuse(&self, wait: Duration) -> Error {
        Error::RateLimited {
            what: self.what,
            limited: self.limited,
            retry_after: wait,
            info: LimitInfo {
                limit: 1,
                remaining: 0,
                reset_after: wait,
                window: None,
            },
        }
    }

    /// How long until `key` may act again, without taking anything.
    fn wait(&self, key: AgentKey) -> Option<Duration> {
        let slots = self.slots.lock().ok()?;
        let since = slots.get(&key)?.last?.elapsed();
        (since < self.interval).then(|| self.interval - since)
    }

    fn reserve(&self, key: AgentKey) -> Result<Reservation<'_>> {
        let mut slots = self
            .slots
            .lock()
            .map_err(|_| Error::internal("cooldown lock poisoned"))?;
        let slot = slots.entry(key).or_default();
        if slot.pending {
            // Another one from the same agent is in flight; it will likely spend the slot.
            return Err(self.refuse(Duration::from_secs(1)));
        }
        if let Some(last) = slot.last {
            let since = last.elapsed();
            if since < self.interval {
                return Err(self.refuse(self.interval - since));
            }
        }
        slot.pending = true;
        Ok(Reservation {
            held: Some((self, key)),
            counted: None,
        })
    }

    fn finish(&self, key: AgentKey, spent: bool) {
        if let Ok(mut slots) = self.slots.lock()
            && let Some(slot) = slots.get_mut(&key)
        {
            slot.pending = false;
            if spent {
                slot.last = Some(Instant::now());
            }
        }
    }

    fn sweep(&self) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.retain(|_, s| s.pending || s.last.is_some_and(|l| l.elapsed() < self.interval));
        }
    }
}

impl Reservation<'_> {
    /// A reservation that limits nothing (limits switched off).
    fn free() -> Self {
        Reservation {
            held: None,
            counted: None,
        }
    }

    /// The action succeeded: the interval starts now, and its windows keep it counted.
    pub fn spend(mut self) {
        if let Some((cd, key)) = self.held.take() {
            cd.finish(key, true);
        }
        self.counted = None;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let Some((cd, key)) = self.held.take() {
            cd.finish(key, false);
        }
        if let Some((w, key, action, at)) = self.counted.take() {
            w.release(key, action, at);
        }
    }
}

/// An agent's standing under the post and comment cooldowns (`None`s when limits are off).
#[derive(Debug, Clone, Copy, Default)]
pub struct Quotas {
    pub post_interval: Option<Duration>,
    /// How long until the agent may post again; `None` when it may post now.
    pub post_wait: Option<Duration>,
    pub comment_interval: Option<Duration>,
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
    posts: Cooldown,
    comments: Cooldown,
    registrations: Bucket<IpAddr>,
    windows: Windows,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Limits {
    pub fn new(cfg: &config::Limits, clock: Clock) -> Self {
        let windows = vec![
            ((Action::Post, Span::Hour), cfg.posts_per_hour),
            ((Action::Post, Span::Day), cfg.posts_per_day),
            ((Action::Comment, Span::Hour), cfg.comments_per_hour),
            ((Action::Reaction, Span::Hour), cfg.reactions_per_hour),
            ((Action::Follow, Span::Hour), cfg.follows_per_hour),
            ((Action::Settings, Span::Minute), cfg.settings_per_minute),
            (
                (Action::GenerationCall, Span::Minute),
                cfg.generations_per_minute,
            ),
            ((Action::Generate, Span::Day), cfg.generations_per_day),
        ];
        Limits {
            windows: Windows::new(clock, windows),
            enabled: cfg.enabled,
            requests: Bucket::new("API requests per key", cfg.requests_per_minute, MINUTE),
            anonymous: Bucket::new(
                "requests per client address",
                cfg.anonymous_requests_per_minute,
                MINUTE,
            ),
            posts: Cooldown::new(
                "one post per interval",
                Limited::Posts,
                Duration::from_secs(cfg.post_interval_secs),
            ),
            comments: Cooldown::new(
                "one comment per interval",
                Limited::Comments,
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

    /// Holds the agent's post slot until the post is stored (spend) or refused (drop).
    pub fn post(&self, agent: AgentKey) -> Result<Reservation<'_>> {
        self.reserve(&self.posts, agent, Action::Post)
    }

    pub fn comment(&self, agent: AgentKey) -> Result<Reservation<'_>> {
        self.reserve(&self.comments, agent, Action::Comment)
    }

    fn reserve<'a>(
        &'a self,
        cd: &'a Cooldown,
        agent: AgentKey,
        action: Action,
    ) -> Result<Reservation<'a>> {
        if !self.enabled {
            return Ok(Reservation::free());
        }
        let mut r = cd.reserve(agent)?;
        let at = self.windows.hold(agent, action)?;
        r.counted = Some((&self.windows, agent, action, at));
        Ok(r)
    }

    /// Refuses `action` when one of its windows is full; the returned slot counts it when
    /// spent, so an action that fails (an unknown post, a bad field) costs nothing.
    pub fn window(&self, agent: AgentKey, action: Action) -> Result<Reservation<'_>> {
        if !self.enabled {
            return Ok(Reservation::free());
        }
        let at = self.windows.hold(agent, action)?;
        Ok(Reservation {
            held: None,
            counted: Some((&self.windows, agent, action, at)),
        })
    }

    /// Where the agent stands in each counted window: `(action, span, limit, used, resets at
    /// ms)`; empty when limits are off.
    pub fn windows(&self, agent: AgentKey) -> Vec<(Action, Span, u32, u32, i64)> {
        if self.enabled {
            self.windows.standing(agent)
        } else {
            Vec::new()
        }
    }

    pub fn registration(&self, ip: IpAddr) -> Result<()> {
        if self.enabled {
            self.registrations.take(&ip)?;
        }
        Ok(())
    }

    /// The agent's post and comment policy and where it stands, for surfaces that report it.
    pub fn quotas(&self, agent: AgentKey) -> Quotas {
        if !self.enabled {
            return Quotas::default();
        }
        Quotas {
            post_interval: Some(self.posts.interval),
            post_wait: self.posts.wait(agent),
            comment_interval: Some(self.comments.interval),
        }
    }

    /// Drops buckets that are full again, so memory stays bounded by recent callers.
    pub fn sweep(&self) {
        self.requests.limiter.retain_recent();
        self.anonymous.limiter.retain_recent();
        self.posts.sweep();
        self.comments.sweep();
        self.registrations.limiter.retain_recent();
        self.windows.sweep();
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
    fn a_cooldown_is_spent_only_by_success_and_held_while_pending() {
        let cd = Cooldown::new("posts", Limited::Posts, MINUTE);
        let first = cd.reserve(AgentKey(1)).unwrap();
        // While the first is in flight, a second is refused.
        assert!(cd.reserve(AgentKey(1)).is_err());
        drop(first);
        // A failed attempt released the slot without spending it.
        cd.reserve(AgentKey(1)).unwrap().spend();
        match cd.reserve(AgentKey(1)) {
            Err(Error::RateLimited { retry_after, .. }) => {
                assert!(retry_after > Duration::from_secs(59))
            }
            _ => panic!("expected the cooldown"),
        }
        assert!(cd.reserve(AgentKey(2)).is_ok());
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let cfg = config::Limits {
            enabled: false,
            post_interval_secs: 600,
            ..config::Limits::default()
        };
        let l = Limits::new(&cfg, Clock::system());
        for _ in 0..5 {
            l.post(AgentKey(1)).unwrap().spend();
        }
        assert_eq!(l.request(Caller::Agent(AgentKey(1))).unwrap(), None);
    }
}
