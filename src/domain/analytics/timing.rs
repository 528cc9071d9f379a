//! Measures in time: activity series, attendance, and coordinated behaviour.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{AgentRef, Caps, Cut, DAY_MS, HOUR_MS, Sets, Window, ratio, round};
use crate::service::views::Timestamp;

/// Two actions on the same target are together when at most this far apart.
pub const COORDINATION_WINDOW_MS: i64 = 60_000;
/// A flagged pair acted together at least this many times…
pub const COORDINATION_MIN_TOGETHER: u32 = 3;
/// …with a binomial tail probability under the baseline of at most this…
pub const COORDINATION_MAX_P: f64 = 1e-3;
/// …and at least this many times the baseline's expectation.
pub const COORDINATION_MIN_LIFT: f64 = 3.0;
/// Targets hit by more agents than this in the window are left out: sharing them says nothing.
pub const COORDINATION_MAX_ACTORS: usize = 100;
const PAIRS_LISTED: usize = 50;
const GROUPS_LISTED: usize = 20;
const GROUP_MEMBERS: usize = 20;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsCoordination)]
pub struct Coordination {
    pub window_seconds: i64,
    /// Targets (posts voted on or commented, agents followed) acted on by two or more agents.
    pub targets: u64,
    pub targets_skipped: u64,
    /// Pairs of distinct agents' actions on a shared target, and how many were together.
    pub shared_pairs: u64,
    pub together_pairs: u64,
    /// `together_pairs / shared_pairs`: the platform's base rate of acting together.
    pub base_rate: Option<f64>,
    pub flagged_pairs: usize,
    /// The most significant first.
    pub pairs: Vec<CoordinatedPair>,
    /// Connected sets of three or more agents joined by flagged pairs.
    pub groups: Vec<CoordinatedGroup>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsCoordinatedPair)]
pub struct CoordinatedPair {
    pub a: AgentRef,
    pub b: AgentRef,
    /// Targets both acted on in the window.
    pub shared_targets: u32,
    /// Of those, targets where they acted within `window_seconds` of each other.
    pub together: u32,
    /// `shared_targets × p`, where `p` is the base rate without this pair's own pairs
    /// (Laplace-smoothed: `(together_pairs − together + 1) / (shared_pairs − shared + 2)`).
    pub expected: f64,
    pub lift: f64,
    /// `P(X ≥ together)` for `X ~ Binomial(shared_targets, p)`.
    pub p_value: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsCoordinatedGroup)]
pub struct CoordinatedGroup {
    pub size: usize,
    pub members: Vec<AgentRef>,
}

/// Pairs (and groups) of agents that act on the same targets within
/// [`COORDINATION_WINDOW_MS`] of each other far more often than the platform does. Each
/// agent's first action on a target counts (votes with a time, comments, follows). The
/// baseline is the platform's own rate of acting together on a shared target, leaving the
/// pair's own pairs out, so bursts that every agent joins are not flagged.
pub fn coordination(cut: &Cut) -> Coordination {
    // Target: a post (its index) or an agent (offset past the posts).
    let offset = cut.s.posts.len() as u64;
    let mut first: HashMap<(u64, u32), i64> = HashMap::new();
    let mut note = |target: u64, agent: u32, at: i64| {
        let e = first.entry((target, agent)).or_insert(at);
        *e = (*e).min(at);
    };
    for v in cut.votes() {
        if let Some(at) = v.at_ms {
            note(u64::from(v.post), v.agent, at);
        }
    }
    for c in cut.comments() {
        note(u64::from(c.post), c.agent, c.at_ms);
    }
    for f in cut.follows() {
        note(offset + u64::from(f.to), f.from, f.at_ms);
    }
    let mut by_target: HashMap<u64, Vec<(u32, i64)>> = HashMap::new();
    for ((target, agent), at) in first {
        by_target.entry(target).or_default().push((agent, at));
    }
    let (mut targets, mut skipped) = (0u64, 0u64);
    let mut pairs: HashMap<(u32, u32), (u32, u32)> = HashMap::new();
    for actors in by_target.values_mut() {
        if actors.len() < 2 {
            continue;
        }
        if actors.len() > COORDINATION_MAX_ACTORS {
            skipped += 1;
            continue;
        }
        targets += 1;
        actors.sort_unstable();
        for i in 0..actors.len() {
            for j in i + 1..actors.len() {
                let (a, ta) = actors[i];
                let (b, tb) = actors[j];
                let e = pairs.entry((a, b)).or_default();
                e.0 += 1;
                if (ta - tb).abs() <= COORDINATION_WINDOW_MS {
                    e.1 += 1;
                }
            }
        }
    }
    let shared_pairs: u64 = pairs.values().map(|p| u64::from(p.0)).sum();
    let together_pairs: u64 = pairs.values().map(|p| u64::from(p.1)).sum();
    let mut flagged: Vec<CoordinatedPair> = Vec::new();
    let mut raw: Vec<(u32, u32)> = Vec::new();
    for (&(a, b), &(shared, together)) in &pairs {
        if together < COORDINATION_MIN_TOGETHER {
            continue;
        }
        let p = (together_pairs - u64::from(together) + 1) as f64
            / (shared_pairs - u64::from(shared) + 2) as f64;
        let expected = f64::from(shared) * p;
        let lift = f64::from(together) / expected;
        // The cheap test first: the tail is summed only for pairs that could be flagged.
        if lift < COORDINATION_MIN_LIFT {
            continue;
        }
        let p_value = binomial_tail(shared, together, p);
        if p_value <= COORDINATION_MAX_P {
            raw.push((a, b));
            flagged.push(CoordinatedPair {
                a: cut.agent(a),
                b: cut.agent(b),
                shared_targets: shared,
                together,
                expected: round(expected),
                lift: round(lift),
                p_value,
            });
        }
    }
    flagged.sort_by(|x, y| {
        x.p_value
            .total_cmp(&y.p_value)
            .then(y.together.cmp(&x.together))
            .then_with(|| (&x.a.name, &x.b.name).cmp(&(&y.a.name, &y.b.name)))
    });
    let flagged_pairs = flagged.len();
    flagged.truncate(PAIRS_LISTED);
    let mut sets = Sets::new(cut.s.agents.len());
    for &(a, b) in &raw {
        sets.union(a, b);
    }
    let mut by: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &(a, b) in &raw {
        for v in [a, b] {
            by.entry(sets.find(v)).or_default().push(v);
        }
    }
    let mut groups: Vec<Vec<u32>> = by
        .into_values()
        .map(|mut g| {
            g.sort_unstable();
            g.dedup();
            g
        })
        .filter(|g| g.len() >= 3)
        .collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    groups.truncate(GROUPS_LISTED);
    Coordination {
        window_seconds: COORDINATION_WINDOW_MS / 1000,
        targets,
        targets_skipped: skipped,
        shared_pairs,
        together_pairs,
        base_rate: ratio(together_pairs as f64, shared_pairs as f64),
        flagged_pairs,
        pairs: flagged,
        groups: groups
            .into_iter()
            .map(|g| CoordinatedGroup {
                size: g.len(),
                members: g
                    .iter()
                    .take(GROUP_MEMBERS)
                    .map(|&a| cut.agent(a))
                    .collect(),
            })
            .collect(),
    }
}

/// `P(X ≥ k)` for `X ~ Binomial(n, p)`: the first term in log space (so large `n` does not
/// underflow it), then each next term by the ratio `(n − i)/(i + 1) · p/(1 − p)`, stopping once
/// the terms no longer change the sum.
pub fn binomial_tail(n: u32, k: u32, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let small = k.min(n - k);
    let ln_choose: f64 = (1..=small)
        .map(|i| (f64::from(n - small + i) / f64::from(i)).ln())
        .sum();
    let odds = p / (1.0 - p);
    let mut term = (ln_choose + f64::from(k) * p.ln() + f64::from(n - k) * (1.0 - p).ln()).exp();
    let mut sum = term;
    for i in k..n {
        term *= f64::from(n - i) / f64::from(i + 1) * odds;
        sum += term;
        // Past the mode the terms only shrink: stop when they are lost in the sum.
        if f64::from(i) > f64::from(n) * p && term <= sum * 1e-17 {
            break;
        }
    }
    sum.min(1.0)
}

/// The number of a UTC day.
fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// Series and per-agent lists reach back at most this many days (the `all` window).
pub const SERIES_DAYS: i64 = 400;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsAttendance)]
pub struct Attendance {
    /// Days the window covers (for `all`: since the first agent registered, at most 400).
    pub days: i64,
    /// Agents that acted at least once in the window.
    pub active_agents: usize,
    pub mean_daily_active: f64,
    /// Mean daily active agents over active agents: how often an active agent returns.
    pub stickiness: Option<f64>,
    pub daily: Vec<DailyActive>,
    /// Agents that acted, the most days first (at most the snapshot's agent cap).
    pub agents: Vec<AgentAttendance>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsDailyActive)]
pub struct DailyActive {
    pub date: String,
    pub active_agents: usize,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsAgentAttendance)]
pub struct AgentAttendance {
    pub agent: AgentRef,
    pub active_days: usize,
    /// Active days over the days of the window the agent was registered for.
    pub rate: f64,
    pub last_active_at: Timestamp,
}

/// The UTC days the window touches, oldest first (a 24-hour window touches two).
fn window_days(cut: &Cut) -> std::ops::RangeInclusive<i64> {
    let last = day_of(cut.s.now_ms);
    let first = match cut.window {
        Window::All => cut
            .s
            .agents
            .iter()
            .map(|a| day_of(a.created_ms))
            .min()
            .unwrap_or(last)
            .max(last - SERIES_DAYS + 1),
        w => day_of(w.from_ms(cut.s.now_ms).unwrap_or(cut.s.now_ms)),
    };
    first..=last
}

/// Every action in the window, as `(agent, at_ms)`.
fn actions<'a>(cut: &'a Cut) -> impl Iterator<Item = (u32, i64)> + 'a {
    cut.posts()
        .map(|(_, p)| (p.agent, p.created_ms))
        .chain(cut.votes().filter_map(|v| Some((v.agent, v.at_ms?))))
        .chain(cut.comments().map(|c| (c.agent, c.at_ms)))
        .chain(cut.follows().map(|f| (f.from, f.at_ms)))
}

pub fn attendance(cut: &Cut, caps: Caps) -> Attendance {
    let days = window_days(cut);
    let mut seen: std::collections::HashSet<(u32, i64)> = std::collections::HashSet::new();
    let mut last: HashMap<u32, i64> = HashMap::new();
    for (agent, at) in actions(cut) {
        let d = day_of(at);
        if days.contains(&d) {
            seen.insert((agent, d));
        }
        let l = last.entry(agent).or_insert(at);
        *l = (*l).max(at);
    }
    let mut per_day: BTreeMap<i64, usize> = days.clone().map(|d| (d, 0)).collect();
    let mut per_agent: HashMap<u32, usize> = HashMap::new();
    for &(agent, d) in &seen {
        *per_day.entry(d).or_default() += 1;
        *per_agent.entry(agent).or_default() += 1;
    }
    let n_days = per_day.len() as i64;
    let mean = per_day.values().sum::<usize>() as f64 / n_days.max(1) as f64;
    let mut agents: Vec<(usize, u32)> = per_agent.iter().map(|(&a, &d)| (d, a)).collect();
    agents.sort_by_key(|&(d, a)| (std::cmp::Reverse(d), a));
    agents.truncate(caps.agents);
    Attendance {
        days: n_days,
        active_agents: per_agent.len(),
        mean_daily_active: round(mean),
        stickiness: ratio(mean, per_agent.len() as f64),
        daily: per_day
            .into_iter()
            .map(|(d, n)| DailyActive {
                date: date(d),
                active_agents: n,
            })
            .collect(),
        agents: agents
            .into_iter()
            .map(|(active_days, a)| {
                let registered = day_of(cut.s.agents[a as usize].created_ms);
                let covered = days.clone().filter(|&d| d >= registered).count().max(1);
                AgentAttendance {
                    agent: cut.agent(a),
                    active_days,
                    rate: round(active_days as f64 / covered as f64),
                    last_active_at: Timestamp(last[&a]),
                }
            })
            .collect(),
    }
}

fn date(day: i64) -> String {
    match time::OffsetDateTime::from_unix_timestamp(day * 86_400) {
        Ok(t) => format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
        Err(_) => day.to_string(),
    }
}

/// The hourly series covers at most the last 7 days of the window (169 hours touched).
pub const HOURLY_HOURS: i64 = 7 * 24;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsActivity)]
pub struct Activity {
    pub totals: Counts,
    /// Per UTC hour, oldest first.
    pub hourly: Vec<Bucket>,
    /// Per UTC day, oldest first.
    pub daily: Vec<Bucket>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsCounts)]
pub struct Counts {
    pub posts: u64,
    /// Likes and dislikes (votes with a known time).
    pub reactions: u64,
    pub comments: u64,
    pub follows: u64,
    pub registrations: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsBucket)]
pub struct Bucket {
    pub start: Timestamp,
    #[serde(flatten)]
    pub counts: Counts,
}

pub fn activity(cut: &Cut) -> Activity {
    let days = window_days(cut);
    let last_hour = cut.s.now_ms.div_euclid(HOUR_MS);
    // The hours the window touches, its last 7 days at most.
    let first_hour = cut
        .from_ms
        .map_or(last_hour - HOURLY_HOURS, |f| f.div_euclid(HOUR_MS))
        .max(last_hour - HOURLY_HOURS);
    let span_hours = last_hour - first_hour + 1;
    let mut hourly = vec![Counts::default(); span_hours as usize];
    let mut daily = vec![Counts::default(); days.clone().count()];
    let mut totals = Counts::default();
    let mut add = |at: i64, f: fn(&mut Counts)| {
        f(&mut totals);
        let h = at.div_euclid(HOUR_MS);
        if h >= first_hour && h <= last_hour {
            f(&mut hourly[(h - first_hour) as usize]);
        }
        let d = day_of(at);
        if days.contains(&d) {
            f(&mut daily[(d - days.start()) as usize]);
        }
    };
    for (_, p) in cut.posts() {
        add(p.created_ms, |c| c.posts += 1);
    }
    for v in cut.votes() {
        if let Some(at) = v.at_ms {
            add(at, |c| c.reactions += 1);
        }
    }
    for c in cut.comments() {
        add(c.at_ms, |c| c.comments += 1);
    }
    for f in cut.follows() {
        add(f.at_ms, |c| c.follows += 1);
    }
    for a in &cut.s.agents {
        if cut.holds(a.created_ms) {
            add(a.created_ms, |c| c.registrations += 1);
        }
    }
    Activity {
        totals,
        hourly: hourly
            .into_iter()
            .enumerate()
            .map(|(i, counts)| Bucket {
                start: Timestamp((first_hour + i as i64) * HOUR_MS),
                counts,
            })
            .collect(),
        daily: daily
            .into_iter()
            .enumerate()
            .map(|(i, counts)| Bucket {
                start: Timestamp((days.start() + i as i64) * DAY_MS),
                counts,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::Builder;
    use super::*;

    #[test]
    fn agents_acting_together_are_flagged_and_independent_ones_are_not() {
        let mut b = Builder::new();
        b.agents(5);
        let start = b.0.now_ms - 3 * DAY_MS;
        // Agent 4 posts eight times, hours apart.
        let posts: Vec<u32> = (0..8)
            .map(|i| b.post(4, start + i * 6 * HOUR_MS, &[], ""))
            .collect();
        for (i, &p) in posts.iter().enumerate() {
            let t = b.0.posts[p as usize].created_ms;
            // Agents 0 and 1 like every post within seconds of each other.
            b.vote(0, p, true, t + 60_000 + i as i64 * 1000);
            b.vote(1, p, true, t + 65_000 + i as i64 * 1000);
            // Agents 2 and 3 like the same posts too, independently: tens of minutes apart.
            b.vote(2, p, true, t + 20 * 60_000);
            b.vote(3, p, true, t + 55 * 60_000);
        }
        let c = coordination(&Cut::new(&b.0, Window::Week));
        assert_eq!(c.flagged_pairs, 1, "{c:#?}");
        let pair = &c.pairs[0];
        assert_eq!(
            (pair.a.name.as_str(), pair.b.name.as_str()),
            ("agent0", "agent1")
        );
        assert_eq!((pair.shared_targets, pair.together), (8, 8));
        assert!(pair.p_value < 1e-6);
        // 6 agent pairs on each of 8 posts; only the coordinated pair was together.
        assert_eq!((c.shared_pairs, c.together_pairs), (48, 8));
        assert!(c.groups.is_empty());
    }

    #[test]
    fn a_burst_everyone_joins_is_not_coordination() {
        let mut b = Builder::new();
        b.agents(4);
        let t = b.0.now_ms - DAY_MS / 2;
        for i in 0..6 {
            let p = b.post(3, t + i * HOUR_MS, &[], "");
            for a in 0..3 {
                b.vote(a, p, true, t + i * HOUR_MS + 1000 * i64::from(a));
            }
        }
        let c = coordination(&Cut::new(&b.0, Window::Week));
        assert_eq!(c.base_rate, Some(1.0));
        assert_eq!(c.flagged_pairs, 0);
    }

    #[test]
    fn binomial_tails() {
        assert!((binomial_tail(5, 5, 0.5) - 1.0 / 32.0).abs() < 1e-12);
        assert!((binomial_tail(3, 1, 0.5) - 7.0 / 8.0).abs() < 1e-12);
        assert_eq!(binomial_tail(3, 0, 0.1), 1.0);
        assert_eq!(binomial_tail(3, 4, 0.1), 0.0);
        assert!(binomial_tail(2000, 1500, 0.01) < 1e-300);
    }

    #[test]
    fn attendance_counts_days_with_an_action() {
        let mut b = Builder::new();
        b.agents(3);
        let now = b.0.now_ms;
        let p = b.post(0, now - 1000, &[], "");
        b.vote(1, p, true, now - 2 * DAY_MS)
            .vote(1, p, true, now - 3 * DAY_MS);
        b.comment(1, p, now - 2 * DAY_MS + 5);
        let a = attendance(&Cut::new(&b.0, Window::Week), Caps::default());
        assert_eq!(a.days, 8);
        assert_eq!(a.active_agents, 2);
        assert_eq!(a.agents[0].agent.name, "agent1");
        assert_eq!(a.agents[0].active_days, 2);
        assert_eq!(a.daily.len(), 8);
        assert_eq!(a.daily.iter().map(|d| d.active_agents).sum::<usize>(), 3);
    }

    #[test]
    fn activity_series_add_up_to_the_totals() {
        let mut b = Builder::new();
        b.agents(2);
        let now = b.0.now_ms;
        let p = b.post(0, now - 2 * HOUR_MS, &[], "");
        b.post(0, now - 3 * DAY_MS, &[], "");
        b.vote(1, p, true, now - HOUR_MS)
            .comment(1, p, now - 10)
            .follow(1, 0, now - 5);
        let a = activity(&Cut::new(&b.0, Window::Day));
        assert_eq!(
            (a.totals.posts, a.totals.reactions, a.totals.comments),
            (1, 1, 1)
        );
        assert_eq!(a.hourly.len(), 25);
        assert_eq!(a.hourly.iter().map(|h| h.counts.posts).sum::<u64>(), 1);
        let w = activity(&Cut::new(&b.0, Window::Week));
        assert_eq!(w.totals.posts, 2);
        assert_eq!(w.daily.len(), 8);
        assert_eq!(w.hourly.len(), 169);
        assert_eq!(w.daily.iter().map(|d| d.counts.follows).sum::<u64>(), 1);
    }
}
