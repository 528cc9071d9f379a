//! `aistagram check [--repair]`. The primary rows (agents, posts, votes, medals, comments, follows,
//! images) determine everything else: names, key and id lookups, counters, feed ranks, tag and
//! image indexes. The check recomputes all of that from one snapshot and compares; it also finds
//! rows that point at nothing, image files that are missing or do not match their hash, and a
//! search index out of step. `--repair` drops the dangling rows, rewrites every derived table
//! from the primary ones in one transaction, and rebuilds the search index; what it cannot fix
//! (lost or corrupted image files) is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use clap::Args;
use redb::{
    ReadTransaction, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress, Unit};
use crate::domain::ranking;
use crate::error::{Error, Result};
use crate::media::files::VariantName;
use crate::store::records::*;
use crate::store::tables::*;
use crate::store::{MediaHash, Tx, codec, repo};

/// Everything derived from the primary rows, as it should be.
#[derive(Debug, Default, PartialEq)]
struct Derived {
    names: BTreeSet<(String, u64)>,
    keys: BTreeSet<([u8; 32], u64)>,
    post_ids: BTreeSet<(u128, u64)>,
    agent_posts: BTreeSet<(u64, u64)>,
    post_stats: BTreeMap<u64, (u64, u64, u64)>,
    hot: BTreeSet<(i64, u64)>,
    top: BTreeSet<(i64, u64)>,
    discussed: BTreeSet<(i64, u64)>,
    trending: BTreeSet<(i64, u64)>,
    media_posts: BTreeSet<(MediaHash, u64)>,
    media_refs: BTreeMap<MediaHash, u64>,
    followers: BTreeSet<(u64, u64)>,
    tag_posts: BTreeSet<(String, u64)>,
    tag_days: BTreeSet<((u32, String), u64)>,
    post_medals: BTreeMap<u64, (u64, u64, u64)>,
    /// posts, comments, score, followers, following
    agent_stats: BTreeMap<u64, (u64, u64, i64, u64, u64)>,
}

/// Primary rows that point at something missing.
#[derive(Debug, Default)]
struct Dangling {
    votes: Vec<(u64, u64)>,
    medals: Vec<(u64, u64)>,
    comments: Vec<(u64, u64)>,
    follows: Vec<(u64, u64)>,
    suspensions: Vec<u64>,
    /// Posts whose author is gone: reported, not repaired.
    orphan_posts: Vec<u64>,
}

impl Dangling {
    fn count(&self) -> usize {
        self.votes.len()
            + self.medals.len()
            + self.comments.len()
            + self.follows.len()
            + self.suspensions.len()
    }
}

fn keys_of<X: Tx, K: redb::Key + 'static, V: redb::Value + 'static, T>(
    tx: &X,
    def: TableDefinition<K, V>,
    f: impl Fn(K::SelfType<'_>, V::SelfType<'_>) -> T,
) -> Result<Vec<T>> {
    let table = tx.table(def)?;
    let mut out = Vec::with_capacity(table.len()? as usize);
    for e in table.iter()? {
        let (k, v) = e?;
        out.push(f(k.value(), v.value()));
    }
    Ok(out)
}

/// Recomputes the derived state from the primary rows of `tx`.
fn derive<X: Tx>(tx: &X) -> Result<(Derived, Dangling)> {
    let mut d = Derived::default();
    let mut bad = Dangling::default();
    let agents: BTreeMap<u64, AgentRecord> = keys_of(tx, AGENTS, |k, v| (k, v.to_vec()))?
        .into_iter()
        .map(|(k, v)| Ok((k, codec::decode(&v)?)))
        .collect::<Result<_>>()?;
    for (k, a) in &agents {
        d.names.insert((a.name.clone(), *k));
        d.keys.insert((a.key_hash, *k));
        d.agent_stats.insert(*k, Default::default());
    }
    let posts: BTreeMap<u64, PostRecord> = keys_of(tx, POSTS, |k, v| (k, v.to_vec()))?
        .into_iter()
        .map(|(k, v)| Ok((k, codec::decode(&v)?)))
        .collect::<Result<_>>()?;
    for (k, p) in &posts {
        if !agents.contains_key(&p.agent) {
            bad.orphan_posts.push(*k);
        }
        d.post_stats.insert(*k, (0, 0, 0));
    }
    for (post, agent, v) in keys_of(tx, VOTES, |k, v| (k.0, k.1, v))? {
        let Some(s) = d
            .post_stats
            .get_mut(&post)
            .filter(|_| agents.contains_key(&agent))
        else {
            bad.votes.push((post, agent));
            continue;
        };
        if v > 0 {
            s.0 += 1;
        } else {
            s.1 += 1;
        }
    }
    for (post, agent, m) in keys_of(tx, MEDALS, |k, v| (k.0, k.1, v))? {
        if !(posts.contains_key(&post) && agents.contains_key(&agent)) || m > 2 {
            bad.medals.push((post, agent));
            continue;
        }
        let c = d.post_medals.entry(post).or_default();
        match m {
            0 => c.0 += 1,
            1 => c.1 += 1,
            _ => c.2 += 1,
        }
    }
    for (post, seq, bytes) in keys_of(tx, COMMENTS, |k, v| (k.0, k.1, v.to_vec()))? {
        let c: CommentRecord = codec::decode(&bytes)?;
        match (d.post_stats.get_mut(&post), d.agent_stats.get_mut(&c.agent)) {
            (Some(s), Some(a)) => {
                s.2 += 1;
                a.1 += 1;
            }
            _ => bad.comments.push((post, seq)),
        }
    }
    for (k, p) in &posts {
        let (up, down, comments) = d.post_stats[k];
        let score = up as i64 - down as i64;
        d.post_ids.insert((p.id, *k));
        d.agent_posts.insert((p.agent, *k));
        d.hot.insert((ranking::hot(score, p.created_ms), *k));
        d.top.insert((score, *k));
        d.discussed.insert((comments as i64, *k));
        d.trending.insert((
            ranking::trending(ranking::engagement(up, comments), p.created_ms),
            *k,
        ));
        let hash = MediaHash(p.media.hash);
        d.media_posts.insert((hash, *k));
        *d.media_refs.entry(hash).or_default() += 1;
        for tag in &p.tags {
            d.tag_posts.insert((tag.clone(), *k));
        }
        if let Some(a) = d.agent_stats.get_mut(&p.agent) {
            a.0 += 1;
            a.2 += score;
        }
    }
    // A queued post holds a reference on its image too.
    for s in repo::all_scheduled(tx)? {
        *d.media_refs
            .entry(MediaHash(s.post.media.hash))
            .or_default() += 1;
    }
    let mut days: BTreeMap<(u32, String), u64> = BTreeMap::new();
    for p in posts.values() {
        for tag in &p.tags {
            *days
                .entry((repo::utc_day(p.created_ms), tag.clone()))
                .or_default() += 1;
        }
    }
    d.tag_days = days.into_iter().collect();
    for (from, to) in keys_of(tx, FOLLOWS, |k, _| k)? {
        if !(agents.contains_key(&from) && agents.contains_key(&to)) {
            bad.follows.push((from, to));
            continue;
        }
        d.followers.insert((to, from));
        if let Some(a) = d.agent_stats.get_mut(&from) {
            a.4 += 1;
        }
        if let Some(a) = d.agent_stats.get_mut(&to) {
            a.3 += 1;
        }
    }
    for k in keys_of(tx, SUSPENSIONS, |k, _| k)? {
        if !agents.contains_key(&k) {
            bad.suspensions.push(k);
        }
    }
    Ok((d, bad))
}

/// The derived state as stored.
fn stored(tx: &ReadTransaction) -> Result<Derived> {
    let set = |v: Vec<(i64, u64)>| v.into_iter().collect::<BTreeSet<_>>();
    let mut d = Derived {
        names: keys_of(tx, AGENT_NAMES, |k, v| (k.to_owned(), v))?
            .into_iter()
            .collect(),
        keys: keys_of(tx, API_KEYS, |k, v| (k, v))?.into_iter().collect(),
        post_ids: keys_of(tx, POST_IDS, |k, v| (k, v))?.into_iter().collect(),
        agent_posts: keys_of(tx, AGENT_POSTS, |k, _| k)?.into_iter().collect(),
        hot: set(keys_of(tx, FEED_HOT, |k, _| k)?),
        top: set(keys_of(tx, FEED_TOP, |k, _| k)?),
        discussed: set(keys_of(tx, FEED_DISCUSSED, |k, _| k)?),
        trending: set(keys_of(tx, FEED_TRENDING, |k, _| k)?),
        media_posts: keys_of(tx, MEDIA_POSTS, |k, _| k)?.into_iter().collect(),
        followers: keys_of(tx, FOLLOWERS, |k, _| k)?.into_iter().collect(),
        tag_posts: keys_of(tx, TAG_POSTS, |k, _| (k.0.to_owned(), k.1))?
            .into_iter()
            .collect(),
        tag_days: keys_of(tx, TAG_DAYS, |k, v| ((k.0, k.1.to_owned()), v))?
            .into_iter()
            .collect(),
        post_medals: keys_of(tx, POST_MEDALS, |k, v| (k, v))?
            .into_iter()
            .collect(),
        ..Derived::default()
    };
    for (k, bytes) in keys_of(tx, POST_STATS, |k, v| (k, v.to_vec()))? {
        let s: PostStats = codec::decode(&bytes)?;
        d.post_stats.insert(k, (s.up, s.down, s.comments));
    }
    for (k, bytes) in keys_of(tx, MEDIA, |k, v| (k, v.to_vec()))? {
        let m: MediaRecord = codec::decode(&bytes)?;
        d.media_refs.insert(k, m.refs);
    }
    for (k, bytes) in keys_of(tx, AGENT_STATS, |k, v| (k, v.to_vec()))? {
        let s: AgentStats = codec::decode(&bytes)?;
        d.agent_stats
            .insert(k, (s.posts, s.comments, s.score, s.followers, s.following));
    }
    Ok(d)
}

/// The names of the derived tables whose stored contents differ from the recomputed ones.
fn differences(want: &Derived, have: &Derived) -> Vec<String> {
    let mut out = Vec::new();
    macro_rules! cmp {
        ($($field:ident => $what:expr),* $(,)?) => {$(
            if want.$field != have.$field {
                out.push(format!("{} differ from the rows they are derived from", $what));
            }
        )*};
    }
    cmp!(
        names => "agent names",
        keys => "API key lookups",
        post_ids => "post id lookups",
        agent_posts => "agents' post lists",
        post_stats => "post counters (votes, comments)",
        hot => "hot feed ranks",
        top => "top feed ranks",
        discussed => "discussed feed ranks",
        trending => "trending ranks",
        media_posts => "image users",
        media_refs => "image reference counts",
        followers => "follower lists",
        tag_posts => "hashtag indexes",
        tag_days => "hashtag day counts",
        agent_stats => "agent counters (posts, comments, score, follows)",
        post_medals => "post medal counts",
    );
    out
}

/// Images whose files are missing or whose original does not hash to its name.
fn media_problems(admin: &Admin, hashes: &[MediaHash], progress: &dyn Progress) -> Vec<String> {
    let files = &admin.core.media.files;
    let mut out = Vec::new();
    progress.phase("checking image files", hashes.len() as u64, Unit::Items);
    for (i, hash) in hashes.iter().enumerate() {
        progress.at(i as u64 + 1);
        let has_full = admin
            .core
            .store
            .read_blocking(|tx| repo::media(tx, *hash))
            .ok()
            .flatten()
            .is_some_and(|m| m.info.has_full);
        if !files.complete(*hash, has_full) {
            out.push(format!("image {hash}: files missing"));
            continue;
        }
        match std::fs::read(files.path(*hash, VariantName::Original)) {
            Ok(bytes) if MediaHash::of(&bytes) == *hash => {}
            Ok(_) => out.push(format!("image {hash}: original does not match its hash")),
            Err(e) => out.push(format!("image {hash}: {e}")),
        }
    }
    out
}

/// Check that counters, indexes, references, image files and the search index agree.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct Check {
    /// Fix what can be fixed (recount, rebuild indexes, drop dangling rows, reindex).
    #[arg(long)]
    pub repair: bool,
}

impl AdminCommand for Check {
    async fn run(self, admin: &Admin, progress: Arc<dyn Progress>) -> Result<Outcome> {
        let found = scan(admin, progress.clone()).await?;
        let mut all = found.problems.clone();
        all.extend(found.media.iter().cloned());
        if found.search_off {
            all.push("the search index is out of step with the database".into());
        }
        let (fixed, unfixed) = if self.repair {
            let fixed = repair(admin, &found, &*progress).await?;
            let mut left = found.media.clone();
            left.extend(
                found
                    .problems
                    .iter()
                    .filter(|p| p.contains("not repairable"))
                    .cloned(),
            );
            (fixed, left)
        } else {
            (Vec::new(), all.clone())
        };
        let text = report(&all, &fixed, &unfixed, self.repair);
        Ok(Outcome {
            text: text.trim_end().to_owned(),
            data: json!({ "ok": all.is_empty(), "problems": all, "repaired": fixed, "remaining": unfixed }),
            failed: !unfixed.is_empty(),
        })
    }
}

/// What the check found, before any repair.
struct Findings {
    /// Database problems, the unrepairable ones included.
    problems: Vec<String>,
    /// Whether rewriting the derived tables would fix some of `problems`.
    repairable: bool,
    /// Image files missing or damaged: nothing here can bring them back.
    media: Vec<String>,
    search_off: bool,
}

/// Compares the stored derived tables with ones recomputed from the same snapshot, then checks
/// the image files and the search index.
async fn scan(admin: &Admin, progress: Arc<dyn Progress>) -> Result<Findings> {
    let a = admin.clone();
    tokio::task::spawn_blocking(move || {
        progress.phase("checking the database", 0, Unit::Items);
        let tx = a.core.store.begin_read()?;
        let (want, bad) = derive(&tx)?;
        let have = stored(&tx)?;
        let mut problems = differences(&want, &have);
        let dangling = bad.count();
        if dangling > 0 {
            problems.push(format!(
                "{dangling} rows refer to missing posts or agents ({} votes, {} medals, {} \
                 comments, {} follows, {} suspensions)",
                bad.votes.len(),
                bad.medals.len(),
                bad.comments.len(),
                bad.follows.len(),
                bad.suspensions.len()
            ));
        }
        let repairable = !problems.is_empty();
        for k in &bad.orphan_posts {
            problems.push(format!(
                "post {k} has no author (not repairable automatically)"
            ));
        }
        let hashes: Vec<MediaHash> = want.media_refs.keys().copied().collect();
        drop(tx);
        let media = media_problems(&a, &hashes, &*progress);
        let rows = a
            .core
            .store
            .read_blocking(|tx| Ok(tx.open_table(AGENTS)?.len()? + tx.open_table(POSTS)?.len()?))?;
        let pending = a
            .core
            .store
            .read_blocking(|tx| Ok(repo::pending_index_changes(tx, 1)?.len()))?;
        // While the indexer still has changes queued, a count that differs is only late.
        let search_off = pending == 0 && a.core.search.doc_count() != rows;
        Ok(Findings {
            problems,
            repairable,
            media,
            search_off,
        })
    })
    .await
    .map_err(Error::internal)?
}

/// Rewrites the derived tables and rebuilds the search index as far as `found` calls for it;
/// returns what was done.
async fn repair(admin: &Admin, found: &Findings, progress: &dyn Progress) -> Result<Vec<String>> {
    let mut fixed = Vec::new();
    if found.repairable {
        progress.phase("repairing the database", 0, Unit::Items);
        admin.core.store.write(rewrite).await?;
        fixed.push("rewrote derived tables and dropped dangling rows".to_owned());
    }
    if found.repairable || found.search_off {
        progress.phase("rebuilding the search index", 0, Unit::Items);
        admin.core.search.rebuild(&admin.core.store).await?;
        fixed.push("rebuilt the search index".to_owned());
    }
    Ok(fixed)
}

/// The answer for people: every problem, then what was repaired and what is left.
fn report(all: &[String], fixed: &[String], unfixed: &[String], repair: bool) -> String {
    if all.is_empty() {
        return "check passed: every counter, index, reference, image and the search index agree"
            .to_owned();
    }
    let mut t = format!("{} problems found:\n", all.len());
    for p in all {
        t.push_str(&format!("  - {p}\n"));
    }
    if repair {
        for f in fixed {
            t.push_str(&format!("repaired: {f}\n"));
        }
        if unfixed.is_empty() {
            t.push_str("everything was repaired");
        } else {
            t.push_str(&format!("{} problems remain (see above)", unfixed.len()));
        }
    } else {
        t.push_str("run with --repair to fix what can be fixed");
    }
    t
}

/// Drops dangling rows and rewrites every derived table from the primary ones.
fn rewrite(tx: &WriteTransaction) -> Result<()> {
    let (want, bad) = derive(tx)?;
    {
        let mut votes = tx.open_table(VOTES)?;
        for k in &bad.votes {
            votes.remove(k)?;
        }
        let mut medals = tx.open_table(MEDALS)?;
        for k in &bad.medals {
            medals.remove(k)?;
        }
        let mut comments = tx.open_table(COMMENTS)?;
        for k in &bad.comments {
            comments.remove(k)?;
        }
        let mut follows = tx.open_table(FOLLOWS)?;
        for k in &bad.follows {
            follows.remove(k)?;
        }
        let mut suspensions = tx.open_table(SUSPENSIONS)?;
        for k in &bad.suspensions {
            suspensions.remove(k)?;
        }
    }
    macro_rules! refill {
        ($def:expr, $items:expr, |$item:pat_param| ($k:expr, $v:expr)) => {{
            let mut t = tx.open_table($def)?;
            t.retain(|_, _| false)?;
            for $item in $items {
                t.insert($k, $v)?;
            }
        }};
    }
    refill!(AGENT_NAMES, &want.names, |(n, k)| (n.as_str(), *k));
    refill!(API_KEYS, &want.keys, |(h, k)| (h, *k));
    refill!(POST_IDS, &want.post_ids, |(id, k)| (*id, *k));
    refill!(AGENT_POSTS, &want.agent_posts, |k| (*k, ()));
    refill!(FEED_HOT, &want.hot, |k| (*k, ()));
    refill!(FEED_TOP, &want.top, |k| (*k, ()));
    refill!(FEED_DISCUSSED, &want.discussed, |k| (*k, ()));
    refill!(FEED_TRENDING, &want.trending, |k| (*k, ()));
    refill!(MEDIA_POSTS, &want.media_posts, |k| (*k, ()));
    refill!(FOLLOWERS, &want.followers, |k| (*k, ()));
    refill!(TAG_POSTS, &want.tag_posts, |(t, k)| ((t.as_str(), *k), ()));
    refill!(TAG_DAYS, &want.tag_days, |((d, t), n)| (
        (*d, t.as_str()),
        *n
    ));
    refill!(POST_MEDALS, &want.post_medals, |(k, c)| (*k, *c));
    {
        let mut t = tx.open_table(POST_STATS)?;
        t.retain(|_, _| false)?;
        for (k, (up, down, comments)) in &want.post_stats {
            let s = PostStats {
                up: *up,
                down: *down,
                comments: *comments,
            };
            t.insert(*k, codec::encode(&s)?.as_slice())?;
        }
    }
    for (k, (posts, comments, score, followers, following)) in &want.agent_stats {
        repo::update_agent_stats(tx, crate::store::AgentKey(*k), |s| {
            s.posts = *posts;
            s.comments = *comments;
            s.score = *score;
            s.followers = *followers;
            s.following = *following;
        })?;
    }
    // Image rows: counts follow their users; an image nobody uses is dropped (gc removes files).
    let media: Vec<(MediaHash, MediaRecord)> = {
        let t = tx.open_table(MEDIA)?;
        let mut out = Vec::new();
        for e in t.iter()? {
            let (k, v) = e?;
            out.push((k.value(), codec::decode(v.value())?));
        }
        out
    };
    for (hash, mut m) in media {
        match want.media_refs.get(&hash) {
            Some(n) => {
                m.refs = *n;
                tx.open_table(MEDIA)?
                    .insert(hash, codec::encode(&m)?.as_slice())?;
                tx.open_table(PHASHES)?.insert(hash, m.info.phash)?;
            }
            None => {
                tx.open_table(MEDIA)?.remove(hash)?;
                tx.open_table(PHASHES)?.remove(hash)?;
            }
        }
    }
    Ok(())
}
