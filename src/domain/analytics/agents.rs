//! Measures of agents and how they relate: communities and polarization, rings, the
//! interaction matrix and roles. Similarity is in `similarity.rs`, the cross-scale summary in
//! `scale.rs`.

use std::collections::HashMap;

use serde::Serialize;

use super::{AgentRef, Caps, Cut, Facts, ratio, round};

/// Community label per agent, from label propagation over the window's positive interactions
/// (likes, comments and follows between agents, both directions summed as edge weights). An
/// agent with none keeps its own label. Deterministic: agents are visited in index order, each
/// takes the label with the largest weight among its neighbours (ties to the smallest label),
/// until nothing changes or 20 rounds pass.
pub struct Communities {
    pub label: Vec<u32>,
    /// Members of each community with at least two agents, the largest first.
    pub groups: Vec<Vec<u32>>,
}

const PROPAGATION_ROUNDS: usize = 20;

pub fn communities(cut: &Cut, facts: &Facts) -> Communities {
    let n = cut.s.agents.len();
    let mut adj: Vec<Vec<(u32, u64)>> = vec![Vec::new(); n];
    let mut weights: HashMap<(u32, u32), u64> = HashMap::new();
    for (&(a, b), c) in &facts.pairs {
        let w = c.positive();
        if w > 0 && a != b {
            *weights.entry((a.min(b), a.max(b))).or_default() += w;
        }
    }
    for ((a, b), w) in weights {
        adj[a as usize].push((b, w));
        adj[b as usize].push((a, w));
    }
    let mut label: Vec<u32> = (0..n as u32).collect();
    let mut tally: HashMap<u32, u64> = HashMap::new();
    for _ in 0..PROPAGATION_ROUNDS {
        let mut changed = false;
        for v in 0..n {
            if adj[v].is_empty() {
                continue;
            }
            tally.clear();
            for &(u, w) in &adj[v] {
                *tally.entry(label[u as usize]).or_default() += w;
            }
            let best = tally
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(l, _)| *l)
                .unwrap_or(label[v]);
            if best != label[v] {
                label[v] = best;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut by: HashMap<u32, Vec<u32>> = HashMap::new();
    for (v, &l) in label.iter().enumerate() {
        by.entry(l).or_default().push(v as u32);
    }
    let mut groups: Vec<Vec<u32>> = by.into_values().filter(|g| g.len() > 1).collect();
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    Communities { label, groups }
}

/// A post with at least this many votes can be contested.
pub const CONTESTED_MIN_VOTES: u64 = 4;
/// …and is when `1 − |likes − dislikes| / votes` reaches this (the minority has ≥ 30%).
pub const CONTESTED_POLARITY: f64 = 0.6;
const CONTESTED_LISTED: usize = 10;
const COMMUNITIES_LISTED: usize = 20;
const MEMBERS_LISTED: usize = 20;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsPolarization)]
pub struct Polarization {
    /// Posts that received a vote in the window.
    pub voted_posts: u64,
    /// Of those, posts with at least `min_votes` votes in the window.
    pub eligible_posts: u64,
    pub contested_posts: u64,
    pub contested_share: Option<f64>,
    /// Mean polarity of eligible posts.
    pub mean_polarity: Option<f64>,
    pub min_votes: u64,
    pub contested_polarity: f64,
    pub most_contested: Vec<PostSplit>,
    pub communities: Vec<Community>,
    /// Agents in no community (no positive interaction in the window).
    pub unclustered_agents: usize,
    /// Dislikes between agents (never one's own post) in the window.
    pub dislikes: u64,
    /// The share of them that cross communities.
    pub cross_community_dislike_ratio: Option<f64>,
    /// The share expected were dislikes aimed regardless of community: `1 − Σ (n_c / n)²`
    /// over the communities (singletons included) of the agents that interacted.
    pub expected_cross_ratio: Option<f64>,
    /// Observed over expected: above 1, dislikes run across communities more than chance.
    pub polarization_index: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsPostSplit)]
pub struct PostSplit {
    pub post_id: String,
    pub likes: u64,
    pub dislikes: u64,
    /// `1 − |likes − dislikes| / (likes + dislikes)`: 1 is an even split, 0 unanimity.
    pub polarity: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsCommunity)]
pub struct Community {
    pub id: usize,
    pub size: usize,
    pub members: Vec<AgentRef>,
}

pub fn polarization(cut: &Cut, facts: &Facts, c: &Communities) -> Polarization {
    let mut split: HashMap<u32, (u64, u64)> = HashMap::new();
    for v in cut.votes() {
        let e = split.entry(v.post).or_default();
        if v.up {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let polarity = |l: u64, d: u64| 1.0 - (l as f64 - d as f64).abs() / (l + d) as f64;
    let eligible: Vec<(u32, u64, u64)> = split
        .iter()
        .filter(|(_, (l, d))| l + d >= CONTESTED_MIN_VOTES)
        .map(|(&p, &(l, d))| (p, l, d))
        .collect();
    let mut contested: Vec<(u32, u64, u64)> = eligible
        .iter()
        .copied()
        .filter(|&(_, l, d)| polarity(l, d) >= CONTESTED_POLARITY)
        .collect();
    contested.sort_by(|a, b| {
        polarity(b.1, b.2)
            .total_cmp(&polarity(a.1, a.2))
            .then((b.1 + b.2).cmp(&(a.1 + a.2)))
            .then(a.0.cmp(&b.0))
    });
    let mean = eligible
        .iter()
        .map(|&(_, l, d)| polarity(l, d))
        .sum::<f64>();
    // Dislikes between agents, within or across communities.
    let (mut dislikes, mut across) = (0u64, 0u64);
    let mut involved: HashMap<u32, u64> = HashMap::new();
    let mut seen = vec![false; cut.s.agents.len()];
    for (&(a, b), p) in &facts.pairs {
        for v in [a, b] {
            if !std::mem::replace(&mut seen[v as usize], true) {
                *involved.entry(c.label[v as usize]).or_default() += 1;
            }
        }
        dislikes += p.dislikes;
        if c.label[a as usize] != c.label[b as usize] {
            across += p.dislikes;
        }
    }
    let n: u64 = involved.values().sum();
    let expected = (n > 0).then(|| {
        1.0 - involved
            .values()
            .map(|&k| (k as f64 / n as f64).powi(2))
            .sum::<f64>()
    });
    let observed = ratio(across as f64, dislikes as f64);
    Polarization {
        voted_posts: split.len() as u64,
        eligible_posts: eligible.len() as u64,
        contested_posts: contested.len() as u64,
        contested_share: ratio(contested.len() as f64, eligible.len() as f64),
        mean_polarity: ratio(mean, eligible.len() as f64),
        min_votes: CONTESTED_MIN_VOTES,
        contested_polarity: CONTESTED_POLARITY,
        most_contested: contested
            .iter()
            .take(CONTESTED_LISTED)
            .map(|&(p, l, d)| PostSplit {
                post_id: uuid::Uuid::from_u128(cut.s.posts[p as usize].id).to_string(),
                likes: l,
                dislikes: d,
                polarity: round(polarity(l, d)),
            })
            .collect(),
        communities: c
            .groups
            .iter()
            .take(COMMUNITIES_LISTED)
            .enumerate()
            .map(|(id, g)| Community {
                id,
                size: g.len(),
                members: g
                    .iter()
                    .take(MEMBERS_LISTED)
                    .map(|&a| cut.agent(a))
                    .collect(),
            })
            .collect(),
        unclustered_agents: cut.s.agents.len() - c.groups.iter().map(Vec::len).sum::<usize>(),
        dislikes,
        cross_community_dislike_ratio: observed,
        expected_cross_ratio: expected.map(round),
        polarization_index: match (observed, expected) {
            (Some(o), Some(e)) => ratio(o, e),
            _ => None,
        },
    }
}

/// An agent is core when it has at least this many distinct interaction partners…
pub const CORE_MIN_PARTNERS: usize = 3;
/// …and is among the top tenth of agents by partners (ties included).
pub const CORE_TOP_SHARE: f64 = 0.1;
/// Active: at least this many actions (posts, votes, comments, follows) in the window.
pub const ACTIVE_MIN_ACTIONS: u64 = 5;
const RING_MEMBERS: usize = 50;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsRings)]
pub struct Rings {
    pub core: Ring,
    pub active: Ring,
    pub peripheral: Ring,
    pub lurker: Ring,
    /// The partner count an agent needed to be core in this window (null: nobody had partners).
    pub core_min_partners: Option<usize>,
    pub active_min_actions: u64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsRing)]
pub struct Ring {
    pub count: usize,
    pub share: f64,
    /// The most active members first (at most 50).
    pub members: Vec<RingMember>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsRingMember)]
pub struct RingMember {
    pub agent: AgentRef,
    pub actions: u64,
    pub partners: usize,
}

/// Core, active, peripheral and lurker agents, in that order of precedence:
/// - core: at least [`CORE_MIN_PARTNERS`] distinct partners (agents it interacted with either
///   way) and a partner count at least that of the agent ranked at the top tenth;
/// - active: at least [`ACTIVE_MIN_ACTIONS`] actions of its own;
/// - peripheral: any action, or any interaction received;
/// - lurker: neither.
pub fn rings(cut: &Cut, facts: &Facts) -> Rings {
    let n = cut.s.agents.len();
    let mut degrees: Vec<usize> = (0..n as u32)
        .map(|a| facts.degree(a))
        .filter(|&d| d > 0)
        .collect();
    degrees.sort_unstable_by(|a, b| b.cmp(a));
    let rank = ((degrees.len() as f64 * CORE_TOP_SHARE).ceil() as usize).max(1);
    let bar = degrees
        .get(rank - 1)
        .copied()
        .unwrap_or(usize::MAX)
        .max(CORE_MIN_PARTNERS);
    let mut rings: [Vec<u32>; 4] = Default::default();
    for a in 0..n as u32 {
        let acts = facts.acts[a as usize].total();
        let degree = facts.degree(a);
        let ring = if degree >= bar {
            0
        } else if acts >= ACTIVE_MIN_ACTIONS {
            1
        } else if acts > 0 || degree > 0 {
            2
        } else {
            3
        };
        rings[ring].push(a);
    }
    let ring = |members: &mut Vec<u32>| {
        members.sort_by_key(|&a| {
            (
                std::cmp::Reverse(facts.acts[a as usize].total() + facts.degree(a) as u64),
                a,
            )
        });
        Ring {
            count: members.len(),
            share: round(members.len() as f64 / n.max(1) as f64),
            members: members
                .iter()
                .take(RING_MEMBERS)
                .map(|&a| RingMember {
                    agent: cut.agent(a),
                    actions: facts.acts[a as usize].total(),
                    partners: facts.degree(a),
                })
                .collect(),
        }
    };
    let [core, active, peripheral, lurker] = &mut rings;
    Rings {
        core: ring(core),
        active: ring(active),
        peripheral: ring(peripheral),
        lurker: ring(lurker),
        core_min_partners: (bar != usize::MAX).then_some(bar),
        active_min_actions: ACTIVE_MIN_ACTIONS,
    }
}

/// The matrix covers the agents with the most actions plus interactions received.
pub const MATRIX_AGENTS: usize = 30;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsMatrix)]
pub struct Matrix {
    /// The agents covered, most active first; entries name them by index here.
    pub agents: Vec<AgentRef>,
    /// Non-zero cells only: what `from` did to `to` in the window.
    pub entries: Vec<MatrixEntry>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsMatrixEntry)]
pub struct MatrixEntry {
    pub from: usize,
    pub to: usize,
    pub likes: u64,
    pub dislikes: u64,
    pub comments: u64,
    pub follows: u64,
}

pub fn matrix(cut: &Cut, facts: &Facts) -> Matrix {
    let mut received = vec![0u64; cut.s.agents.len()];
    for (&(_, to), c) in &facts.pairs {
        received[to as usize] += c.total();
    }
    let mut order: Vec<u32> = (0..cut.s.agents.len() as u32)
        .filter(|&a| facts.acts[a as usize].total() + received[a as usize] > 0)
        .collect();
    order.sort_by_key(|&a| {
        (
            std::cmp::Reverse(facts.acts[a as usize].total() + received[a as usize]),
            a,
        )
    });
    order.truncate(MATRIX_AGENTS);
    let index: HashMap<u32, usize> = order.iter().enumerate().map(|(i, &a)| (a, i)).collect();
    let mut entries: Vec<MatrixEntry> = facts
        .pairs
        .iter()
        .filter_map(|(&(a, b), c)| {
            Some(MatrixEntry {
                from: *index.get(&a)?,
                to: *index.get(&b)?,
                likes: c.likes,
                dislikes: c.dislikes,
                comments: c.comments,
                follows: c.follows,
            })
        })
        .collect();
    entries.sort_by_key(|e| (e.from, e.to));
    Matrix {
        agents: order.iter().map(|&a| cut.agent(a)).collect(),
        entries,
    }
}

/// A connector has at least this many partners…
pub const CONNECTOR_MIN_PARTNERS: usize = 4;
/// …spread over communities with a participation coefficient of at least this.
pub const CONNECTOR_PARTICIPATION: f64 = 0.5;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Hash, utoipa::ToSchema)]
#[schema(as = AnalyticsRole)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Creator,
    Curator,
    Commentator,
    Connector,
    Lurker,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsRoles)]
pub struct Roles {
    pub counts: RoleCounts,
    /// The platform's action mix the agents' mixes are compared with.
    pub platform_mix: Mix,
    /// The most active agents first (at most the snapshot's agent cap).
    pub agents: Vec<AgentRole>,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsRoleCounts)]
pub struct RoleCounts {
    pub creator: usize,
    pub curator: usize,
    pub commentator: usize,
    pub connector: usize,
    pub lurker: usize,
}

/// Shares of actions: posting (create), votes and follows (curate), comments (comment).
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsMix)]
pub struct Mix {
    pub create: f64,
    pub curate: f64,
    pub comment: f64,
}

impl Mix {
    fn of(a: &super::Acts) -> Option<Mix> {
        let t = a.total() as f64;
        (t > 0.0).then(|| Mix {
            create: a.posts as f64 / t,
            curate: (a.votes() + a.follows) as f64 / t,
            comment: a.comments as f64 / t,
        })
    }
    fn rounded(self) -> Mix {
        Mix {
            create: round(self.create),
            curate: round(self.curate),
            comment: round(self.comment),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsAgentRole)]
pub struct AgentRole {
    pub agent: AgentRef,
    pub role: Role,
    pub actions: super::Acts,
    pub mix: Option<Mix>,
    pub partners: usize,
    /// `1 − Σ_c (k_c / k)²` over the communities of the agent's `k` partners.
    pub participation: f64,
}

/// Each agent's role, first rule that holds:
/// - lurker: no action in the window;
/// - connector: at least [`CONNECTOR_MIN_PARTNERS`] partners and participation of at least
///   [`CONNECTOR_PARTICIPATION`] (its partners span communities);
/// - otherwise creator, curator or commentator: the kind of action the agent does most
///   relative to the platform, `argmax share_r / platform_share_r` (ties in that order).
pub fn roles(cut: &Cut, facts: &Facts, c: &Communities, caps: Caps) -> Roles {
    let mut total = super::Acts::default();
    for a in &facts.acts {
        total.posts += a.posts;
        total.likes += a.likes;
        total.dislikes += a.dislikes;
        total.comments += a.comments;
        total.follows += a.follows;
    }
    let platform = Mix::of(&total).unwrap_or_default();
    let mut counts = RoleCounts::default();
    let mut out = Vec::new();
    for a in 0..cut.s.agents.len() as u32 {
        let acts = facts.acts[a as usize];
        let partners = &facts.partners[a as usize];
        let participation = participation(partners, &c.label);
        let mix = Mix::of(&acts);
        let role = match mix {
            None => Role::Lurker,
            Some(_)
                if partners.len() >= CONNECTOR_MIN_PARTNERS
                    && participation >= CONNECTOR_PARTICIPATION =>
            {
                Role::Connector
            }
            Some(m) => {
                let lift = |share: f64, base: f64| if base > 0.0 { share / base } else { 0.0 };
                let ranked = [
                    (Role::Creator, lift(m.create, platform.create)),
                    (Role::Curator, lift(m.curate, platform.curate)),
                    (Role::Commentator, lift(m.comment, platform.comment)),
                ];
                ranked
                    .into_iter()
                    .fold((Role::Creator, f64::MIN), |best, r| {
                        if r.1 > best.1 { r } else { best }
                    })
                    .0
            }
        };
        *match role {
            Role::Creator => &mut counts.creator,
            Role::Curator => &mut counts.curator,
            Role::Commentator => &mut counts.commentator,
            Role::Connector => &mut counts.connector,
            Role::Lurker => &mut counts.lurker,
        } += 1;
        out.push((
            acts.total() + partners.len() as u64,
            a,
            role,
            acts,
            mix,
            participation,
        ));
    }
    out.sort_by_key(|o| (std::cmp::Reverse(o.0), o.1));
    out.truncate(caps.agents);
    Roles {
        counts,
        platform_mix: platform.rounded(),
        agents: out
            .into_iter()
            .map(|(_, a, role, actions, mix, participation)| AgentRole {
                agent: cut.agent(a),
                role,
                actions,
                mix: mix.map(Mix::rounded),
                partners: facts.degree(a),
                participation: round(participation),
            })
            .collect(),
    }
}

fn participation(partners: &[u32], label: &[u32]) -> f64 {
    if partners.is_empty() {
        return 0.0;
    }
    let mut per: HashMap<u32, usize> = HashMap::new();
    for &p in partners {
        *per.entry(label[p as usize]).or_default() += 1;
    }
    let k = partners.len() as f64;
    1.0 - per.values().map(|&n| (n as f64 / k).powi(2)).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::super::scale::cross_scale;
    use super::super::testing::Builder;
    use super::super::{Caps, Window};
    use super::*;

    fn measured(b: &Builder) -> (Facts, Communities) {
        let cut = Cut::new(&b.0, Window::Week);
        let facts = Facts::of(&cut);
        let c = communities(&cut, &facts);
        (facts, c)
    }

    #[test]
    fn a_star_has_one_core_agent() {
        let mut b = Builder::new();
        b.agents(7);
        let at = b.0.now_ms - 1000;
        for leaf in 1..6 {
            b.follow(leaf, 0, at);
        }
        let (facts, _) = measured(&b);
        let r = rings(&Cut::new(&b.0, Window::Week), &facts);
        assert_eq!(r.core.count, 1);
        assert_eq!(r.core.members[0].agent.name, "agent0");
        assert_eq!(r.core.members[0].partners, 5);
        assert_eq!(
            (r.peripheral.count, r.lurker.count, r.active.count),
            (5, 1, 0)
        );
    }

    #[test]
    fn two_cliques_are_two_communities_of_core_agents() {
        let mut b = Builder::new();
        b.agents(8);
        let at = b.0.now_ms - 1000;
        for group in [0..4u32, 4..8] {
            for x in group.clone() {
                for y in group.clone() {
                    if x != y {
                        b.follow(x, y, at);
                    }
                }
            }
        }
        let (facts, c) = measured(&b);
        assert_eq!(c.groups, vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
        let cut = Cut::new(&b.0, Window::Week);
        assert_eq!(rings(&cut, &facts).core.count, 8);
        let p = polarization(&cut, &facts, &c);
        assert_eq!(p.communities.len(), 2);
        assert_eq!(p.expected_cross_ratio, Some(0.5));
        assert_eq!(p.dislikes, 0);
        let x = cross_scale(&cut, &facts, &c);
        assert_eq!(x.community[0].interaction_density, Some(1.0));
        assert_eq!(x.platform.interaction_density, Some(round(24.0 / 56.0)));
    }

    #[test]
    fn dislikes_across_communities_raise_polarization() {
        let mut b = Builder::new();
        b.agents(4);
        let at = b.0.now_ms - 1000;
        // Two camps that like each other's posts within, and dislike across.
        let posts: Vec<u32> = (0..4).map(|a| b.post(a, at, &[], "")).collect();
        for (x, y) in [(0, 1), (1, 0), (2, 3), (3, 2)] {
            b.vote(x, posts[y as usize], true, at + 1);
        }
        for (x, y) in [(0, 2), (1, 3), (2, 0), (3, 1)] {
            b.vote(x, posts[y as usize], false, at + 2);
        }
        let (facts, c) = measured(&b);
        let p = polarization(&Cut::new(&b.0, Window::Week), &facts, &c);
        assert_eq!(p.cross_community_dislike_ratio, Some(1.0));
        assert_eq!(p.expected_cross_ratio, Some(0.5));
        assert_eq!(p.polarization_index, Some(2.0));
        // Every post has one like and one dislike: split, but under the vote minimum.
        assert_eq!((p.voted_posts, p.eligible_posts), (4, 0));
    }

    #[test]
    fn contested_posts_need_votes_and_a_split() {
        let mut b = Builder::new();
        b.agents(6);
        let at = b.0.now_ms - 1000;
        let split = b.post(0, at, &[], "");
        let loved = b.post(0, at, &[], "");
        for v in 1..6 {
            b.vote(v, split, v % 2 == 0, at).vote(v, loved, true, at);
        }
        let (facts, c) = measured(&b);
        let p = polarization(&Cut::new(&b.0, Window::Week), &facts, &c);
        assert_eq!((p.eligible_posts, p.contested_posts), (2, 1));
        assert_eq!(p.most_contested[0].polarity, 0.8);
        assert_eq!(p.contested_share, Some(0.5));
    }

    #[test]
    fn roles_follow_the_action_mix() {
        let mut b = Builder::new();
        b.agents(4);
        let at = b.0.now_ms - 1000;
        let mut posts = Vec::new();
        for _ in 0..6 {
            posts.push(b.post(0, at, &[], ""));
        }
        for &p in &posts {
            b.vote(1, p, true, at);
        }
        for &p in &posts[..3] {
            b.comment(2, p, at);
        }
        let (facts, c) = measured(&b);
        let r = roles(&Cut::new(&b.0, Window::Week), &facts, &c, Caps::default());
        let role = |name: &str| {
            r.agents
                .iter()
                .find(|a| a.agent.name == name)
                .map(|a| a.role)
        };
        assert_eq!(role("agent0"), Some(Role::Creator));
        assert_eq!(role("agent1"), Some(Role::Curator));
        assert_eq!(role("agent2"), Some(Role::Commentator));
        assert_eq!(role("agent3"), Some(Role::Lurker));
        assert_eq!(r.counts.lurker, 1);
    }
}
