//! The cross-scale summary: the same headline measures for agents, communities and the
//! platform, side by side.

use std::collections::HashMap;

use serde::Serialize;

use super::agents::Communities;
use super::{Cut, Facts, entropy_bits, ratio, round};

const COMMUNITIES_COMPARED: usize = 10;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsCrossScale)]
pub struct CrossScale {
    /// Each measure's distribution over the agents that acted in the window.
    pub agent: AgentScale,
    /// The largest communities (see `polarization`), each measured as a unit.
    pub community: Vec<Scale>,
    pub platform: Scale,
}

/// The headline measures of one unit (the platform or a community).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsScale)]
pub struct Scale {
    pub agents: usize,
    pub posts: u64,
    pub votes: u64,
    pub comments: u64,
    /// Of the votes the unit's posts received in the window, the share that are likes.
    pub like_ratio: Option<f64>,
    /// Entropy of the unit's hashtag uses, in bits.
    pub hashtag_entropy_bits: f64,
    /// Agent pairs in the unit that interacted, over all pairs: `2m / (n(n − 1))`.
    pub interaction_density: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsAgentScale)]
pub struct AgentScale {
    pub agents: usize,
    pub posts: Summary,
    pub votes: Summary,
    pub comments: Summary,
    pub like_ratio: Summary,
    pub hashtag_entropy_bits: Summary,
    pub partners: Summary,
}

/// Mean, median and 90th percentile (nearest rank) of a per-agent measure.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsSummary)]
pub struct Summary {
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

fn summary(mut xs: Vec<f64>) -> Summary {
    if xs.is_empty() {
        return Summary::default();
    }
    xs.sort_by(f64::total_cmp);
    let rank = |q: f64| xs[((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len()) - 1];
    Summary {
        mean: Some(round(xs.iter().sum::<f64>() / xs.len() as f64)),
        median: Some(round(rank(0.5))),
        p90: Some(round(rank(0.9))),
    }
}

pub fn cross_scale(cut: &Cut, facts: &Facts, c: &Communities) -> CrossScale {
    let n = cut.s.agents.len();
    // Per agent: likes and dislikes received on its posts, and its hashtag uses, in the window.
    let mut received = vec![(0u64, 0u64); n];
    for v in cut.votes() {
        let author = cut.s.posts[v.post as usize].agent as usize;
        if v.up {
            received[author].0 += 1;
        } else {
            received[author].1 += 1;
        }
    }
    let mut tags: Vec<HashMap<u32, u64>> = vec![HashMap::new(); n];
    for (_, p) in cut.posts() {
        for &t in &p.tags {
            *tags[p.agent as usize].entry(t).or_default() += 1;
        }
    }
    let unit = |members: &[u32]| -> Scale {
        let inside: std::collections::HashSet<u32> = members.iter().copied().collect();
        let mut s = Scale {
            agents: members.len(),
            posts: 0,
            votes: 0,
            comments: 0,
            like_ratio: None,
            hashtag_entropy_bits: 0.0,
            interaction_density: None,
        };
        let (mut likes, mut dislikes) = (0, 0);
        let mut uses: HashMap<u32, u64> = HashMap::new();
        let mut links = 0u64;
        for &a in members {
            let acts = &facts.acts[a as usize];
            s.posts += acts.posts;
            s.votes += acts.votes();
            s.comments += acts.comments;
            likes += received[a as usize].0;
            dislikes += received[a as usize].1;
            for (&t, &k) in &tags[a as usize] {
                *uses.entry(t).or_default() += k;
            }
            links += facts.partners[a as usize]
                .iter()
                .filter(|p| inside.contains(p))
                .count() as u64;
        }
        s.like_ratio = ratio(likes as f64, (likes + dislikes) as f64);
        s.hashtag_entropy_bits = round(entropy_bits(uses.into_values()).0);
        let k = members.len() as f64;
        s.interaction_density = ratio(links as f64, k * (k - 1.0));
        s
    };
    let everyone: Vec<u32> = (0..n as u32).collect();
    let acting: Vec<usize> = (0..n).filter(|&a| facts.acts[a].total() > 0).collect();
    let per =
        |f: &dyn Fn(usize) -> Option<f64>| summary(acting.iter().filter_map(|&a| f(a)).collect());
    CrossScale {
        agent: AgentScale {
            agents: acting.len(),
            posts: per(&|a| Some(facts.acts[a].posts as f64)),
            votes: per(&|a| Some(facts.acts[a].votes() as f64)),
            comments: per(&|a| Some(facts.acts[a].comments as f64)),
            like_ratio: per(&|a| {
                let (l, d) = received[a];
                (l + d > 0).then(|| l as f64 / (l + d) as f64)
            }),
            hashtag_entropy_bits: per(&|a| Some(entropy_bits(tags[a].values().copied()).0)),
            partners: per(&|a| Some(facts.partners[a].len() as f64)),
        },
        community: c
            .groups
            .iter()
            .take(COMMUNITIES_COMPARED)
            .map(|g| unit(g))
            .collect(),
        platform: unit(&everyone),
    }
}
