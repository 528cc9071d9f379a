//! Integrity of the derived tables: everything below the primary rows (agents, posts, votes,
//! medals, comments, follows, images, scheduled posts, webhooks, deliveries) is recomputed from
//! one snapshot with the rules of [`derived`], compared with what is stored, and on repair
//! rewritten in one transaction. Rows that point at nothing are found and, on repair, dropped.

use std::collections::{BTreeMap, BTreeSet};

use super::super::derived;
use super::*;

/// Everything derived from the primary rows, as it should be (or as it is stored).
#[derive(Debug, Default, PartialEq)]
struct Derived {
    names: BTreeSet<(String, u64)>,
    agent_ids: BTreeSet<(u128, u64)>,
    keys: BTreeSet<([u8; 32], u64)>,
    post_ids: BTreeSet<(u128, u64)>,
    /// `comment uuid -> (post, comment seq)`.
    comment_ids: BTreeSet<(u128, (u64, u64))>,
    /// Each agent's notification counters, from its notifications and read mark.
    notify_state: BTreeMap<u64, NotifyState>,
    agent_posts: BTreeSet<(u64, u64)>,
    post_stats: BTreeMap<u64, PostStats>,
    hot: BTreeSet<(i64, u64)>,
    top: BTreeSet<(i64, u64)>,
    discussed: BTreeSet<(i64, u64)>,
    trending: BTreeSet<(i64, u64)>,
    media_posts: BTreeSet<(MediaHash, u64)>,
    media_refs: BTreeMap<MediaHash, u64>,
    phashes: BTreeMap<MediaHash, u64>,
    followers: BTreeSet<(u64, u64)>,
    tag_posts: BTreeSet<(String, u64)>,
    tag_days: BTreeMap<(u32, String), u64>,
    post_medals: BTreeMap<u64, (u64, u64, u64)>,
    agent_stats: BTreeMap<u64, Counts>,
    schedule_due: BTreeSet<(i64, u128)>,
    agent_webhooks: BTreeSet<(u64, u128)>,
    webhook_due: BTreeSet<(i64, u64)>,
}

/// The counters of an agent that follow from other rows (`last_active_ms` does not).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    posts: u64,
    comments: u64,
    score: i64,
    followers: u64,
    following: u64,
    likes_received: u64,
    dislikes_received: u64,
    comments_received: u64,
}

impl From<&AgentStats> for Counts {
    fn from(s: &AgentStats) -> Self {
        Counts {
            posts: s.posts,
            comments: s.comments,
            score: s.score,
            followers: s.followers,
            following: s.following,
            likes_received: s.likes_received,
            dislikes_received: s.dislikes_received,
            comments_received: s.comments_received,
        }
    }
}

/// Primary rows that point at something missing.
#[derive(Debug, Default)]
struct Dangling {
    votes: Vec<(u64, u64)>,
    /// Vote times whose vote is gone.
    vote_times: Vec<(u64, u64)>,
    medals: Vec<(u64, u64)>,
    comments: Vec<(u64, u64)>,
    follows: Vec<(u64, u64)>,
    suspensions: Vec<u64>,
    scheduled: Vec<u128>,
    webhooks: Vec<u128>,
    deliveries: Vec<u64>,
    /// Posts whose author is gone: reported, not repaired.
    orphan_posts: Vec<u64>,
}

impl Dangling {
    fn count(&self) -> usize {
        self.votes.len()
            + self.vote_times.len()
            + self.medals.len()
            + self.comments.len()
            + self.follows.len()
            + self.suspensions.len()
            + self.scheduled.len()
            + self.webhooks.len()
            + self.deliveries.len()
    }
}

/// What a check of the database found.
#[derive(Debug, Default)]
pub struct Integrity {
    /// Derived tables that differ from their rules, and rows pointing at nothing: all repairable.
    pub problems: Vec<String>,
    /// What a repair cannot fix (posts without an author).
    pub unrepairable: Vec<String>,
    /// Every image some post or scheduled post uses, for checking its files.
    pub referenced_media: Vec<MediaHash>,
}

/// Recomputes every derived table from the primary rows of `tx` and compares it with what is
/// stored.
pub fn check_integrity<T: Tx>(tx: &T) -> Result<Integrity> {
    let (want, bad) = derive(tx)?;
    let have = stored(tx)?;
    let mut problems = differences(&want, &have);
    let dangling = bad.count();
    if dangling > 0 {
        problems.push(format!(
            "{dangling} rows refer to missing posts, agents or webhooks ({} votes, {} vote times, \
             {} medals, {} comments, {} follows, {} suspensions, {} scheduled posts, {} webhooks, \
             {} deliveries)",
            bad.votes.len(),
            bad.vote_times.len(),
            bad.medals.len(),
            bad.comments.len(),
            bad.follows.len(),
            bad.suspensions.len(),
            bad.scheduled.len(),
            bad.webhooks.len(),
            bad.deliveries.len(),
        ));
    }
    let unrepairable = bad
        .orphan_posts
        .iter()
        .map(|k| format!("post {k} has no author (not repairable automatically)"))
        .collect();
    Ok(Integrity {
        problems,
        unrepairable,
        referenced_media: want.media_refs.keys().copied().collect(),
    })
}

/// Drops dangling rows and rewrites every derived table from the primary ones.
pub fn repair_integrity(tx: &WriteTx) -> Result<()> {
    let (want, bad) = derive(tx)?;
    drop_dangling(tx, &bad)?;
    macro_rules! refill {
        ($table:expr, $items:expr, |$item:pat_param| ($k:expr, $v:expr)) => {{
            tx.clear($table)?;
            for $item in $items {
                tx.insert($table, $k, $v)?;
            }
        }};
    }
    refill!(AGENT_NAMES, &want.names, |(n, k)| (n.as_str(), k));
    refill!(AGENT_IDS, &want.agent_ids, |(id, k)| (*id, k));
    refill!(API_KEYS, &want.keys, |(h, k)| (h, k));
    refill!(POST_IDS, &want.post_ids, |(id, k)| (*id, k));
    refill!(COMMENT_IDS, &want.comment_ids, |(id, k)| (*id, k));
    refill!(NOTIFY_STATE, &want.notify_state, |(k, v)| (*k, v));
    refill!(AGENT_POSTS, &want.agent_posts, |k| (*k, &()));
    refill!(FEED_HOT, &want.hot, |k| (*k, &()));
    refill!(FEED_TOP, &want.top, |k| (*k, &()));
    refill!(FEED_DISCUSSED, &want.discussed, |k| (*k, &()));
    refill!(FEED_TRENDING, &want.trending, |k| (*k, &()));
    refill!(MEDIA_POSTS, &want.media_posts, |k| (*k, &()));
    refill!(FOLLOWERS, &want.followers, |k| (*k, &()));
    refill!(TAG_POSTS, &want.tag_posts, |(t, k)| ((t.as_str(), *k), &()));
    refill!(TAG_DAYS, &want.tag_days, |((d, t), n)| (
        (*d, t.as_str()),
        n
    ));
    refill!(POST_MEDALS, &want.post_medals, |(k, c)| (*k, c));
    refill!(POST_STATS, &want.post_stats, |(k, s)| (*k, s));
    refill!(SCHEDULE_DUE, &want.schedule_due, |k| (*k, &()));
    refill!(AGENT_WEBHOOKS, &want.agent_webhooks, |k| (*k, &()));
    refill!(WEBHOOK_DUE, &want.webhook_due, |k| (*k, &()));
    for (k, c) in &want.agent_stats {
        update_agent_stats(tx, AgentKey(*k), |s| {
            s.posts = c.posts;
            s.comments = c.comments;
            s.score = c.score;
            s.followers = c.followers;
            s.following = c.following;
            s.likes_received = c.likes_received;
            s.dislikes_received = c.dislikes_received;
            s.comments_received = c.comments_received;
        })?;
    }
    // Image rows: counts follow their users; an image nobody uses is dropped (gc removes files).
    for (hash, mut m) in all_media(tx)? {
        match want.media_refs.get(&hash) {
            Some(n) => {
                m.refs = *n;
                put_media(tx, hash, &m)?;
            }
            None => remove_media(tx, hash)?,
        }
    }
    Ok(())
}

fn drop_dangling(tx: &WriteTx, bad: &Dangling) -> Result<()> {
    for k in &bad.votes {
        tx.remove(VOTES, k)?;
        tx.remove(VOTE_TIMES, k)?;
    }
    for k in &bad.vote_times {
        tx.remove(VOTE_TIMES, k)?;
    }
    for k in &bad.medals {
        tx.remove(MEDALS, k)?;
    }
    for k in &bad.comments {
        tx.remove(COMMENTS, k)?;
    }
    for k in &bad.follows {
        tx.remove(FOLLOWS, k)?;
    }
    for k in &bad.suspensions {
        tx.remove(SUSPENSIONS, k)?;
    }
    for k in &bad.scheduled {
        tx.remove(SCHEDULED, k)?;
    }
    for k in &bad.webhooks {
        tx.remove(WEBHOOKS, k)?;
    }
    for k in &bad.deliveries {
        tx.remove(WEBHOOK_OUTBOX, k)?;
    }
    Ok(())
}

/// Every row of a table, mapped.
fn rows<T: Tx, K: Key, V: Value, R>(
    tx: &T,
    t: Table<K, V>,
    mut f: impl FnMut(K::SelfType<'_>, V::Out) -> R,
) -> Result<Vec<R>> {
    let mut out = Vec::new();
    tx.scan_all(t, false, |k, v| {
        out.push(f(k, v));
        Ok(true)
    })?;
    Ok(out)
}

/// Recomputes the derived state from the primary rows of `tx`.
fn derive<T: Tx>(tx: &T) -> Result<(Derived, Dangling)> {
    let mut d = Derived::default();
    let mut bad = Dangling::default();
    let agents: BTreeMap<u64, AgentRecord> = rows(tx, AGENTS, |k, a| (k, a))?.into_iter().collect();
    for (k, a) in &agents {
        d.names.insert((a.name.clone(), *k));
        d.agent_ids.insert((a.id, *k));
        // An avatar holds a reference on its image, like a post.
        if let Some(h) = a.avatar {
            *d.media_refs.entry(MediaHash(h)).or_default() += 1;
        }
        d.keys.insert((a.key_hash, *k));
        d.agent_stats.insert(*k, Counts::default());
    }
    // A generation awaiting a post holds a reference on its image too.
    for g in rows(tx, GENERATIONS, |_, g| g)? {
        *d.media_refs.entry(MediaHash(g.media.hash)).or_default() += 1;
    }
    let posts: BTreeMap<u64, PostRecord> = rows(tx, POSTS, |k, p| (k, p))?.into_iter().collect();
    for (k, p) in &posts {
        if !agents.contains_key(&p.agent) {
            bad.orphan_posts.push(*k);
        }
        d.post_stats.insert(*k, PostStats::default());
    }
    derive_reactions(tx, &agents, &posts, &mut d, &mut bad)?;
    derive_notifications(tx, &mut d)?;
    for (k, p) in &posts {
        derive_post(*k, p, &mut d);
    }
    for (from, to) in rows(tx, FOLLOWS, |k, _| k)? {
        if !(agents.contains_key(&from) && agents.contains_key(&to)) {
            bad.follows.push((from, to));
            continue;
        }
        d.followers.insert(derived::follower_key((from, to)));
        if let Some(a) = d.agent_stats.get_mut(&from) {
            a.following += 1;
        }
        if let Some(a) = d.agent_stats.get_mut(&to) {
            a.followers += 1;
        }
    }
    for k in rows(tx, SUSPENSIONS, |k, _| k)? {
        if !agents.contains_key(&k) {
            bad.suspensions.push(k);
        }
    }
    derive_queues(tx, &agents, &mut d, &mut bad)?;
    for (hash, m) in rows(tx, MEDIA, |k, m: MediaRecord| (k, m))? {
        d.phashes.insert(hash, m.info.phash);
    }
    // An image row nobody uses is dropped by repair; its copy goes with it.
    d.phashes.retain(|h, _| d.media_refs.contains_key(h));
    Ok((d, bad))
}

/// Votes, medals and comments: the post and agent counters they add up to.
fn derive_reactions<T: Tx>(
    tx: &T,
    agents: &BTreeMap<u64, AgentRecord>,
    posts: &BTreeMap<u64, PostRecord>,
    d: &mut Derived,
    bad: &mut Dangling,
) -> Result<()> {
    for ((post, agent), v) in rows(tx, VOTES, |k, v| (k, v))? {
        let Some(s) = d
            .post_stats
            .get_mut(&post)
            .filter(|_| agents.contains_key(&agent))
        else {
            bad.votes.push((post, agent));
            continue;
        };
        if v > 0 {
            s.up += 1;
        } else {
            s.down += 1;
        }
    }
    // A vote's time goes with its vote (a dangling vote takes its time along when dropped).
    for key in rows(tx, VOTE_TIMES, |k, _| k)? {
        if tx.get(VOTES, key)?.is_none() {
            bad.vote_times.push(key);
        }
    }
    for ((post, agent), m) in rows(tx, MEDALS, |k, v| (k, v))? {
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
    for ((post, seq), c) in rows(tx, COMMENTS, |k, c: CommentRecord| (k, c))? {
        // A deleted comment counts for nobody, and its author may be gone.
        if c.deleted {
            if d.post_stats.contains_key(&post) {
                d.comment_ids.insert((c.id, (post, seq)));
            } else {
                bad.comments.push((post, seq));
            }
            continue;
        }
        match (d.post_stats.get_mut(&post), d.agent_stats.get_mut(&c.agent)) {
            (Some(s), Some(a)) => {
                s.comments += 1;
                a.comments += 1;
                d.comment_ids.insert((c.id, (post, seq)));
            }
            _ => bad.comments.push((post, seq)),
        }
    }
    Ok(())
}

/// What one post and its counters put in the derived tables.
fn derive_post(k: u64, p: &PostRecord, d: &mut Derived) {
    let stats = d.post_stats.get(&k).copied().unwrap_or_default();
    d.post_ids.insert(derived::post_id_row(k, p));
    d.agent_posts.insert(derived::agent_post_key(k, p));
    let r = derived::feed_ranks(k, p.created_ms, &stats);
    d.hot.insert(r.hot);
    d.top.insert(r.top);
    d.discussed.insert(r.discussed);
    d.trending.insert(r.trending);
    let (hash, _) = derived::media_post_key(k, p);
    d.media_posts.insert((hash, k));
    *d.media_refs.entry(hash).or_default() += 1;
    let day = derived::utc_day(p.created_ms);
    for tag in &p.tags {
        d.tag_posts.insert((tag.clone(), k));
        *d.tag_days.entry((day, tag.clone())).or_default() += 1;
    }
    if let Some(a) = d.agent_stats.get_mut(&p.agent) {
        a.posts += 1;
        a.score += stats.score();
        a.likes_received += stats.up;
        a.dislikes_received += stats.down;
        a.comments_received += stats.comments;
    }
}

/// Scheduled posts, webhooks and their deliveries: the indexes the background tasks read.
fn derive_queues<T: Tx>(
    tx: &T,
    agents: &BTreeMap<u64, AgentRecord>,
    d: &mut Derived,
    bad: &mut Dangling,
) -> Result<()> {
    for s in all_scheduled(tx)? {
        if !agents.contains_key(&s.post.agent) {
            bad.scheduled.push(s.id);
            continue;
        }
        d.schedule_due.insert(derived::schedule_due_key(&s));
        // A queued post holds a reference on its image too.
        *d.media_refs
            .entry(MediaHash(s.post.media.hash))
            .or_default() += 1;
    }
    let mut hooks = BTreeSet::new();
    for (id, w) in rows(tx, WEBHOOKS, |k, w: WebhookRecord| (k, w))? {
        if !agents.contains_key(&w.agent) {
            bad.webhooks.push(id);
            continue;
        }
        hooks.insert(id);
        d.agent_webhooks.insert(derived::agent_webhook_key(&w));
    }
    for (seq, delivery) in rows(tx, WEBHOOK_OUTBOX, |k, v: Delivery| (k, v))? {
        if !hooks.contains(&delivery.webhook) {
            bad.deliveries.push(seq);
            continue;
        }
        d.webhook_due
            .insert(derived::webhook_due_key(seq, &delivery));
    }
    Ok(())
}

/// The derived state as stored.
fn stored<T: Tx>(tx: &T) -> Result<Derived> {
    let set = |v: Vec<(i64, u64)>| v.into_iter().collect::<BTreeSet<_>>();
    Ok(Derived {
        names: rows(tx, AGENT_NAMES, |k, v| (k.to_owned(), v))?
            .into_iter()
            .collect(),
        agent_ids: rows(tx, AGENT_IDS, |k, v| (k, v))?.into_iter().collect(),
        keys: rows(tx, API_KEYS, |k, v| (k, v))?.into_iter().collect(),
        post_ids: rows(tx, POST_IDS, |k, v| (k, v))?.into_iter().collect(),
        comment_ids: rows(tx, COMMENT_IDS, |k, v| (k, v))?.into_iter().collect(),
        notify_state: rows(tx, NOTIFY_STATE, |k, v| (k, v))?.into_iter().collect(),
        agent_posts: rows(tx, AGENT_POSTS, |k, _| k)?.into_iter().collect(),
        post_stats: rows(tx, POST_STATS, |k, s| (k, s))?.into_iter().collect(),
        hot: set(rows(tx, FEED_HOT, |k, _| k)?),
        top: set(rows(tx, FEED_TOP, |k, _| k)?),
        discussed: set(rows(tx, FEED_DISCUSSED, |k, _| k)?),
        trending: set(rows(tx, FEED_TRENDING, |k, _| k)?),
        media_posts: rows(tx, MEDIA_POSTS, |k, _| k)?.into_iter().collect(),
        media_refs: rows(tx, MEDIA, |k, m| (k, m.refs))?.into_iter().collect(),
        phashes: rows(tx, PHASHES, |k, v| (k, v))?.into_iter().collect(),
        followers: rows(tx, FOLLOWERS, |k, _| k)?.into_iter().collect(),
        tag_posts: rows(tx, TAG_POSTS, |k, _| (k.0.to_owned(), k.1))?
            .into_iter()
            .collect(),
        tag_days: rows(tx, TAG_DAYS, |k, v| ((k.0, k.1.to_owned()), v))?
            .into_iter()
            .collect(),
        post_medals: rows(tx, POST_MEDALS, |k, v| (k, v))?.into_iter().collect(),
        agent_stats: rows(tx, AGENT_STATS, |k, s| (k, Counts::from(&s)))?
            .into_iter()
            .collect(),
        schedule_due: rows(tx, SCHEDULE_DUE, |k, _| k)?.into_iter().collect(),
        agent_webhooks: rows(tx, AGENT_WEBHOOKS, |k, _| k)?.into_iter().collect(),
        webhook_due: rows(tx, WEBHOOK_DUE, |k, _| k)?.into_iter().collect(),
    })
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
        agent_ids => "agent id lookups",
        keys => "API key lookups",
        post_ids => "post id lookups",
        comment_ids => "comment id lookups",
        notify_state => "notification counters",
        agent_posts => "agents' post lists",
        post_stats => "post counters (votes, comments)",
        hot => "hot feed ranks",
        top => "top feed ranks",
        discussed => "discussed feed ranks",
        trending => "trending ranks",
        media_posts => "image users",
        media_refs => "image reference counts",
        phashes => "image perceptual hashes",
        followers => "follower lists",
        tag_posts => "hashtag indexes",
        tag_days => "hashtag day counts",
        agent_stats => "agent counters (posts, comments, score, follows)",
        post_medals => "post medal counts",
        schedule_due => "scheduled posts' due times",
        agent_webhooks => "agents' webhook lists",
        webhook_due => "webhook deliveries' due times",
    );
    out
}

/// Each agent's notification counters: the read mark stays as stored (it is the agent's own
/// choice), the counts follow from the notifications kept.
fn derive_notifications<T: Tx>(tx: &T, d: &mut Derived) -> Result<()> {
    let marks: BTreeMap<u64, u64> = rows(tx, NOTIFY_STATE, |k, s: NotifyState| (k, s.read_upto))?
        .into_iter()
        .collect();
    for ((agent, seq), _) in rows(tx, NOTIFICATIONS, |k, n: Notification| (k, n))? {
        let read_upto = marks.get(&agent).copied().unwrap_or(0);
        let s = d.notify_state.entry(agent).or_insert(NotifyState {
            read_upto,
            ..NotifyState::default()
        });
        s.total += 1;
        if seq > read_upto {
            s.unread += 1;
        }
    }
    // An agent whose notifications all went keeps its read mark with zero counts.
    for (agent, read_upto) in marks {
        d.notify_state.entry(agent).or_insert(NotifyState {
            read_upto,
            ..NotifyState::default()
        });
    }
    Ok(())
}
