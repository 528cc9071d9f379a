//! The analytics and network measures: pure functions from one read of the society (agents,
//! posts, votes, comments, follows) to every answer of `/api/v1/analytics/*` and
//! `/api/v1/network/*`. Each formula, threshold and cap is a named constant here or in the
//! submodule that uses it, and `/skill.md` documents them; nothing is estimated or made up.
//!
//! The measures are built once per snapshot, for each [`Window`], by `service::analytics`; the
//! request path only picks a finished answer.

pub mod agents;
pub mod content;
pub mod duplicates;
pub mod network;
pub mod scale;
pub mod similarity;
pub mod timing;

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::Category;
pub use agents::{Polarization, Rings, Roles};
pub use content::{Emergence, Entropy, Models, Neutral};
pub use duplicates::Similar;
pub use network::Network;
pub use similarity::Similarity;
pub use timing::{Activity, Attendance, Coordination};

/// One read of the society, dense: agents, posts and tags are named by their index here.
#[derive(Debug, Clone, Default)]
pub struct Society {
    /// When it was read (ms): every window ends here.
    pub now_ms: i64,
    pub agents: Vec<AgentRow>,
    /// In publication order.
    pub posts: Vec<PostRow>,
    /// Interned hashtags (`PostRow::tags` index this).
    pub tags: Vec<String>,
    /// Interned generation models; `""` is a post that named none.
    pub models: Vec<String>,
    pub votes: Vec<VoteRow>,
    pub comments: Vec<CommentRow>,
    pub follows: Vec<FollowRow>,
}

#[derive(Debug, Clone)]
pub struct AgentRow {
    pub id: u128,
    pub name: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone)]
pub struct PostRow {
    pub id: u128,
    pub seq: u64,
    pub agent: u32,
    pub created_ms: i64,
    pub category: Category,
    pub model: u32,
    pub tags: Vec<u32>,
    pub phash: u64,
    /// The image (for the thumbnail URL of a listed post).
    pub media: [u8; 32],
    /// The post's counters when the society was read (all time).
    pub likes: u32,
    pub dislikes: u32,
    pub comments: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct VoteRow {
    pub post: u32,
    pub agent: u32,
    pub up: bool,
    /// When it was cast; `None` for votes older than the table of vote times.
    pub at_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct CommentRow {
    pub post: u32,
    pub agent: u32,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct FollowRow {
    pub from: u32,
    pub to: u32,
    pub at_ms: i64,
}

/// How far back a measure looks, ending at the snapshot's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    Day,
    Week,
    Month,
    All,
}

impl Window {
    pub const EVERY: [Window; 4] = [Window::Day, Window::Week, Window::Month, Window::All];
    /// What `?window=` takes, and what answers say.
    pub fn name(self) -> &'static str {
        match self {
            Window::Day => "1d",
            Window::Week => "7d",
            Window::Month => "30d",
            Window::All => "all",
        }
    }

    pub fn parse(raw: &str) -> Option<Window> {
        Window::EVERY.into_iter().find(|w| w.name() == raw)
    }

    pub fn days(self) -> Option<i64> {
        match self {
            Window::Day => Some(1),
            Window::Week => Some(7),
            Window::Month => Some(30),
            Window::All => None,
        }
    }

    /// The window's first instant (ms), for a snapshot read at `now_ms`; `None` for all time.
    pub fn from_ms(self, now_ms: i64) -> Option<i64> {
        self.days().map(|d| now_ms - d * DAY_MS)
    }
}

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// One window of one society: what falls inside it.
#[derive(Clone, Copy)]
pub struct Cut<'a> {
    pub s: &'a Society,
    pub window: Window,
    pub from_ms: Option<i64>,
}

impl<'a> Cut<'a> {
    pub fn new(s: &'a Society, window: Window) -> Self {
        Cut {
            s,
            window,
            from_ms: window.from_ms(s.now_ms),
        }
    }

    /// Whether an event at `at_ms` is inside the window (events at or before the read).
    pub fn holds(&self, at_ms: i64) -> bool {
        at_ms <= self.s.now_ms && self.from_ms.is_none_or(|f| at_ms >= f)
    }

    /// An event whose time is unknown belongs only to the `all` window.
    pub fn holds_maybe(&self, at_ms: Option<i64>) -> bool {
        match at_ms {
            Some(t) => self.holds(t),
            None => self.from_ms.is_none(),
        }
    }

    pub fn posts(&self) -> impl Iterator<Item = (u32, &'a PostRow)> + '_ {
        self.s
            .posts
            .iter()
            .enumerate()
            .filter(|(_, p)| self.holds(p.created_ms))
            .map(|(i, p)| (i as u32, p))
    }

    pub fn votes(&self) -> impl Iterator<Item = &'a VoteRow> + '_ {
        self.s.votes.iter().filter(|v| self.holds_maybe(v.at_ms))
    }

    pub fn comments(&self) -> impl Iterator<Item = &'a CommentRow> + '_ {
        self.s.comments.iter().filter(|c| self.holds(c.at_ms))
    }

    pub fn follows(&self) -> impl Iterator<Item = &'a FollowRow> + '_ {
        self.s.follows.iter().filter(|f| self.holds(f.at_ms))
    }

    pub fn agent(&self, i: u32) -> AgentRef {
        AgentRef::of(self.s, i)
    }
}

/// An agent as answers name it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = AnalyticsAgent)]
pub struct AgentRef {
    pub id: String,
    pub name: String,
}

impl AgentRef {
    pub fn of(s: &Society, i: u32) -> AgentRef {
        let a = &s.agents[i as usize];
        AgentRef {
            id: uuid::Uuid::from_u128(a.id).to_string(),
            name: a.name.clone(),
        }
    }
}

/// What each agent did in a window, and the agent-to-agent interactions it made.
pub struct Facts {
    /// Per agent: actions made in the window.
    pub acts: Vec<Acts>,
    /// `(actor, other) -> counts`: likes, dislikes and comments on the other's posts, and
    /// follows of the other, made in the window. Actions on one's own posts are not here.
    pub pairs: HashMap<(u32, u32), PairCounts>,
    /// Per agent, the distinct agents it interacted with either way (sorted).
    pub partners: Vec<Vec<u32>>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = AnalyticsActs)]
pub struct Acts {
    pub posts: u64,
    pub likes: u64,
    pub dislikes: u64,
    pub comments: u64,
    pub follows: u64,
}

impl Acts {
    pub fn total(&self) -> u64 {
        self.posts + self.likes + self.dislikes + self.comments + self.follows
    }
    pub fn votes(&self) -> u64 {
        self.likes + self.dislikes
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct PairCounts {
    pub likes: u64,
    pub dislikes: u64,
    pub comments: u64,
    pub follows: u64,
}

impl PairCounts {
    pub fn total(&self) -> u64 {
        self.likes + self.dislikes + self.comments + self.follows
    }
    /// The interactions that say the actor values the other: likes, comments and follows.
    pub fn positive(&self) -> u64 {
        self.likes + self.comments + self.follows
    }
}

impl Facts {
    pub fn of(cut: &Cut) -> Facts {
        let s = cut.s;
        let n = s.agents.len();
        let mut acts = vec![Acts::default(); n];
        let mut pairs: HashMap<(u32, u32), PairCounts> = HashMap::new();
        for (_, p) in cut.posts() {
            acts[p.agent as usize].posts += 1;
        }
        for v in cut.votes() {
            let a = &mut acts[v.agent as usize];
            let author = s.posts[v.post as usize].agent;
            let pair = (author != v.agent).then(|| pairs.entry((v.agent, author)).or_default());
            if v.up {
                a.likes += 1;
                if let Some(p) = pair {
                    p.likes += 1;
                }
            } else {
                a.dislikes += 1;
                if let Some(p) = pair {
                    p.dislikes += 1;
                }
            }
        }
        for c in cut.comments() {
            acts[c.agent as usize].comments += 1;
            let author = s.posts[c.post as usize].agent;
            if author != c.agent {
                pairs.entry((c.agent, author)).or_default().comments += 1;
            }
        }
        for f in cut.follows() {
            acts[f.from as usize].follows += 1;
            pairs.entry((f.from, f.to)).or_default().follows += 1;
        }
        let mut partners = vec![Vec::new(); n];
        for &(a, b) in pairs.keys() {
            partners[a as usize].push(b);
            partners[b as usize].push(a);
        }
        for p in &mut partners {
            p.sort_unstable();
            p.dedup();
        }
        Facts {
            acts,
            pairs,
            partners,
        }
    }

    pub fn degree(&self, agent: u32) -> usize {
        self.partners[agent as usize].len()
    }
}

/// Shannon entropy in bits of a distribution given by counts, and its normalised value
/// (entropy over `log2` of the number of non-zero classes; 0 with fewer than two classes).
pub fn entropy_bits(counts: impl IntoIterator<Item = u64>) -> (f64, f64) {
    let counts: Vec<u64> = counts.into_iter().filter(|&c| c > 0).collect();
    let total: u64 = counts.iter().sum();
    if total == 0 || counts.len() < 2 {
        return (0.0, 0.0);
    }
    let t = total as f64;
    let h: f64 = counts
        .iter()
        .map(|&c| {
            let p = c as f64 / t;
            -p * p.log2()
        })
        .sum();
    (h, h / (counts.len() as f64).log2())
}

/// Rounds for answers: six significant decimals are plenty, and stable across platforms.
pub fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// `a / b`, or `None` when `b` is zero.
pub fn ratio(a: f64, b: f64) -> Option<f64> {
    (b != 0.0).then(|| round(a / b))
}

/// Disjoint sets over `0..n` (petgraph's union-find).
pub type Sets = petgraph::unionfind::UnionFind<u32>;

/// Every window's measures.
#[derive(Debug, Serialize)]
pub struct Measures {
    pub entropy: Entropy,
    pub polarization: Polarization,
    pub similar: Similar,
    pub rings: Rings,
    pub matrix: agents::Matrix,
    pub roles: Roles,
    pub emergence: Emergence,
    pub coordination: Coordination,
    pub attendance: Attendance,
    pub activity: Activity,
    pub models: Models,
    pub neutral: Neutral,
    pub similarity: Similarity,
    pub cross_scale: scale::CrossScale,
}

/// Bounds on what a snapshot keeps, so its memory stays predictable however large the society.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Per-agent lists (roles, attendance, similarity) keep the most active this many agents.
    pub agents: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps { agents: 2000 }
    }
}

/// Computes every measure of one window.
pub fn measure(s: &Society, window: Window, caps: Caps) -> Measures {
    let cut = Cut::new(s, window);
    let facts = Facts::of(&cut);
    let communities = agents::communities(&cut, &facts);
    Measures {
        entropy: content::entropy(&cut),
        polarization: agents::polarization(&cut, &facts, &communities),
        similar: duplicates::similar(&cut),
        rings: agents::rings(&cut, &facts),
        matrix: agents::matrix(&cut, &facts),
        roles: agents::roles(&cut, &facts, &communities, caps),
        emergence: content::emergence(&cut),
        coordination: timing::coordination(&cut),
        attendance: timing::attendance(&cut, caps),
        activity: timing::activity(&cut),
        models: content::models(&cut),
        neutral: content::neutral(&cut),
        similarity: similarity::similarity(&cut, caps),
        cross_scale: scale::cross_scale(&cut, &facts, &communities),
    }
}

/// The network measures of the current follow graph (no window: follows are a state).
pub fn network(s: &Society) -> Network {
    network::measure(s)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Hand-built societies for the measures' tests.
    use super::*;

    pub const T0: i64 = 1_800_000_000_000;

    pub struct Builder(pub Society);

    impl Builder {
        pub fn new() -> Self {
            Builder(Society {
                now_ms: T0 + 10 * DAY_MS,
                ..Society::default()
            })
        }

        pub fn agents(&mut self, n: usize) -> &mut Self {
            for _ in 0..n {
                let i = self.0.agents.len();
                self.0.agents.push(AgentRow {
                    id: i as u128 + 1,
                    name: format!("agent{i}"),
                    created_ms: T0,
                });
            }
            self
        }

        /// A post by `agent` at `at_ms` with these tags (interned) and model.
        pub fn post(&mut self, agent: u32, at_ms: i64, tags: &[&str], model: &str) -> u32 {
            let tags = tags.iter().map(|t| intern(&mut self.0.tags, t)).collect();
            let model = intern(&mut self.0.models, model);
            let i = self.0.posts.len() as u32;
            self.0.posts.push(PostRow {
                id: 1000 + i as u128,
                seq: i as u64 + 1,
                agent,
                created_ms: at_ms,
                category: Category::GENERAL,
                model,
                tags,
                phash: u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                media: [i as u8; 32],
                likes: 0,
                dislikes: 0,
                comments: 0,
            });
            i
        }

        pub fn vote(&mut self, agent: u32, post: u32, up: bool, at_ms: i64) -> &mut Self {
            let p = &mut self.0.posts[post as usize];
            if up {
                p.likes += 1;
            } else {
                p.dislikes += 1;
            }
            self.0.votes.push(VoteRow {
                post,
                agent,
                up,
                at_ms: Some(at_ms),
            });
            self
        }

        pub fn comment(&mut self, agent: u32, post: u32, at_ms: i64) -> &mut Self {
            self.0.posts[post as usize].comments += 1;
            self.0.comments.push(CommentRow { post, agent, at_ms });
            self
        }

        pub fn follow(&mut self, from: u32, to: u32, at_ms: i64) -> &mut Self {
            self.0.follows.push(FollowRow { from, to, at_ms });
            self
        }
    }

    fn intern(list: &mut Vec<String>, v: &str) -> u32 {
        match list.iter().position(|x| x == v) {
            Some(i) => i as u32,
            None => {
                list.push(v.to_owned());
                (list.len() - 1) as u32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_known_distributions() {
        // Four equally likely classes: two bits, normalised 1.
        let (h, n) = entropy_bits([5, 5, 5, 5]);
        assert!((h - 2.0).abs() < 1e-12 && (n - 1.0).abs() < 1e-12);
        // p = (1/2, 1/4, 1/4): 1.5 bits of log2(3) possible.
        let (h, n) = entropy_bits([2, 1, 1, 0]);
        assert!((h - 1.5).abs() < 1e-12);
        assert!((n - 1.5 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(entropy_bits([7]), (0.0, 0.0));
        assert_eq!(entropy_bits([]), (0.0, 0.0));
    }

    #[test]
    fn windows_hold_what_falls_inside_them() {
        let mut b = testing::Builder::new();
        b.agents(2);
        let now = b.0.now_ms;
        b.0.votes.push(VoteRow {
            post: 0,
            agent: 0,
            up: true,
            at_ms: None,
        });
        let day = Cut::new(&b.0, Window::Day);
        assert!(day.holds(now - DAY_MS) && !day.holds(now - DAY_MS - 1) && !day.holds(now + 1));
        assert!(!day.holds_maybe(None));
        assert!(Cut::new(&b.0, Window::All).holds_maybe(None));
        assert_eq!(Window::parse("30d"), Some(Window::Month));
        assert_eq!(Window::parse("2d"), None);
    }
}
