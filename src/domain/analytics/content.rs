//! Measures of what is posted: diversity (entropy), hashtag cascades, generation models, and
//! posts nobody touched. Near-duplicate images are in `duplicates.rs`.

use std::collections::HashMap;

use serde::Serialize;

use super::{AgentRef, Cut, HOUR_MS, entropy_bits, ratio, round};

/// How many classes an entropy dimension lists.
const TOP_CLASSES: usize = 10;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsEntropy)]
pub struct Entropy {
    pub units: &'static str,
    /// Posts published in the window.
    pub posts: u64,
    pub categories: Dimension,
    pub hashtags: Dimension,
    pub models: Dimension,
}

/// The entropy of one distribution of posts over classes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsDimension)]
pub struct Dimension {
    /// What is counted: posts for categories and models, hashtag uses for hashtags (a post
    /// with three tags counts once for each).
    pub total: u64,
    pub distinct: usize,
    /// `H = -Σ p·log2 p` over the classes' shares.
    pub entropy_bits: f64,
    /// `log2(distinct)`: the entropy were every class equally used.
    pub max_bits: f64,
    /// `H / max_bits` (0 with fewer than two classes).
    pub normalized: f64,
    pub top: Vec<Class>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsClass)]
pub struct Class {
    pub value: String,
    pub count: u64,
    pub share: f64,
}

fn dimension(counts: HashMap<String, u64>) -> Dimension {
    let total: u64 = counts.values().sum();
    let distinct = counts.len();
    let (h, normalized) = entropy_bits(counts.values().copied());
    let mut top: Vec<(String, u64)> = counts.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(TOP_CLASSES);
    Dimension {
        total,
        distinct,
        entropy_bits: round(h),
        max_bits: round(if distinct > 1 {
            (distinct as f64).log2()
        } else {
            0.0
        }),
        normalized: round(normalized),
        top: top
            .into_iter()
            .map(|(value, count)| Class {
                value,
                count,
                share: round(count as f64 / total.max(1) as f64),
            })
            .collect(),
    }
}

/// The name a post without a generation model is counted under.
pub const UNSPECIFIED_MODEL: &str = "unspecified";

fn model_name(cut: &Cut, model: u32) -> String {
    match cut.s.models[model as usize].as_str() {
        "" => UNSPECIFIED_MODEL.to_owned(),
        m => m.to_owned(),
    }
}

pub fn entropy(cut: &Cut) -> Entropy {
    let (mut categories, mut tags, mut models) = (HashMap::new(), HashMap::new(), HashMap::new());
    let mut posts = 0;
    for (_, p) in cut.posts() {
        posts += 1;
        *categories
            .entry(p.category.as_str().to_owned())
            .or_default() += 1;
        *models.entry(model_name(cut, p.model)).or_default() += 1;
        for &t in &p.tags {
            *tags.entry(cut.s.tags[t as usize].clone()).or_default() += 1;
        }
    }
    Entropy {
        units: "bits",
        posts,
        categories: dimension(categories),
        hashtags: dimension(tags),
        models: dimension(models),
    }
}

/// Adoptions more than this far apart belong to different cascades.
pub const CASCADE_GAP_MS: i64 = 24 * HOUR_MS;
/// A cascade has at least this many adopting agents.
pub const CASCADE_MIN_ADOPTERS: usize = 3;
const CASCADES: usize = 30;
const CURVE_POINTS: usize = 50;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsEmergence)]
pub struct Emergence {
    pub gap_hours: i64,
    pub min_adopters: usize,
    pub cascade_count: usize,
    /// The widest cascades first.
    pub cascades: Vec<Cascade>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsCascade)]
pub struct Cascade {
    pub tag: String,
    pub first_user: AgentRef,
    pub started_at: crate::service::views::Timestamp,
    /// Distinct agents that adopted the tag in this cascade.
    pub adopters: usize,
    pub duration_hours: f64,
    /// `(adopters − 1) / duration` in agents per hour (a duration under a minute counts as a
    /// minute).
    pub adopters_per_hour: f64,
    /// Whether this is the tag's first use on the platform (not a revival).
    pub new_tag: bool,
    /// Cumulative adopters by time since the start (at most 50 points; always the last).
    pub curve: Vec<CurvePoint>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsCurvePoint)]
pub struct CurvePoint {
    pub minutes: f64,
    pub adopters: usize,
}

/// Hashtag adoption cascades: for each tag, each agent's first use of it (over all time) in
/// time order, split into runs where consecutive adoptions are at most [`CASCADE_GAP_MS`]
/// apart; a run with at least [`CASCADE_MIN_ADOPTERS`] agents that starts inside the window is
/// a cascade.
pub fn emergence(cut: &Cut) -> Emergence {
    let s = cut.s;
    let mut first_use: HashMap<(u32, u32), i64> = HashMap::new();
    for p in &s.posts {
        for &t in &p.tags {
            let e = first_use.entry((t, p.agent)).or_insert(p.created_ms);
            *e = (*e).min(p.created_ms);
        }
    }
    let mut by_tag: HashMap<u32, Vec<(i64, u32)>> = HashMap::new();
    for ((tag, agent), at) in first_use {
        by_tag.entry(tag).or_default().push((at, agent));
    }
    let mut cascades = Vec::new();
    for (tag, mut adoptions) in by_tag {
        adoptions.sort_unstable();
        let mut start = 0;
        for i in 1..=adoptions.len() {
            let split =
                i == adoptions.len() || adoptions[i].0 - adoptions[i - 1].0 > CASCADE_GAP_MS;
            if !split {
                continue;
            }
            let run = &adoptions[start..i];
            if run.len() >= CASCADE_MIN_ADOPTERS && cut.holds(run[0].0) {
                cascades.push(cascade(cut, tag, run, start == 0));
            }
            start = i;
        }
    }
    cascades.sort_by(|a, b| {
        b.adopters
            .cmp(&a.adopters)
            .then(b.adopters_per_hour.total_cmp(&a.adopters_per_hour))
            .then_with(|| a.tag.cmp(&b.tag))
    });
    let cascade_count = cascades.len();
    cascades.truncate(CASCADES);
    Emergence {
        gap_hours: CASCADE_GAP_MS / HOUR_MS,
        min_adopters: CASCADE_MIN_ADOPTERS,
        cascade_count,
        cascades,
    }
}

fn cascade(cut: &Cut, tag: u32, run: &[(i64, u32)], new_tag: bool) -> Cascade {
    let t0 = run[0].0;
    let last = run[run.len() - 1].0;
    let hours = (last - t0) as f64 / HOUR_MS as f64;
    let step = run.len().div_ceil(CURVE_POINTS).max(1);
    let mut curve: Vec<CurvePoint> = (0..run.len())
        .filter(|i| (i + 1) % step == 0 || i + 1 == run.len())
        .map(|i| CurvePoint {
            minutes: round((run[i].0 - t0) as f64 / 60_000.0),
            adopters: i + 1,
        })
        .collect();
    curve.dedup_by_key(|p| p.adopters);
    Cascade {
        tag: cut.s.tags[tag as usize].clone(),
        first_user: cut.agent(run[0].1),
        started_at: crate::service::views::Timestamp(t0),
        adopters: run.len(),
        duration_hours: round(hours),
        adopters_per_hour: round((run.len() - 1) as f64 / hours.max(1.0 / 60.0)),
        new_tag,
        curve,
    }
}

const MODELS: usize = 50;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsModels)]
pub struct Models {
    /// Posts published in the window.
    pub posts: u64,
    /// The most used models first.
    pub models: Vec<ModelUsage>,
}

/// One generation model's posts in the window, with the reactions they have now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsModelUsage)]
pub struct ModelUsage {
    pub model: String,
    pub posts: u64,
    pub share: f64,
    /// Distinct agents that posted with it.
    pub agents: usize,
    pub likes: u64,
    pub dislikes: u64,
    pub comments: u64,
    pub likes_per_post: f64,
    pub dislikes_per_post: f64,
    pub comments_per_post: f64,
    /// `likes / (likes + dislikes)`; null with no votes.
    pub like_ratio: Option<f64>,
}

pub fn models(cut: &Cut) -> Models {
    #[derive(Default)]
    struct Acc {
        posts: u64,
        agents: Vec<u32>,
        likes: u64,
        dislikes: u64,
        comments: u64,
    }
    let mut by: HashMap<u32, Acc> = HashMap::new();
    let mut total = 0;
    for (_, p) in cut.posts() {
        total += 1;
        let a = by.entry(p.model).or_default();
        a.posts += 1;
        a.agents.push(p.agent);
        a.likes += u64::from(p.likes);
        a.dislikes += u64::from(p.dislikes);
        a.comments += u64::from(p.comments);
    }
    let mut models: Vec<ModelUsage> = by
        .into_iter()
        .map(|(m, mut a)| {
            a.agents.sort_unstable();
            a.agents.dedup();
            let per = |x: u64| round(x as f64 / a.posts as f64);
            ModelUsage {
                model: model_name(cut, m),
                posts: a.posts,
                share: round(a.posts as f64 / total as f64),
                agents: a.agents.len(),
                likes: a.likes,
                dislikes: a.dislikes,
                comments: a.comments,
                likes_per_post: per(a.likes),
                dislikes_per_post: per(a.dislikes),
                comments_per_post: per(a.comments),
                like_ratio: ratio(a.likes as f64, (a.likes + a.dislikes) as f64),
            }
        })
        .collect();
    models.sort_by(|a, b| b.posts.cmp(&a.posts).then_with(|| a.model.cmp(&b.model)));
    models.truncate(MODELS);
    Models {
        posts: total,
        models,
    }
}

/// How many untouched posts a window keeps for listing (the newest; `total` counts them all).
pub const NEUTRAL_KEPT: usize = 10_000;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsNeutral)]
pub struct Neutral {
    /// Posts published in the window.
    pub posts: u64,
    /// Of them, the posts with no like, dislike or comment when the snapshot was built.
    pub total: u64,
    pub share: Option<f64>,
    /// Newest first (at most [`NEUTRAL_KEPT`]); the endpoint pages them.
    #[serde(skip)]
    pub items: Vec<NeutralPost>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsNeutralPost)]
pub struct NeutralPost {
    pub id: String,
    pub seq: u64,
    pub agent: AgentRef,
    pub created_at: crate::service::views::Timestamp,
    #[serde(skip)]
    pub media: [u8; 32],
}

pub fn neutral(cut: &Cut) -> Neutral {
    let mut posts = 0;
    let mut untouched: Vec<u32> = Vec::new();
    for (i, p) in cut.posts() {
        posts += 1;
        if p.likes == 0 && p.dislikes == 0 && p.comments == 0 {
            untouched.push(i);
        }
    }
    let total = untouched.len() as u64;
    Neutral {
        posts,
        total,
        share: ratio(total as f64, posts as f64),
        items: untouched
            .iter()
            .rev()
            .take(NEUTRAL_KEPT)
            .map(|&i| {
                let p = &cut.s.posts[i as usize];
                NeutralPost {
                    id: uuid::Uuid::from_u128(p.id).to_string(),
                    seq: p.seq,
                    agent: cut.agent(p.agent),
                    created_at: crate::service::views::Timestamp(p.created_ms),
                    media: p.media,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Builder, T0};
    use super::super::{DAY_MS, Window};
    use super::*;

    #[test]
    fn entropy_counts_posts_over_classes() {
        let mut b = Builder::new();
        b.agents(1);
        let at = b.0.now_ms - 1000;
        for t in ["a", "b", "c", "d"] {
            b.post(0, at, &[t], "m1");
        }
        b.post(0, at, &["a"], "");
        let e = entropy(&Cut::new(&b.0, Window::Day));
        assert_eq!(e.posts, 5);
        // Tags 2/5, 1/5, 1/5, 1/5.
        let want = -(0.4f64 * 0.4f64.log2()) - 3.0 * (0.2 * 0.2f64.log2());
        assert!((e.hashtags.entropy_bits - want).abs() < 1e-5);
        assert_eq!(e.hashtags.distinct, 4);
        assert_eq!(e.hashtags.top[0].value, "a");
        // Models 4/5 and 1/5, the empty one counted as unspecified.
        assert_eq!(e.models.distinct, 2);
        assert!(e.models.top.iter().any(|c| c.value == UNSPECIFIED_MODEL));
        assert_eq!(e.categories.entropy_bits, 0.0);
    }

    #[test]
    fn a_hashtag_cascade_is_found_and_a_slow_tag_is_not() {
        let mut b = Builder::new();
        b.agents(6);
        let t = b.0.now_ms - 2 * DAY_MS;
        // #wave: five agents within an hour.
        for (i, agent) in [2, 0, 1, 3, 4].into_iter().enumerate() {
            b.post(agent, t + i as i64 * 15 * 60_000, &["wave"], "");
        }
        // #slow: three agents, two days apart each.
        for agent in 0..3 {
            b.post(agent, T0 + agent as i64 * 2 * DAY_MS, &["slow"], "");
        }
        // #solo: used often, by one agent.
        for k in 0..5 {
            b.post(5, t + k, &["solo"], "");
        }
        let e = emergence(&Cut::new(&b.0, Window::Week));
        assert_eq!(e.cascade_count, 1);
        let c = &e.cascades[0];
        assert_eq!((c.tag.as_str(), c.adopters, c.new_tag), ("wave", 5, true));
        assert_eq!(c.first_user.name, "agent2");
        assert_eq!(c.duration_hours, 1.0);
        assert_eq!(c.adopters_per_hour, 4.0);
        assert_eq!(
            c.curve.last().map(|p| (p.minutes, p.adopters)),
            Some((60.0, 5))
        );
        // The day window does not hold its start.
        assert_eq!(emergence(&Cut::new(&b.0, Window::Day)).cascade_count, 0);
    }

    #[test]
    fn neutral_lists_exactly_the_untouched_posts() {
        let mut b = Builder::new();
        b.agents(2);
        let at = b.0.now_ms - 1000;
        let liked = b.post(0, at, &[], "");
        let quiet = b.post(0, at + 1, &[], "");
        let commented = b.post(1, at + 2, &[], "");
        let disliked = b.post(1, at + 3, &[], "");
        let quiet2 = b.post(1, at + 4, &[], "");
        b.vote(1, liked, true, at + 10)
            .comment(0, commented, at + 11)
            .vote(0, disliked, false, at + 12);
        let n = neutral(&Cut::new(&b.0, Window::Day));
        let ids: Vec<u64> = n.items.iter().map(|p| p.seq).collect();
        assert_eq!(ids, [quiet2 as u64 + 1, quiet as u64 + 1]);
        assert_eq!((n.posts, n.total), (5, 2));
    }

    #[test]
    fn models_report_rates_over_their_posts() {
        let mut b = Builder::new();
        b.agents(2);
        let at = b.0.now_ms - 1000;
        let p = b.post(0, at, &[], "flux");
        b.post(1, at, &[], "flux");
        b.post(1, at, &[], "sdxl");
        b.vote(1, p, true, at)
            .vote(0, p, false, at)
            .vote(0, 2, true, at);
        let m = models(&Cut::new(&b.0, Window::Day));
        assert_eq!(m.models[0].model, "flux");
        assert_eq!((m.models[0].posts, m.models[0].agents), (2, 2));
        assert_eq!(m.models[0].likes_per_post, 0.5);
        assert_eq!(m.models[0].like_ratio, Some(0.5));
        assert_eq!(m.models[1].like_ratio, Some(1.0));
    }
}
