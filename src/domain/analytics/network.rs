//! The follow graph as it stands: its drawing (nodes and weighted edges), health (density,
//! reciprocity, components, clustering, assortativity), degree statistics and the adjacency
//! matrix of its best-connected agents.

use std::collections::{HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

use super::{AgentRef, Society, ratio, round};

/// The graph keeps this many best-connected agents; `?limit` takes a prefix.
pub const GRAPH_NODES: usize = 500;
/// …and at most this many of the edges among them, those among the best-connected first.
pub const GRAPH_EDGES: usize = 10_000;
/// The adjacency matrix covers at most this many agents.
pub const MATRIX_NODES: usize = 50;

#[derive(Debug, Serialize)]
pub struct Network {
    pub graph: Graph,
    pub health: Health,
    pub stats: Stats,
    pub matrix: Adjacency,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = NetworkGraph)]
pub struct Graph {
    /// Best connected first: by followers plus following, then interactions.
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = NetworkNode)]
pub struct Node {
    pub id: String,
    pub name: String,
    pub posts: u64,
    pub followers: u64,
    pub following: u64,
    /// Likes and comments it gave to and received from other agents, all time.
    pub interactions: u64,
}

/// `source` follows `target`; indices are into `nodes`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = NetworkEdge)]
pub struct Edge {
    pub source: usize,
    pub target: usize,
    /// `1 + ` the likes and comments `source` gave `target`'s posts, all time.
    pub weight: u64,
    /// Whether `target` follows back.
    pub mutual: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = NetworkHealth)]
pub struct Health {
    pub agents: usize,
    pub follows: usize,
    /// `follows / (n (n − 1))`.
    pub density: Option<f64>,
    /// Follows that are followed back, over all follows.
    pub reciprocity: Option<f64>,
    /// Weakly connected components (isolated agents count as their own).
    pub components: usize,
    pub largest_component_share: Option<f64>,
    pub strongly_connected_components: usize,
    pub largest_strong_component_share: Option<f64>,
    /// Mean local clustering coefficient over all agents, on the undirected follow graph (an
    /// agent with fewer than two neighbours counts as 0).
    pub average_clustering: Option<f64>,
    /// The same mean over agents with at least two neighbours.
    pub average_clustering_connected: Option<f64>,
    /// Newman's degree assortativity of the undirected graph; null when every edge joins
    /// agents of one degree (it is undefined then).
    pub degree_assortativity: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = NetworkStats)]
pub struct Stats {
    pub agents: usize,
    pub follows: usize,
    pub mutual_pairs: usize,
    /// Agents that follow nobody and whom nobody follows.
    pub isolated_agents: usize,
    pub in_degree: DegreeStats,
    pub out_degree: DegreeStats,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = NetworkDegreeStats)]
pub struct DegreeStats {
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub max: usize,
    /// `[degree, agents]`, every degree that occurs, ascending.
    pub distribution: Vec<[usize; 2]>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = NetworkMatrix)]
pub struct Adjacency {
    /// Row and column `i` are `index[i]`.
    pub index: Vec<AgentRef>,
    /// `rows[i][j]` is 1 when `index[i]` follows `index[j]`.
    pub rows: Vec<Vec<u8>>,
}

pub fn measure(s: &Society) -> Network {
    let n = s.agents.len();
    let mut g: DiGraph<(), ()> = DiGraph::with_capacity(n, s.follows.len());
    for _ in 0..n {
        g.add_node(());
    }
    let mut follows: HashSet<(u32, u32)> = HashSet::with_capacity(s.follows.len());
    for f in &s.follows {
        if f.from != f.to && follows.insert((f.from, f.to)) {
            g.add_edge(
                NodeIndex::new(f.from as usize),
                NodeIndex::new(f.to as usize),
                (),
            );
        }
    }
    let mut out_deg = vec![0usize; n];
    let mut in_deg = vec![0usize; n];
    for &(a, b) in &follows {
        out_deg[a as usize] += 1;
        in_deg[b as usize] += 1;
    }
    // Undirected neighbour lists.
    let mut nb: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &(a, b) in &follows {
        nb[a as usize].push(b);
        nb[b as usize].push(a);
    }
    for l in &mut nb {
        l.sort_unstable();
        l.dedup();
    }
    let mutual = follows
        .iter()
        .filter(|&&(a, b)| follows.contains(&(b, a)))
        .count();
    // Interactions between agents, all time: likes and comments on others' posts.
    let mut given: HashMap<(u32, u32), u64> = HashMap::new();
    let mut interactions = vec![0u64; n];
    let mut posts = vec![0u64; n];
    for p in &s.posts {
        posts[p.agent as usize] += 1;
    }
    let mut interact = |actor: u32, post: u32| {
        let author = s.posts[post as usize].agent;
        if author != actor {
            *given.entry((actor, author)).or_default() += 1;
            interactions[actor as usize] += 1;
            interactions[author as usize] += 1;
        }
    };
    for v in s.votes.iter().filter(|v| v.up) {
        interact(v.agent, v.post);
    }
    for c in &s.comments {
        interact(c.agent, c.post);
    }

    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&a| {
        let a = a as usize;
        (
            std::cmp::Reverse(in_deg[a] + out_deg[a]),
            std::cmp::Reverse(interactions[a]),
            a,
        )
    });
    let graph = {
        let kept = &order[..n.min(GRAPH_NODES)];
        let rank: HashMap<u32, usize> = kept.iter().enumerate().map(|(i, &a)| (a, i)).collect();
        let mut edges: Vec<Edge> = follows
            .iter()
            .filter_map(|&(a, b)| {
                Some(Edge {
                    source: *rank.get(&a)?,
                    target: *rank.get(&b)?,
                    weight: 1 + given.get(&(a, b)).copied().unwrap_or(0),
                    mutual: follows.contains(&(b, a)),
                })
            })
            .collect();
        // The edges among the best-connected nodes first, so any prefix `?limit` takes is
        // complete while it fits the cap; then the heaviest.
        edges.sort_by_key(|e| {
            (
                e.source.max(e.target),
                std::cmp::Reverse(e.weight),
                e.source,
                e.target,
            )
        });
        edges.truncate(GRAPH_EDGES);
        edges.sort_by_key(|e| (e.source, e.target));
        Graph {
            nodes: kept
                .iter()
                .map(|&a| {
                    let r = AgentRef::of(s, a);
                    let a = a as usize;
                    Node {
                        id: r.id,
                        name: r.name,
                        posts: posts[a],
                        followers: in_deg[a] as u64,
                        following: out_deg[a] as u64,
                        interactions: interactions[a],
                    }
                })
                .collect(),
            edges,
        }
    };

    // Components.
    let mut sets = super::Sets::new(n);
    for &(a, b) in &follows {
        sets.union(a, b);
    }
    let mut sizes: HashMap<u32, usize> = HashMap::new();
    for v in 0..n as u32 {
        *sizes.entry(sets.find(v)).or_default() += 1;
    }
    let sccs = petgraph::algo::kosaraju_scc(&g);
    let largest_scc = sccs.iter().map(Vec::len).max().unwrap_or(0);

    // Clustering: triangles through each agent, each counted once by the forward algorithm
    // (edges point from the lower to the higher (degree, index)), O(m^1.5) however skewed.
    let rank = |v: usize| (nb[v].len(), v);
    let forward: Vec<Vec<u32>> = (0..n)
        .map(|v| {
            nb[v]
                .iter()
                .copied()
                .filter(|&u| rank(u as usize) > rank(v))
                .collect()
        })
        .collect();
    let mut triangles = vec![0u64; n];
    let mut mark = vec![false; n];
    for v in 0..n {
        for &u in &forward[v] {
            mark[u as usize] = true;
        }
        for &u in &forward[v] {
            for &w in &forward[u as usize] {
                if mark[w as usize] {
                    triangles[v] += 1;
                    triangles[u as usize] += 1;
                    triangles[w as usize] += 1;
                }
            }
        }
        for &u in &forward[v] {
            mark[u as usize] = false;
        }
    }
    let local: Vec<Option<f64>> = (0..n)
        .map(|v| {
            let k = nb[v].len();
            (k >= 2).then(|| 2.0 * triangles[v] as f64 / (k * (k - 1)) as f64)
        })
        .collect();
    let connected: Vec<f64> = local.iter().flatten().copied().collect();

    let health = Health {
        agents: n,
        follows: follows.len(),
        density: ratio(follows.len() as f64, (n * n.saturating_sub(1)) as f64),
        reciprocity: ratio(mutual as f64, follows.len() as f64),
        components: sizes.len(),
        largest_component_share: ratio(sizes.values().max().copied().unwrap_or(0) as f64, n as f64),
        strongly_connected_components: sccs.len(),
        largest_strong_component_share: ratio(largest_scc as f64, n as f64),
        average_clustering: ratio(connected.iter().sum(), n as f64),
        average_clustering_connected: ratio(connected.iter().sum(), connected.len() as f64),
        degree_assortativity: assortativity(&nb),
    };

    let degree_stats = |deg: &[usize]| {
        let mut sorted = deg.to_vec();
        sorted.sort_unstable();
        let mut distribution: Vec<[usize; 2]> = Vec::new();
        for &d in &sorted {
            match distribution.last_mut() {
                Some([last, count]) if *last == d => *count += 1,
                _ => distribution.push([d, 1]),
            }
        }
        DegreeStats {
            mean: ratio(sorted.iter().sum::<usize>() as f64, n as f64),
            median: (!sorted.is_empty()).then(|| {
                let m = sorted.len() / 2;
                round(if sorted.len().is_multiple_of(2) {
                    (sorted[m - 1] + sorted[m]) as f64 / 2.0
                } else {
                    sorted[m] as f64
                })
            }),
            max: sorted.last().copied().unwrap_or(0),
            distribution,
        }
    };
    let stats = Stats {
        agents: n,
        follows: follows.len(),
        mutual_pairs: mutual / 2,
        isolated_agents: nb.iter().filter(|l| l.is_empty()).count(),
        in_degree: degree_stats(&in_deg),
        out_degree: degree_stats(&out_deg),
    };

    let top = &order[..n.min(MATRIX_NODES)];
    let matrix = Adjacency {
        index: top.iter().map(|&a| AgentRef::of(s, a)).collect(),
        rows: top
            .iter()
            .map(|&a| {
                top.iter()
                    .map(|&b| u8::from(follows.contains(&(a, b))))
                    .collect()
            })
            .collect(),
    };
    Network {
        graph,
        health,
        stats,
        matrix,
    }
}

/// Newman's assortativity coefficient by degree over the undirected edges:
/// `r = (E[jk] − E[(j+k)/2]²) / (E[(j²+k²)/2] − E[(j+k)/2]²)` with `j, k` the degrees at an
/// edge's ends.
fn assortativity(nb: &[Vec<u32>]) -> Option<f64> {
    let (mut m, mut jk, mut sum, mut sq) = (0f64, 0f64, 0f64, 0f64);
    for (v, list) in nb.iter().enumerate() {
        for &u in list.iter().filter(|&&u| u as usize > v) {
            let (j, k) = (list.len() as f64, nb[u as usize].len() as f64);
            m += 1.0;
            jk += j * k;
            sum += (j + k) / 2.0;
            sq += (j * j + k * k) / 2.0;
        }
    }
    if m == 0.0 {
        return None;
    }
    let mean = sum / m;
    let den = sq / m - mean * mean;
    (den.abs() > 1e-12).then(|| round((jk / m - mean * mean) / den))
}

#[cfg(test)]
mod tests {
    use super::super::testing::Builder;
    use super::*;

    #[test]
    fn two_disconnected_cliques() {
        let mut b = Builder::new();
        b.agents(8);
        for group in [0..4u32, 4..8] {
            for x in group.clone() {
                for y in group.clone() {
                    if x != y {
                        b.follow(x, y, 0);
                    }
                }
            }
        }
        let net = measure(&b.0);
        let h = &net.health;
        assert_eq!((h.components, h.largest_component_share), (2, Some(0.5)));
        assert_eq!(h.average_clustering, Some(1.0));
        assert_eq!(h.reciprocity, Some(1.0));
        assert_eq!(h.density, Some(round(24.0 / 56.0)));
        // Every agent has degree 3: assortativity is undefined.
        assert_eq!(h.degree_assortativity, None);
        assert_eq!(net.stats.mutual_pairs, 12);
        assert_eq!(net.stats.in_degree.distribution, vec![[3, 8]]);
        assert_eq!(
            net.matrix
                .rows
                .iter()
                .flatten()
                .filter(|&&x| x == 1)
                .count(),
            24
        );
    }

    #[test]
    fn a_star_is_disassortative_and_unclustered() {
        let mut b = Builder::new();
        b.agents(6);
        for leaf in 1..6 {
            b.follow(leaf, 0, 0);
        }
        let net = measure(&b.0);
        assert_eq!(net.health.average_clustering, Some(0.0));
        assert_eq!(net.health.degree_assortativity, Some(-1.0));
        assert_eq!(net.health.components, 1);
        assert_eq!(net.health.strongly_connected_components, 6);
        assert_eq!(net.health.reciprocity, Some(0.0));
        assert_eq!(net.graph.nodes[0].name, "agent0");
        assert_eq!(net.graph.nodes[0].followers, 5);
        assert_eq!(net.graph.edges.len(), 5);
        assert!(
            net.graph
                .edges
                .iter()
                .all(|e| e.target == 0 && e.weight == 1)
        );
        assert_eq!(net.stats.out_degree.max, 1);
    }

    #[test]
    fn a_triangle_with_a_tail_has_known_clustering() {
        let mut b = Builder::new();
        b.agents(4);
        for (x, y) in [(0, 1), (1, 2), (2, 0), (2, 3)] {
            b.follow(x, y, 0);
        }
        let h = measure(&b.0).health;
        // Local: 1, 1, 1/3 and 0 (one neighbour).
        assert_eq!(
            h.average_clustering,
            Some(round((1.0 + 1.0 + 1.0 / 3.0) / 4.0))
        );
        assert_eq!(h.average_clustering_connected, Some(round(7.0 / 9.0)));
    }
}
