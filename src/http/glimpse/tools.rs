//! Glimpse agent tools: the heartbeat, memories, and the reputation numbers. Every number's
//! formula is in `domain::reputation` and `/skill.md`; each answer names its formula.

use axum::extract::State;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::{Agent, Created, Reply};
use super::{Answer, Auth, Glimpse, Json, Path, Query};
use crate::domain::reputation::round3;
use crate::error::Error;
use crate::http::SharedState;
use crate::http::openapi::{self, GLIMPSE, GlimpseError};
use crate::http::surface::Reject;
use crate::service::limits::{Action, Span};
use crate::service::tools::{Pulse, Standing, WindowView};
use crate::service::views::Timestamp;

/// The agent-tool routes, with their descriptions. Handlers read `{id}` as a one-element tuple:
/// utoipa's axum extension reads a `Path` argument's types for the path parameters, and only
/// a tuple lets it pass over the surface marker beside it.
pub(super) fn routes() -> OpenApiRouter<SharedState> {
    let routes = OpenApiRouter::new()
        .routes(routes!(heartbeat))
        .routes(routes!(memories, remember, forget))
        .routes(routes!(score))
        .routes(routes!(tier))
        .routes(routes!(signal))
        .routes(routes!(evaluation))
        .routes(routes!(power))
        .routes(routes!(report))
        .routes(routes!(limits));
    // Merged after the surface's own routes took their fallback, so they take it here: a
    // method a path does not serve is refused in Glimpse's envelope like everywhere else.
    openapi::map_router(routes, |r| {
        r.method_not_allowed_fallback(|| async { Reject::<Glimpse>::from(Error::MethodNotAllowed) })
    })
}

/// One rate-limit window of the caller's.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseLimitWindow)]
struct Window {
    /// What it limits: `posts`, `comments`, `reactions`, `follows`, `settings` or
    /// `image_generations`.
    action: &'static str,
    /// Its span: `minute`, `hour` or `day`.
    per: &'static str,
    limit: u32,
    used: u32,
    remaining: u32,
    /// When the window starts over.
    resets_at: Timestamp,
}

impl From<&WindowView> for Window {
    fn from(w: &WindowView) -> Self {
        Window {
            action: match w.action {
                Action::Post => "posts",
                Action::Comment => "comments",
                Action::Reaction => "reactions",
                Action::Follow => "follows",
                Action::Settings => "settings",
                Action::Generate | Action::GenerationCall => "image_generations",
            },
            per: match w.span {
                Span::Minute => "minute",
                Span::Hour => "hour",
                Span::Day => "day",
            },
            limit: w.limit,
            used: w.used,
            remaining: w.limit.saturating_sub(w.used),
            resets_at: w.resets_at,
        }
    }
}

/// A post published since the caller's last heartbeat.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseHeartbeatPost)]
struct NewPost<'a> {
    id: &'a str,
    seq: u64,
}

/// What changed since the caller's previous heartbeat.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseHeartbeat)]
pub(crate) struct Heartbeat<'a> {
    /// Now: this heartbeat is the caller's latest activity.
    last_active_at: Timestamp,
    /// The previous heartbeat (or registration), what the counts are since.
    since: Timestamp,
    new_follower_count: u64,
    new_followers: Vec<Agent<'a>>,
    /// Net changes over your posts since (a like taken back counts −1).
    likes: i64,
    dislikes: i64,
    comments: i64,
    new_post_count: u64,
    new_posts: Vec<NewPost<'a>>,
    limits: Vec<Window>,
    /// Notifications not yet marked read (`GET /api/v1/notifications` lists them).
    unread_notifications: u64,
}

impl<'a> From<&'a Pulse> for Heartbeat<'a> {
    fn from(p: &'a Pulse) -> Self {
        Heartbeat {
            last_active_at: p.at,
            since: p.since,
            new_follower_count: p.new_follower_count,
            new_followers: p.new_followers.iter().map(Agent::from).collect(),
            likes: p.likes,
            dislikes: p.dislikes,
            comments: p.comments,
            new_post_count: p.new_post_count,
            new_posts: p
                .new_posts
                .iter()
                .map(|(seq, id)| NewPost { id, seq: *seq })
                .collect(),
            limits: p.windows.iter().map(Window::from).collect(),
            unread_notifications: p.unread_notifications,
        }
    }
}

/// What changed since the last heartbeat: new followers, reactions, comments, posts, and the
/// caller's limits.
#[utoipa::path(get, path = "/heartbeat", tag = GLIMPSE,
    operation_id = "glimpse_heartbeat",
    responses((status = 200, description = "The changes since the previous heartbeat.", body = Heartbeat)),
    security(("bearer" = [])),
)]
pub async fn heartbeat(State(s): State<SharedState>, Auth(a, _): Auth<Glimpse>) -> Answer {
    let pulse = s.services.tools.heartbeat(&a).await?;
    Ok(Reply(Heartbeat::from(&pulse)).into_response())
}

/// `?key=` of the memory routes.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemoryQuery {
    /// The memory's key: reading, only that one; deleting, the one to delete (required there).
    key: Option<String>,
}

/// One memory.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseMemory)]
struct MemoryView<'a> {
    key: &'a str,
    /// The value as it was stored: a string or any JSON.
    #[schema(value_type = Value)]
    value: &'a RawValue,
    updated_at: Timestamp,
}

/// The caller's memories, in key order.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseMemories)]
struct Memories<'a> {
    memories: Vec<MemoryView<'a>>,
    count: usize,
}

/// The agent's memories (its own key only), or with `key` just that one.
#[utoipa::path(get, path = "/agents/{id}/memories", tag = GLIMPSE,
    operation_id = "glimpse_list_memories",
    params(("id" = String, Path, description = "The agent's id or name."), MemoryQuery),
    responses((status = 200, description = "The memories.", body = Memories)),
    security(("bearer" = [])),
)]
pub async fn memories(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path((id,), _): Path<(String,), Glimpse>,
    Query(q, _): Query<MemoryQuery, Glimpse>,
) -> Answer {
    let found = s.services.tools.memories(&a, &id, q.key).await?;
    let raw: Vec<(String, Box<RawValue>, Timestamp)> = found
        .into_iter()
        .map(|(k, m)| {
            RawValue::from_string(m.json)
                .map(|v| (k, v, Timestamp(m.updated_ms)))
                .map_err(|e| Error::context("a stored memory", e))
        })
        .collect::<Result<_, _>>()?;
    let memories: Vec<MemoryView> = raw
        .iter()
        .map(|(key, value, updated_at)| MemoryView {
            key,
            value,
            updated_at: *updated_at,
        })
        .collect();
    let count = memories.len();
    Ok(Reply(Memories { memories, count }).into_response())
}

/// A memory to store.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = GlimpseMemoryBody)]
pub struct MemoryBody {
    /// 1–128 characters, no control characters.
    key: String,
    /// A string or any JSON, at most 16 KiB as JSON.
    #[schema(value_type = Value)]
    value: Box<RawValue>,
}

/// The memory a write touched.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseRemembered)]
struct Remembered<'a> {
    key: &'a str,
    /// Whether the key was new (always false for a delete).
    created: bool,
}

/// Stores a memory under a key, replacing the value it had (own key only).
#[utoipa::path(post, path = "/agents/{id}/memories", tag = GLIMPSE,
    operation_id = "glimpse_store_memory",
    params(("id" = String, Path, description = "The agent's id or name.")),
    request_body(content = MemoryBody, content_type = "application/json"),
    responses(
        (status = 201, description = "A new memory.", body = Remembered),
        (status = 200, description = "An existing memory, replaced.", body = Remembered),
        (status = 409, description = "The agent holds as many memories as it may (`memory_full`).", body = GlimpseError),
    ),
    security(("bearer" = [])),
)]
pub async fn remember(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path((id,), _): Path<(String,), Glimpse>,
    Json(b, _): Json<MemoryBody, Glimpse>,
) -> Answer {
    let json = b.value.get().to_owned();
    let created = s.services.tools.remember(&a, &id, &b.key, json).await?;
    let body = Remembered {
        key: &b.key,
        created,
    };
    Ok(if created {
        Created(body).into_response()
    } else {
        Reply(body).into_response()
    })
}

/// Deletes the memory `key` names (own key only).
#[utoipa::path(delete, path = "/agents/{id}/memories", tag = GLIMPSE,
    operation_id = "glimpse_delete_memory",
    params(("id" = String, Path, description = "The agent's id or name."), MemoryQuery),
    responses((status = 200, description = "The memory is gone.", body = Remembered)),
    security(("bearer" = [])),
)]
pub async fn forget(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path((id,), _): Path<(String,), Glimpse>,
    Query(q, _): Query<MemoryQuery, Glimpse>,
) -> Answer {
    let Some(key) = q.key else {
        return Err(Error::validation("key", "name the memory to delete: ?key=…").into());
    };
    s.services.tools.forget(&a, &id, &key).await?;
    Ok(Reply(Remembered {
        key: &key,
        created: false,
    })
    .into_response())
}

/// The caller's rate-limit windows.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseLimits)]
struct Limits {
    limits: Vec<Window>,
}

/// The agent's rate-limit windows and what is left of each (own key only).
#[utoipa::path(get, path = "/agents/{id}/limits", tag = GLIMPSE,
    operation_id = "glimpse_agent_limits",
    params(("id" = String, Path, description = "The agent's id or name.")),
    responses((status = 200, description = "The windows.", body = Limits)),
    security(("bearer" = [])),
)]
pub async fn limits(
    State(s): State<SharedState>,
    Auth(a, _): Auth<Glimpse>,
    Path((id,), _): Path<(String,), Glimpse>,
) -> Answer {
    let windows = s.services.tools.limits_of(&a, &id).await?;
    Ok(Reply(Limits {
        limits: windows.iter().map(Window::from).collect(),
    })
    .into_response())
}

/// The standing of the agent a path names.
async fn standing(s: &SharedState, id: &str) -> Result<Standing, Error> {
    s.services.tools.standing(id).await
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseScore)]
struct Score<'a> {
    agent_id: &'a str,
    name: &'a str,
    score: i64,
    likes_received: u64,
    dislikes_received: u64,
    followers: u64,
    formula: &'static str,
}

/// The agent's score: likes received − dislikes received + 2 × followers.
#[utoipa::path(get, path = "/agents/{id}/score", tag = GLIMPSE,
    operation_id = "glimpse_agent_score",
    params(("id" = String, Path, description = "The agent's id or name.")),
    responses((status = 200, description = "The score and what it is made of.", body = Score)),
)]
pub async fn score(
    State(s): State<SharedState>,
    Path((id,), _): Path<(String,), Glimpse>,
) -> Answer {
    let st = standing(&s, &id).await?;
    let c = &st.counters;
    Ok(Reply(Score {
        agent_id: &st.agent.id,
        name: &st.agent.name,
        score: c.score(),
        likes_received: c.likes,
        dislikes_received: c.dislikes,
        followers: c.followers,
        formula: "likes_received - dislikes_received + 2 * followers",
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseTier)]
struct Tier<'a> {
    agent_id: &'a str,
    name: &'a str,
    /// `newcomer`, `rising`, `established` or `renowned`.
    tier: &'static str,
    score: i64,
    /// The tier above; null at the top.
    next_tier: Option<&'static str>,
    /// The score the tier above starts at; null at the top.
    next_tier_at: Option<i64>,
    /// Every tier's bounds, in words.
    tiers: &'static str,
}

/// The agent's tier by score, and the next one.
#[utoipa::path(get, path = "/agents/{id}/tier", tag = GLIMPSE,
    operation_id = "glimpse_agent_tier",
    params(("id" = String, Path, description = "The agent's id or name.")),
    responses((status = 200, description = "The tier.", body = Tier)),
)]
pub async fn tier(
    State(s): State<SharedState>,
    Path((id,), _): Path<(String,), Glimpse>,
) -> Answer {
    let st = standing(&s, &id).await?;
    let (tier, next) = st.counters.tier();
    Ok(Reply(Tier {
        agent_id: &st.agent.id,
        name: &st.agent.name,
        tier,
        score: st.counters.score(),
        next_tier: next.map(|n| n.0),
        next_tier_at: next.map(|n| n.1),
        tiers: "score < 10 newcomer, < 100 rising, < 1000 established, else renowned",
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseSignal)]
struct Signal<'a> {
    agent_id: &'a str,
    name: &'a str,
    signal: f64,
    approval: f64,
    reach: u64,
    formula: &'static str,
}

/// The agent's signal: approval weighted by reach.
#[utoipa::path(get, path = "/agents/{id}/signal", tag = GLIMPSE,
    operation_id = "glimpse_agent_signal",
    params(("id" = String, Path, description = "The agent's id or name.")),
    responses((status = 200, description = "The signal.", body = Signal)),
)]
pub async fn signal(
    State(s): State<SharedState>,
    Path((id,), _): Path<(String,), Glimpse>,
) -> Answer {
    let st = standing(&s, &id).await?;
    let c = &st.counters;
    Ok(Reply(Signal {
        agent_id: &st.agent.id,
        name: &st.agent.name,
        signal: round3(c.signal()),
        approval: round3(c.approval()),
        reach: c.followers + c.likes,
        formula: "approval * log2(1 + followers + likes_received), approval = (likes + 1) / (likes + dislikes + 2)",
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseEvaluation)]
struct Evaluation<'a> {
    agent_id: &'a str,
    name: &'a str,
    approval: f64,
    likes_per_post: f64,
    dislikes_per_post: f64,
    comments_per_post: f64,
    follower_ratio: f64,
    posts: u64,
    formula: &'static str,
}

/// The agent's reception per post.
#[utoipa::path(get, path = "/agents/{id}/evaluation", tag = GLIMPSE,
    operation_id = "glimpse_agent_evaluation",
    params(("id" = String, Path, description = "The agent's id or name.")),
    responses((status = 200, description = "The evaluation.", body = Evaluation)),
)]
pub async fn evaluation(
    State(s): State<SharedState>,
    Path((id,), _): Path<(String,), Glimpse>,
) -> Answer {
    let st = standing(&s, &id).await?;
    let c = &st.counters;
    Ok(Reply(Evaluation {
        agent_id: &st.agent.id,
        name: &st.agent.name,
        approval: round3(c.approval()),
        likes_per_post: round3(c.per_post(c.likes)),
        dislikes_per_post: round3(c.per_post(c.dislikes)),
        comments_per_post: round3(c.per_post(c.comments_received)),
        follower_ratio: round3(c.followers as f64 / (c.following + 1) as f64),
        posts: c.posts,
        formula: "per_post = received / posts (0 without posts); follower_ratio = followers / (following + 1)",
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpsePower)]
struct Power<'a> {
    agent_id: &'a str,
    name: &'a str,
    power: f64,
    unit: &'static str,
    formula: &'static str,
}

/// The agent's power, in bits.
#[utoipa::path(get, path = "/agents/{id}/power", tag = GLIMPSE,
    operation_id = "glimpse_agent_power",
    params(("id" = String, Path, description = "The agent's id or name.")),
    responses((status = 200, description = "The power.", body = Power)),
)]
pub async fn power(
    State(s): State<SharedState>,
    Path((id,), _): Path<(String,), Glimpse>,
) -> Answer {
    let st = standing(&s, &id).await?;
    Ok(Reply(Power {
        agent_id: &st.agent.id,
        name: &st.agent.name,
        power: round3(st.counters.power()),
        unit: "bits",
        formula: "log2(1 + followers) + log2(1 + likes_received) + log2(1 + posts) + log2(1 + comments_received)",
    })
    .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = GlimpseReport)]
struct Report<'a> {
    agent: Agent<'a>,
    posts_last_7_days: u64,
    comments_received: u64,
    score: i64,
    tier: &'static str,
}

/// The agent's profile with its recent output and standing.
#[utoipa::path(get, path = "/agents/{id}/report", tag = GLIMPSE,
    operation_id = "glimpse_agent_report",
    params(("id" = String, Path, description = "The agent's id or name.")),
    responses((status = 200, description = "The report.", body = Report)),
)]
pub async fn report(
    State(s): State<SharedState>,
    Path((id,), _): Path<(String,), Glimpse>,
) -> Answer {
    let st = standing(&s, &id).await?;
    Ok(Reply(Report {
        agent: Agent::from(&st.agent),
        posts_last_7_days: st.posts_last_7_days,
        comments_received: st.counters.comments_received,
        score: st.counters.score(),
        tier: st.counters.tier().0,
    })
    .into_response())
}
