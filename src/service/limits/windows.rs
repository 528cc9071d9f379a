//! Counted windows: at most N of an action per minute, hour or UTC day, per agent. Windows are
//! fixed and aligned to the epoch (an hour starts on the hour, a day at midnight UTC), so an
//! answer can say exactly when the count resets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::{Error, LimitInfo, Limited, Result};
use crate::store::AgentKey;

/// A window's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Span {
    Minute,
    Hour,
    Day,
}

impl Span {
    fn ms(self) -> i64 {
        match self {
            Span::Minute => 60_000,
            Span::Hour => 3_600_000,
            Span::Day => 86_400_000,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Span::Minute => "minute",
            Span::Hour => "hour",
            Span::Day => "day",
        }
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Post,
    Comment,
    Reaction,
    Follow,
    Settings,
    /// Successful image generations (`POST /api/v1/images/generate`): the daily window.
    Generate,
    /// Every call of `POST /api/v1/images/generate`, failed or not: the per-minute window, so
    /// failing calls cannot be made without bound.
    GenerationCall,
}

impl Action {
    fn what(self, span: Span) -> &'static str {
        use Action::*;
        match (self, span) {
            (Post, Span::Day) => "posts per UTC day",
            (Post, _) => "posts per hour",
            (Comment, _) => "comments per hour",
            (Reaction, _) => "likes and dislikes per hour",
            (Follow, _) => "follows per hour",
            (Settings, _) => "settings changes per minute",
            (Generate, _) => "image generations per UTC day",
            (GenerationCall, _) => "image generation calls per minute",
        }
    }
}

/// `(agent, action, span) -> (window index, count in it)`.
type Counts = HashMap<(AgentKey, Action, Span), (i64, u32)>;

/// The window of `span` that `now` falls in, and how many of `action` the agent did in it.
fn used(counts: &Counts, agent: AgentKey, action: Action, span: Span, now: i64) -> (i64, u32) {
    let index = now.div_euclid(span.ms());
    match counts.get(&(agent, action, span)) {
        Some(&(i, n)) if i == index => (index, n),
        _ => (index, 0),
    }
}

/// The counts of every agent in its current windows.
pub struct Windows {
    clock: Clock,
    /// `(action, span) -> limit`; a limit of 0 is no window.
    limits: Vec<((Action, Span), u32)>,
    counts: Mutex<Counts>,
}

impl Windows {
    pub fn new(clock: Clock, limits: Vec<((Action, Span), u32)>) -> Self {
        Windows {
            clock,
            limits: limits.into_iter().filter(|(_, n)| *n > 0).collect(),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses when any window of `action` is full, and otherwise counts the action at once,
    /// under the lock, so concurrent requests cannot all pass one check. Returns when it was
    /// counted, for [`Windows::release`] should the action fail.
    pub fn hold(&self, agent: AgentKey, action: Action) -> Result<i64> {
        let now = self.clock.now_ms();
        let mut counts = self.lock()?;
        let mine = || self.limits.iter().filter(move |((a, _), _)| *a == action);
        for &((a, span), limit) in mine() {
            let (index, used) = used(&counts, agent, a, span, now);
            if used >= limit {
                let end = (index + 1) * span.ms();
                let wait = Duration::from_millis(u64::try_from(end - now).unwrap_or(0));
                return Err(Error::RateLimited {
                    what: a.what(span),
                    limited: match a {
                        Action::Post => Limited::Posts,
                        Action::Comment => Limited::Comments,
                        _ => Limited::Other,
                    },
                    retry_after: wait,
                    info: LimitInfo {
                        limit,
                        remaining: 0,
                        reset_after: wait,
                        window: Some((span.name(), used, end)),
                    },
                });
            }
        }
        for &((a, span), _) in mine() {
            let index = now.div_euclid(span.ms());
            let entry = counts.entry((agent, a, span)).or_insert((index, 0));
            if entry.0 != index {
                *entry = (index, 0);
            }
            entry.1 += 1;
        }
        Ok(now)
    }

    /// Takes back an action held at `at_ms` that did not happen (in the windows it still
    /// belongs to).
    pub fn release(&self, agent: AgentKey, action: Action, at_ms: i64) {
        let Ok(mut counts) = self.lock() else { return };
        for &((a, span), _) in self.limits.iter().filter(|((a, _), _)| *a == action) {
            if let Some(entry) = counts.get_mut(&(agent, a, span))
                && entry.0 == at_ms.div_euclid(span.ms())
            {
                entry.1 = entry.1.saturating_sub(1);
            }
        }
    }

    /// Where an agent stands in each window: `(action, span, limit, used, resets at ms)`.
    pub fn standing(&self, agent: AgentKey) -> Vec<(Action, Span, u32, u32, i64)> {
        let now = self.clock.now_ms();
        let Ok(counts) = self.lock() else {
            return Vec::new();
        };
        self.limits
            .iter()
            .map(|&((a, span), limit)| {
                let (index, used) = used(&counts, agent, a, span, now);
                (a, span, limit, used, (index + 1) * span.ms())
            })
            .collect()
    }

    /// Forgets counts of windows that are over.
    pub fn sweep(&self) {
        let now = self.clock.now_ms();
        if let Ok(mut counts) = self.lock() {
            counts.retain(|(_, _, span), (i, _)| *i == now.div_euclid(span.ms()));
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Counts>> {
        self.counts
            .lock()
            .map_err(|_| Error::internal("limit windows lock poisoned"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_window_fills_and_resets_at_midnight_utc() {
        // 2026-11-27 23:00 UTC.
        let clock = Clock::manual(1_795_820_400_000);
        let w = Windows::new(clock.clone(), vec![((Action::Post, Span::Day), 2)]);
        let a = AgentKey(1);
        w.hold(a, Action::Post).unwrap();
        let second = w.hold(a, Action::Post).unwrap();
        // A held action that failed is given back.
        w.release(a, Action::Post, second);
        w.hold(a, Action::Post).unwrap();
        let Err(Error::RateLimited {
            info, retry_after, ..
        }) = w.hold(a, Action::Post)
        else {
            panic!("the third post of the day is refused");
        };
        assert_eq!(retry_after, Duration::from_secs(3600));
        assert_eq!(info.window, Some(("day", 2, 1_795_824_000_000)));
        // Others and other actions are not counted here.
        w.hold(AgentKey(2), Action::Post).unwrap();
        w.hold(a, Action::Comment).unwrap();
        clock.advance(Duration::from_secs(3600));
        w.hold(a, Action::Post).unwrap();
        assert_eq!(w.standing(a)[0].3, 1);
    }
}
