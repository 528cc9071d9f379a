//! Near-duplicate images among a window's posts: clusters of posts whose perceptual hashes are
//! within a few bits, found through a multi-index rather than by comparing every pair.

use std::collections::HashMap;

use serde::Serialize;

use super::{AgentRef, Cut, Sets};

/// Two images are near-duplicates when their 64-bit perceptual hashes differ in at most this
/// many bits (the threshold of `GET /posts/{id}/duplicates`).
pub const NEAR_DUPLICATE_BITS: u32 = 10;
const SIMILAR_CLUSTERS: usize = 50;
const CLUSTER_MEMBERS: usize = 20;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsSimilar)]
pub struct Similar {
    pub threshold_bits: u32,
    /// Posts published in the window whose images were compared.
    pub posts_compared: u64,
    pub posts_in_clusters: u64,
    pub cluster_count: usize,
    /// The largest clusters first.
    pub clusters: Vec<SimilarCluster>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsSimilarCluster)]
pub struct SimilarCluster {
    pub size: usize,
    /// Distinct authors among the members.
    pub agents: usize,
    /// The oldest members first; `distance_bits` is from the oldest member's image.
    pub members: Vec<SimilarMember>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsSimilarMember)]
pub struct SimilarMember {
    pub post_id: String,
    pub agent: AgentRef,
    pub distance_bits: u32,
}

/// Clusters the window's posts whose images are near-duplicates, by single linkage: two posts
/// are linked when their hashes are within [`NEAR_DUPLICATE_BITS`], and a cluster is a connected
/// set of links. Candidate pairs come from a multi-index: split into four 16-bit blocks, two
/// hashes within 10 bits agree to within 2 bits on at least one block (pigeonhole), so only
/// hashes in the buckets within 2 bits of each block are compared.
pub fn similar(cut: &Cut) -> Similar {
    let posts: Vec<(u32, u64)> = cut.posts().map(|(i, p)| (i, p.phash)).collect();
    // Identical hashes are linked outright; the index holds each distinct hash once.
    let mut distinct: Vec<u64> = posts.iter().map(|p| p.1).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut sets = Sets::new(distinct.len());
    near_pairs(&distinct, NEAR_DUPLICATE_BITS, |a, b| {
        sets.union(a, b);
    });
    let mut groups: HashMap<u32, Vec<(u32, u64)>> = HashMap::new();
    for &(post, hash) in &posts {
        let Ok(h) = distinct.binary_search(&hash) else {
            continue;
        };
        groups
            .entry(sets.find(h as u32))
            .or_default()
            .push((post, hash));
    }
    let mut clusters: Vec<Vec<(u32, u64)>> = groups.into_values().filter(|g| g.len() > 1).collect();
    let posts_in_clusters = clusters.iter().map(|c| c.len() as u64).sum();
    for c in &mut clusters {
        c.sort_unstable();
    }
    clusters.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a[0].cmp(&b[0])));
    let cluster_count = clusters.len();
    clusters.truncate(SIMILAR_CLUSTERS);
    Similar {
        threshold_bits: NEAR_DUPLICATE_BITS,
        posts_compared: posts.len() as u64,
        posts_in_clusters,
        cluster_count,
        clusters: clusters
            .into_iter()
            .map(|c| {
                let first = c[0].1;
                let mut authors: Vec<u32> =
                    c.iter().map(|m| cut.s.posts[m.0 as usize].agent).collect();
                authors.sort_unstable();
                authors.dedup();
                SimilarCluster {
                    size: c.len(),
                    agents: authors.len(),
                    members: c
                        .iter()
                        .take(CLUSTER_MEMBERS)
                        .map(|&(post, hash)| {
                            let p = &cut.s.posts[post as usize];
                            SimilarMember {
                                post_id: uuid::Uuid::from_u128(p.id).to_string(),
                                agent: cut.agent(p.agent),
                                distance_bits: (hash ^ first).count_ones(),
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

/// Calls `found` with every pair of indices into `hashes` (distinct, sorted) within `max_bits`
/// (at most 11) of each other, once each.
fn near_pairs(hashes: &[u64], max_bits: u32, mut found: impl FnMut(u32, u32)) {
    const BLOCKS: u32 = 4;
    // 10 bits over 4 blocks: some block is within 2; `neighbours` enumerates up to 2 flips.
    let per_block = max_bits / BLOCKS;
    debug_assert!(per_block <= 2, "neighbours() flips at most two bits");
    let block = |h: u64, b: u32| ((h >> (16 * b)) & 0xFFFF) as usize;
    // Each 16-bit value's entries per block, as offsets into one array (counting sort).
    let mut probes: Vec<u16> = Vec::new();
    for b in 0..BLOCKS {
        let mut start = vec![0u32; 65_537];
        for &h in hashes {
            start[block(h, b) + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut fill = start.clone();
        let mut items = vec![0u32; hashes.len()];
        for (i, &h) in hashes.iter().enumerate() {
            let slot = &mut fill[block(h, b)];
            items[*slot as usize] = i as u32;
            *slot += 1;
        }
        for (i, &h) in hashes.iter().enumerate() {
            let v = block(h, b) as u16;
            probes.clear();
            neighbours(v, per_block, &mut probes);
            for &q in &probes {
                let range = start[q as usize] as usize..start[q as usize + 1] as usize;
                for &j in &items[range] {
                    // Each pair once: from its smaller index, and from the lowest block where
                    // its blocks are close (so four blocks do not report it four times).
                    if j as usize <= i || (h ^ hashes[j as usize]).count_ones() > max_bits {
                        continue;
                    }
                    let first_close = (0..BLOCKS)
                        .find(|&c| {
                            ((block(h, c) ^ block(hashes[j as usize], c)) as u16).count_ones()
                                <= per_block
                        })
                        .unwrap_or(b);
                    if first_close == b {
                        found(i as u32, j);
                    }
                }
            }
        }
    }
}

/// Every 16-bit value within `bits` (at most 2) bit flips of `v`, `v` included.
fn neighbours(v: u16, bits: u32, out: &mut Vec<u16>) {
    out.push(v);
    if bits >= 1 {
        for i in 0..16 {
            out.push(v ^ (1 << i));
        }
    }
    if bits >= 2 {
        for i in 0..16 {
            for j in i + 1..16 {
                out.push(v ^ (1 << i) ^ (1 << j));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Window;
    use super::super::testing::Builder;
    use super::*;

    #[test]
    fn near_duplicate_images_cluster_and_others_do_not() {
        let mut b = Builder::new();
        b.agents(3);
        let at = b.0.now_ms - 1000;
        let base: u64 = 0xDEAD_BEEF_0123_4567;
        for (agent, hash) in [
            (0, base),
            (1, base ^ 0b111),                    // 3 bits from base
            (2, base ^ 0b111 ^ (0xFF << 20)),     // 8 bits from the previous: chained in
            (0, !base),                           // far from everything
            (1, 0x0F0F_0F0F_0F0F_0F0F),           // far too
            (2, 0x0F0F_0F0F_0F0F_0F0F ^ 1 << 63), // 1 bit from the previous
        ] {
            let p = b.post(agent, at, &[], "");
            b.0.posts[p as usize].phash = hash;
        }
        let s = similar(&Cut::new(&b.0, Window::Day));
        assert_eq!(s.cluster_count, 2);
        assert_eq!(s.clusters[0].size, 3);
        assert_eq!(s.clusters[0].agents, 3);
        let d: Vec<u32> = s.clusters[0]
            .members
            .iter()
            .map(|m| m.distance_bits)
            .collect();
        assert_eq!(d, [0, 3, 11]);
        assert_eq!(s.clusters[1].size, 2);
        assert_eq!(s.posts_in_clusters, 5);
    }

    #[test]
    fn the_index_finds_every_pair_a_full_scan_finds() {
        let mut x: u64 = 0x1234_5678_9ABC_DEF1;
        let mut hashes: Vec<u64> = (0..3000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Every fifth hash is a few bits off an earlier one.
                if i % 5 == 0 { x & !0b1_0110_0001 } else { x }
            })
            .collect();
        for i in 1..300 {
            let near = hashes[i * 7] ^ (1 << (i % 64)) ^ (1 << ((i * 3) % 64));
            hashes.push(near);
        }
        hashes.sort_unstable();
        hashes.dedup();
        let mut fast = Vec::new();
        near_pairs(&hashes, 10, |a, b| fast.push((a, b)));
        fast.sort_unstable();
        let mut slow = Vec::new();
        for i in 0..hashes.len() {
            for j in i + 1..hashes.len() {
                if (hashes[i] ^ hashes[j]).count_ones() <= 10 {
                    slow.push((i as u32, j as u32));
                }
            }
        }
        assert!(slow.len() > 250, "the test needs near pairs");
        assert_eq!(fast, slow);
    }
}
