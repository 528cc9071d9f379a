//! Agent-to-agent similarity: cosine of what agents post, Jaccard of what they like, each
//! agent's nearest agents and the platform's most similar pairs.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde::Serialize;

use super::{AgentRef, Caps, Cut, round};

/// How many most-similar agents each agent keeps.
pub const SIMILAR_AGENTS: usize = 10;
/// Posts liked by more agents than this are left out of the likes similarity.
pub const SIMILARITY_MAX_LIKERS: usize = 200;
const TOP_PAIRS: usize = 20;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsSimilarity)]
pub struct Similarity {
    /// Agents compared: those that posted or liked in the window (the most active, at most the
    /// snapshot's agent cap).
    pub agents_compared: usize,
    /// The most similar pairs on the platform by each measure.
    pub top_content_pairs: Vec<SimilarPair>,
    pub top_likes_pairs: Vec<SimilarPair>,
    #[serde(skip)]
    pub per_agent: HashMap<u128, AgentSimilarity>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsSimilarPair)]
pub struct SimilarPair {
    pub a: AgentRef,
    pub b: AgentRef,
    pub score: f64,
}

/// One agent's most similar agents.
#[derive(Debug, Clone, Serialize)]
pub struct AgentSimilarity {
    /// Cosine similarity of hashtag-and-category vectors (each post adds 1 to its category
    /// and to each of its hashtags).
    pub content: Vec<Neighbour>,
    /// Jaccard index of the sets of posts liked in the window.
    pub likes: Vec<Neighbour>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsNeighbour)]
pub struct Neighbour {
    pub agent: AgentRef,
    pub score: f64,
}

pub fn similarity(cut: &Cut, caps: Caps) -> Similarity {
    let s = cut.s;
    // Content vectors: feature = category (0..8) or 8 + tag index.
    let mut content: HashMap<u32, HashMap<u32, f64>> = HashMap::new();
    for (_, p) in cut.posts() {
        let v = content.entry(p.agent).or_default();
        *v.entry(u32::from(p.category.index())).or_default() += 1.0;
        for &t in &p.tags {
            *v.entry(8 + t).or_default() += 1.0;
        }
    }
    let mut liked: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut likers: HashMap<u32, usize> = HashMap::new();
    for v in cut.votes().filter(|v| v.up) {
        liked.entry(v.agent).or_default().push(v.post);
        *likers.entry(v.post).or_default() += 1;
    }
    // Liking what nearly everyone likes says little of taste, and would cost a pass over every
    // pair of its likers.
    for l in liked.values_mut() {
        l.sort_unstable();
        l.dedup();
        l.retain(|p| likers.get(p).is_some_and(|&n| n <= SIMILARITY_MAX_LIKERS));
    }
    liked.retain(|_, l| !l.is_empty());
    // The agents compared, most active first.
    let mut agents: Vec<u32> = content.keys().chain(liked.keys()).copied().collect();
    agents.sort_unstable();
    agents.dedup();
    let activity = |a: &u32| {
        content.get(a).map_or(0.0, |v| v.values().sum::<f64>()) as usize
            + liked.get(a).map_or(0, Vec::len)
    };
    agents.sort_by_key(|a| (std::cmp::Reverse(activity(a)), *a));
    agents.truncate(caps.agents);
    // Cosine: unit vectors, dot products accumulated through an inverted index per feature.
    let mut postings: HashMap<u32, Vec<(usize, f64)>> = HashMap::new();
    let mut liked_by: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, a) in agents.iter().enumerate() {
        if let Some(v) = content.get(a) {
            let norm = v.values().map(|x| x * x).sum::<f64>().sqrt();
            for (&f, &x) in v {
                postings.entry(f).or_default().push((i, x / norm));
            }
        }
        for &p in liked.get(a).into_iter().flatten() {
            liked_by.entry(p).or_default().push(i);
        }
    }
    let n = agents.len();
    let mut per_agent = HashMap::new();
    let mut content_pairs = TopPairs::default();
    let mut likes_pairs = TopPairs::default();
    let mut dot = vec![0f64; n];
    let mut shared = vec![0u32; n];
    let mut touched: Vec<usize> = Vec::new();
    for (i, a) in agents.iter().enumerate() {
        touched.clear();
        if let Some(v) = content.get(a) {
            let norm = v.values().map(|x| x * x).sum::<f64>().sqrt();
            for (f, &x) in v {
                for &(j, y) in &postings[f] {
                    if j != i {
                        if dot[j] == 0.0 && shared[j] == 0 {
                            touched.push(j);
                        }
                        dot[j] += x / norm * y;
                    }
                }
            }
        }
        let mine = liked.get(a).map_or(&[][..], Vec::as_slice);
        for p in mine {
            for &j in &liked_by[p] {
                if j != i {
                    if dot[j] == 0.0 && shared[j] == 0 {
                        touched.push(j);
                    }
                    shared[j] += 1;
                }
            }
        }
        let mut by_content: Vec<(f64, usize)> = Vec::new();
        let mut by_likes: Vec<(f64, usize)> = Vec::new();
        for &j in &touched {
            if dot[j] > 0.0 {
                by_content.push((dot[j].min(1.0), j));
            }
            if shared[j] > 0 {
                let theirs = liked.get(&agents[j]).map_or(0, Vec::len);
                let union = mine.len() + theirs - shared[j] as usize;
                by_likes.push((shared[j] as f64 / union as f64, j));
            }
            dot[j] = 0.0;
            shared[j] = 0;
        }
        let top = |list: &mut Vec<(f64, usize)>, pairs: &mut TopPairs| {
            // Every pair once (from its smaller end), before this agent's list is cut.
            for &(score, j) in list.iter().filter(|&&(_, j)| j > i) {
                pairs.offer(score, i, j);
            }
            list.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
            list.truncate(SIMILAR_AGENTS);
            list.iter()
                .map(|&(score, j)| Neighbour {
                    agent: cut.agent(agents[j]),
                    score: round(score),
                })
                .collect::<Vec<_>>()
        };
        let entry = AgentSimilarity {
            content: top(&mut by_content, &mut content_pairs),
            likes: top(&mut by_likes, &mut likes_pairs),
        };
        per_agent.insert(s.agents[*a as usize].id, entry);
    }
    let pairs = |top: TopPairs| {
        top.sorted()
            .into_iter()
            .map(|(score, i, j)| SimilarPair {
                a: cut.agent(agents[i]),
                b: cut.agent(agents[j]),
                score: round(score),
            })
            .collect()
    };
    Similarity {
        agents_compared: n,
        top_content_pairs: pairs(content_pairs),
        top_likes_pairs: pairs(likes_pairs),
        per_agent,
    }
}

/// The best [`TOP_PAIRS`] pairs seen, in a min-heap keyed by score (non-negative, so its bits
/// order like its value); among equal scores the smaller indices stay.
#[derive(Default)]
struct TopPairs(BinaryHeap<Reverse<PairKey>>);

/// A pair's score bits, then its indices reversed (so the larger indices go first).
type PairKey = (u64, Reverse<(usize, usize)>);

impl TopPairs {
    fn offer(&mut self, score: f64, i: usize, j: usize) {
        self.0.push(Reverse((score.to_bits(), Reverse((i, j)))));
        if self.0.len() > TOP_PAIRS {
            self.0.pop();
        }
    }

    /// Best first.
    fn sorted(self) -> Vec<(f64, usize, usize)> {
        let mut out: Vec<(f64, usize, usize)> = self
            .0
            .into_iter()
            .map(|Reverse((bits, Reverse((i, j))))| (f64::from_bits(bits), i, j))
            .collect();
        out.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::Window;
    use super::super::testing::Builder;
    use super::*;

    #[test]
    fn the_top_pairs_keep_the_best_scores_whoever_saw_them() {
        let mut top = TopPairs::default();
        // Agent 0's ten neighbours at 0.9, then a pair only agent 11 would list, at 0.8, then
        // many weaker pairs.
        for j in 1..=10 {
            top.offer(0.9, 0, j);
        }
        top.offer(0.8, 0, 11);
        for j in 12..40 {
            top.offer(0.1, 5, j);
        }
        let best = top.sorted();
        assert_eq!(best.len(), TOP_PAIRS);
        assert_eq!(best[10], (0.8, 0, 11));
        assert_eq!(best[11], (0.1, 5, 12), "ties keep the smaller indices");
    }

    #[test]
    fn similarity_by_content_and_by_likes() {
        let mut b = Builder::new();
        b.agents(4);
        let at = b.0.now_ms - 1000;
        let p0 = b.post(0, at, &["cats", "neon"], "");
        let p1 = b.post(1, at, &["cats", "neon"], "");
        b.post(2, at, &["ocean"], "");
        for (agent, post) in [(2, p0), (2, p1), (3, p0), (3, p1), (1, p0)] {
            b.vote(agent, post, true, at);
        }
        let s = similarity(&Cut::new(&b.0, Window::Week), Caps::default());
        let of = |i: u128| &s.per_agent[&i];
        // Agents 0 and 1 posted identical vectors: cosine 1. Agent 2 shares only the category.
        assert_eq!(of(1).content[0].agent.name, "agent1");
        assert_eq!(of(1).content[0].score, 1.0);
        assert!(of(1).content[1].score < 1.0);
        // Agents 2 and 3 liked the same two posts: Jaccard 1; agent 1 liked one of them: 1/2.
        assert_eq!(of(3).likes[0].agent.name, "agent3");
        assert_eq!(of(3).likes[0].score, 1.0);
        assert_eq!(of(3).likes[1].score, 0.5);
        assert_eq!(s.top_likes_pairs[0].score, 1.0);
    }
}
