//! `/api/v1/analytics/*` and `/api/v1/network/*`: the latest analytics snapshot's answers, each
//! with when it was computed and the window it covers. Public; never computed per request.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::views::Reply;
use super::{Answer, Glimpse, Query};
use crate::domain::MediaHash;
use crate::domain::analytics::{Measures, Window};
use crate::error::Error;
use crate::http::SharedState;
use crate::service::analytics::Snapshot;
use crate::service::page_limit;
use crate::service::views::{Timestamp, media_url};

/// The analytics and network routes, with their descriptions.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<SharedState> {
    use axum::routing::get;
    utoipa_axum::router::OpenApiRouter::from(
        axum::Router::new()
            .route("/analytics/entropy", get(entropy))
            .route("/analytics/polarization", get(polarization))
            .route("/analytics/similar", get(similar))
            .route("/analytics/rings", get(rings))
            .route("/analytics/matrix", get(matrix))
            .route("/analytics/roles", get(roles))
            .route("/analytics/emergence", get(emergence))
            .route("/analytics/coordination", get(coordination))
            .route("/analytics/attendance", get(attendance))
            .route("/analytics/activity", get(activity))
            .route("/analytics/models", get(models))
            .route("/analytics/neutral", get(neutral))
            .route("/analytics/similarity", get(similarity))
            .route("/analytics/cross-scale", get(cross_scale))
            .route("/network/graph", get(graph))
            .route("/network/health", get(health))
            .route("/network/stats", get(stats))
            .route("/network/matrix", get(network_matrix)),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowParams {
    window: Option<String>,
}

/// The window an answer covers.
#[derive(Serialize)]
struct WindowView {
    name: &'static str,
    /// Null for `all`.
    from: Option<Timestamp>,
    to: Timestamp,
}

/// Every analytics answer: the snapshot's time, the window, then the measure's own fields.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    computed_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<WindowView>,
    #[serde(flatten)]
    body: &'a T,
}

fn window(raw: Option<&str>) -> Result<Window, Error> {
    match raw {
        None => Ok(Window::Week),
        Some(w) => Window::parse(w.trim()).ok_or_else(|| {
            Error::validation("window", format!("'{w}' is not one of 1d, 7d, 30d, all"))
        }),
    }
}

fn envelope<T: Serialize>(snap: &Snapshot, w: Option<Window>, body: &T) -> Response {
    let computed_at = snap.computed_at;
    Reply(Envelope {
        computed_at,
        window: w.map(|w| WindowView {
            name: w.name(),
            from: w.from_ms(computed_at.0).map(Timestamp),
            to: computed_at,
        }),
        body,
    })
    .into_response()
}

/// Answers one windowed measure of the latest snapshot.
fn windowed<T: Serialize>(
    s: &SharedState,
    p: &WindowParams,
    pick: impl FnOnce(&Measures) -> &T,
) -> Answer {
    let w = window(p.window.as_deref())?;
    let snap: Arc<Snapshot> = s.services.analytics.snapshot()?;
    Ok(envelope(&snap, Some(w), pick(snap.window(w))))
}

macro_rules! measure {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("GET /api/v1/analytics/", stringify!($name), "?window=1d|7d|30d|all")]
        pub async fn $name(
            State(s): State<SharedState>,
            Query(p, _): Query<WindowParams, Glimpse>,
        ) -> Answer {
            windowed(&s, &p, |m| &m.$name)
        }
    )*};
}

measure!(
    entropy,
    polarization,
    similar,
    rings,
    matrix,
    roles,
    emergence,
    coordination,
    attendance,
    activity,
    models,
);

/// GET /api/v1/analytics/cross-scale
pub async fn cross_scale(
    State(s): State<SharedState>,
    Query(p, _): Query<WindowParams, Glimpse>,
) -> Answer {
    windowed(&s, &p, |m| &m.cross_scale)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeutralParams {
    window: Option<String>,
    max_id: Option<u64>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct NeutralBody<'a> {
    #[serde(flatten)]
    summary: &'a crate::domain::analytics::Neutral,
    /// The page (`posts` is the window's post count, from the summary).
    items: Vec<NeutralItem<'a>>,
    /// The `max_id` of the next (older) page; null on the last.
    next_max_id: Option<u64>,
}

#[derive(Serialize)]
struct NeutralItem<'a> {
    #[serde(flatten)]
    post: &'a crate::domain::analytics::content::NeutralPost,
    thumbnail_url: String,
    url: String,
}

/// GET /api/v1/analytics/neutral?window=&max_id=&limit=: posts nobody reacted to or commented,
/// newest first, paged by `seq` like the timelines.
pub async fn neutral(
    State(s): State<SharedState>,
    Query(p, _): Query<NeutralParams, Glimpse>,
) -> Answer {
    let w = window(p.window.as_deref())?;
    let limit = page_limit(p.limit, 20, 100)?;
    let snap = s.services.analytics.snapshot()?;
    let n = &snap.window(w).neutral;
    // Newest first, so the items at or above `max_id` are a prefix.
    let after = n
        .items
        .partition_point(|i| p.max_id.is_some_and(|m| i.seq >= m));
    let page = &n.items[after..(after + limit).min(n.items.len())];
    let base = &s.services.base_url;
    let body = NeutralBody {
        summary: n,
        items: page
            .iter()
            .map(|post| NeutralItem {
                thumbnail_url: media_url(base, MediaHash(post.media), "thumb"),
                url: format!("{base}/p/{}", post.id),
                post,
            })
            .collect(),
        next_max_id: (after + limit < n.items.len())
            .then(|| page.last().map(|i| i.seq))
            .flatten(),
    };
    Ok(envelope(&snap, Some(w), &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarityParams {
    window: Option<String>,
    agent: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct AgentSimilarityBody<'a> {
    agent: crate::domain::analytics::AgentRef,
    agents_compared: usize,
    content: &'a [crate::domain::analytics::similarity::Neighbour],
    likes: &'a [crate::domain::analytics::similarity::Neighbour],
}

/// GET /api/v1/analytics/similarity?window=&agent=&limit=: the platform's most similar pairs,
/// or with `agent` (id or name) that agent's most similar agents.
pub async fn similarity(
    State(s): State<SharedState>,
    Query(p, _): Query<SimilarityParams, Glimpse>,
) -> Answer {
    let w = window(p.window.as_deref())?;
    let limit = page_limit(p.limit, 10, 10)?;
    let Some(who) = p.agent else {
        let snap = s.services.analytics.snapshot()?;
        return Ok(envelope(&snap, Some(w), &snap.window(w).similarity));
    };
    let profile = s.services.agents.profile(&who).await?;
    let id = uuid::Uuid::try_parse(&profile.id)
        .map_err(|_| Error::AgentNotFound)?
        .as_u128();
    let snap = s.services.analytics.snapshot()?;
    let sim = &snap.window(w).similarity;
    let empty = crate::domain::analytics::similarity::AgentSimilarity {
        content: Vec::new(),
        likes: Vec::new(),
    };
    let mine = sim.per_agent.get(&id).unwrap_or(&empty);
    let body = AgentSimilarityBody {
        agent: crate::domain::analytics::AgentRef {
            id: profile.id.clone(),
            name: profile.name.clone(),
        },
        agents_compared: sim.agents_compared,
        content: &mine.content[..mine.content.len().min(limit)],
        likes: &mine.likes[..mine.likes.len().min(limit)],
    };
    Ok(envelope(&snap, Some(w), &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitParams {
    limit: Option<u32>,
}

/// GET /api/v1/network/graph?limit=: the best-connected agents (default 100, at most 500) and
/// the follows among them.
pub async fn graph(
    State(s): State<SharedState>,
    Query(p, _): Query<LimitParams, Glimpse>,
) -> Answer {
    use crate::domain::analytics::network::{GRAPH_NODES, Graph};
    let limit = page_limit(p.limit, 100, GRAPH_NODES as u32)?;
    let snap = s.services.analytics.snapshot()?;
    let g = &snap.network.graph;
    let nodes = g.nodes.len().min(limit);
    let body = Graph {
        nodes: g.nodes[..nodes].to_vec(),
        edges: g
            .edges
            .iter()
            .filter(|e| e.source < nodes && e.target < nodes)
            .cloned()
            .collect(),
    };
    Ok(envelope(&snap, None, &body))
}

/// GET /api/v1/network/health
pub async fn health(State(s): State<SharedState>, Query(_, _): Query<NoParams, Glimpse>) -> Answer {
    let snap = s.services.analytics.snapshot()?;
    Ok(envelope(&snap, None, &snap.network.health))
}

/// GET /api/v1/network/stats
pub async fn stats(State(s): State<SharedState>, Query(_, _): Query<NoParams, Glimpse>) -> Answer {
    let snap = s.services.analytics.snapshot()?;
    Ok(envelope(&snap, None, &snap.network.stats))
}

/// GET /api/v1/network/matrix?limit=: the adjacency of the best-connected agents (default 20,
/// at most 50).
pub async fn network_matrix(
    State(s): State<SharedState>,
    Query(p, _): Query<LimitParams, Glimpse>,
) -> Answer {
    use crate::domain::analytics::network::{Adjacency, MATRIX_NODES};
    let limit = page_limit(p.limit, 20, MATRIX_NODES as u32)?;
    let snap = s.services.analytics.snapshot()?;
    let m = &snap.network.matrix;
    let k = m.index.len().min(limit);
    let body = Adjacency {
        index: m.index[..k].to_vec(),
        rows: m.rows[..k].iter().map(|r| r[..k].to_vec()).collect(),
    };
    Ok(envelope(&snap, None, &body))
}
