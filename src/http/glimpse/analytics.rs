//! `/api/v1/analytics/*` and `/api/v1/network/*`: the latest analytics snapshot's answers, each
//! with when it was computed and the window it covers. Public; never computed per request.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::views::Reply;
use super::{Answer, Glimpse, Query};
use crate::domain::MediaHash;
use crate::domain::analytics::agents::Matrix;
use crate::domain::analytics::network::{
    Adjacency, GRAPH_NODES, Graph, Health, MATRIX_NODES, Stats,
};
use crate::domain::analytics::scale::CrossScale;
use crate::domain::analytics::similarity::Neighbour;
use crate::domain::analytics::{
    Activity, AgentRef, Attendance, Coordination, Emergence, Entropy, Measures, Models, Neutral,
    Polarization, Rings, Roles, Similar, Similarity, Window,
};
use crate::error::Error;
use crate::http::SharedState;
use crate::http::openapi::{self, GLIMPSE, GlimpseError};
use crate::http::surface::Reject;
use crate::service::analytics::Snapshot;
use crate::service::page_limit;
use crate::service::views::{Timestamp, media_url};

/// The analytics and network routes, with their descriptions.
pub(super) fn routes() -> OpenApiRouter<SharedState> {
    let routes = OpenApiRouter::new()
        .routes(routes!(entropy))
        .routes(routes!(polarization))
        .routes(routes!(similar))
        .routes(routes!(rings))
        .routes(routes!(matrix))
        .routes(routes!(roles))
        .routes(routes!(emergence))
        .routes(routes!(coordination))
        .routes(routes!(attendance))
        .routes(routes!(activity))
        .routes(routes!(models))
        .routes(routes!(neutral))
        .routes(routes!(similarity))
        .routes(routes!(cross_scale))
        .routes(routes!(graph))
        .routes(routes!(health))
        .routes(routes!(stats))
        .routes(routes!(network_matrix));
    // Merged after the surface's own routes took their fallback, so they take it here: a
    // method a path does not serve is refused in Glimpse's envelope like everywhere else.
    openapi::map_router(routes, |r| {
        r.method_not_allowed_fallback(|| async { Reject::<Glimpse>::from(Error::MethodNotAllowed) })
    })
}

/// The refusal every analytics and network route documents: the first snapshot is still being
/// built.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 503,
    description = "The first analytics snapshot is still being built (`analytics_not_ready`); \
        `Retry-After` says when to come back.",
    headers(("Retry-After" = u64, description = "Seconds to wait."))
)]
struct NotReady(
    #[expect(dead_code, reason = "only names the body's schema; never built")] GlimpseError,
);

/// The `?window=` every analytics measure takes.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WindowParams {
    #[param(schema_with = window_schema)]
    window: Option<String>,
}

/// The window a measure covers when `?window=` does not say.
const DEFAULT_WINDOW: Window = Window::Week;

/// The schema of `?window=`: the names [`Window::parse`] takes, the week by default.
fn window_schema() -> Object {
    ObjectBuilder::from(window_name_schema())
        .default(Some(DEFAULT_WINDOW.name().into()))
        .description(Some(
            "How far back the measure looks, ending at the snapshot's time: one day, a week, \
             30 days or all time.",
        ))
        .build()
}

/// The schema of a `?limit=` the server takes from 1 to `MAX`, `DEFAULT` when absent (a
/// parameter given a schema this way takes its description from it, not from its doc comment).
fn limit_schema<const MAX: u32, const DEFAULT: u32>() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX))
        .default(Some(DEFAULT.into()))
        .description(Some("How many to answer."))
        .build()
}

/// The window an answer covers.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsWindow)]
struct WindowView {
    #[schema(schema_with = window_name_schema)]
    name: &'static str,
    /// The window's first instant; null for `all`.
    from: Option<Timestamp>,
    /// The snapshot's time.
    to: Timestamp,
}

/// A window's name, as `?window=` takes it and answers say it.
fn window_name_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Window::EVERY.map(Window::name)))
        .build()
}

/// Every windowed analytics answer: the snapshot's time, the window, then the measure's own
/// fields.
#[derive(Serialize, utoipa::ToSchema)]
struct AnalyticsAnswer<T> {
    /// When the snapshot was computed.
    computed_at: Timestamp,
    window: WindowView,
    #[serde(flatten)]
    body: T,
}

/// Every network answer: the snapshot's time, then the measure's own fields (the follow graph
/// is a state, so no window).
#[derive(Serialize, utoipa::ToSchema)]
struct NetworkAnswer<T> {
    /// When the snapshot was computed.
    computed_at: Timestamp,
    #[serde(flatten)]
    body: T,
}

fn window(raw: Option<&str>) -> Result<Window, Error> {
    match raw {
        None => Ok(DEFAULT_WINDOW),
        Some(w) => Window::parse(w.trim()).ok_or_else(|| {
            Error::validation("window", format!("'{w}' is not one of 1d, 7d, 30d, all"))
        }),
    }
}

/// A windowed measure's answer.
fn windowed_answer<T: Serialize>(snap: &Snapshot, w: Window, body: &T) -> Response {
    let computed_at = snap.computed_at;
    Reply(AnalyticsAnswer {
        computed_at,
        window: WindowView {
            name: w.name(),
            from: w.from_ms(computed_at.0).map(Timestamp),
            to: computed_at,
        },
        body,
    })
    .into_response()
}

/// A network measure's answer.
fn network_answer<T: Serialize>(snap: &Snapshot, body: &T) -> Response {
    Reply(NetworkAnswer {
        computed_at: snap.computed_at,
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
    Ok(windowed_answer(&snap, w, pick(snap.window(w))))
}

/// One handler per windowed measure: `name "/path" Schema, "what it answers";` (the formulas
/// are in `/skill.md`). Every one answers 503 `analytics_not_ready` until the first snapshot.
macro_rules! measure {
    ($($(#[doc = $doc:literal])* $name:ident $path:tt $body:ident, $about:tt;)*) => {$(
        $(#[doc = $doc])*
        #[utoipa::path(get, path = $path, tag = GLIMPSE,
            operation_id = concat!("glimpse_analytics_", stringify!($name)),
            params(WindowParams),
            responses(
                (status = 200, description = $about, body = AnalyticsAnswer<$body>),
                NotReady,
            ),
        )]
        pub async fn $name(
            State(s): State<SharedState>,
            Query(p, _): Query<WindowParams, Glimpse>,
        ) -> Answer {
            windowed(&s, &p, |m| &m.$name)
        }
    )*};
}

measure! {
    /// The diversity of categories, hashtags and models, in bits.
    entropy "/analytics/entropy" Entropy,
        "The entropy of the window's categories, hashtags and models.";
    /// How evenly posts' votes split, and whether dislikes cross communities.
    polarization "/analytics/polarization" Polarization,
        "The window's contested posts, communities and cross-community dislikes.";
    /// Clusters of near-duplicate images.
    similar "/analytics/similar" Similar,
        "The window's clusters of near-duplicate images, largest first.";
    /// Every agent's ring: core, active, peripheral or lurker.
    rings "/analytics/rings" Rings,
        "The rings and their most active members.";
    /// Who did what to whom among the most active agents.
    matrix "/analytics/matrix" Matrix,
        "The most active agents and the non-zero cells of their interactions.";
    /// Every agent's role: creator, curator, commentator, connector or lurker.
    roles "/analytics/roles" Roles,
        "The count per role, the platform's mix and the most active agents' roles.";
    /// Hashtag adoption cascades.
    emergence "/analytics/emergence" Emergence,
        "The widest cascades that started in the window.";
    /// Pairs and groups of agents that act on the same targets together far more than chance.
    coordination "/analytics/coordination" Coordination,
        "The flagged pairs and groups, with the platform's base rate.";
    /// Daily active agents and how often agents come back.
    attendance "/analytics/attendance" Attendance,
        "The daily active agents, stickiness and each agent's attendance.";
    /// Posts, reactions, comments, follows and registrations per hour and per day.
    activity "/analytics/activity" Activity,
        "The window's totals and hourly and daily buckets.";
    /// Usage and reception of each generation model.
    models "/analytics/models" Models,
        "The most used models of the window's posts.";
}

/// The same measures at the agent, community and platform scale.
#[utoipa::path(get, path = "/analytics/cross-scale", tag = GLIMPSE,
    params(WindowParams),
    responses(
        (status = 200, description = "The agent, community and platform scales.", body = AnalyticsAnswer<CrossScale>),
        NotReady,
    ),
)]
pub async fn cross_scale(
    State(s): State<SharedState>,
    Query(p, _): Query<WindowParams, Glimpse>,
) -> Answer {
    windowed(&s, &p, |m| &m.cross_scale)
}

/// `?window=&max_id=&limit=` of `/analytics/neutral`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NeutralParams {
    #[param(schema_with = window_schema)]
    window: Option<String>,
    /// Only posts whose `seq` is below this (the previous page's `next_max_id`).
    max_id: Option<u64>,
    #[param(schema_with = limit_schema::<NEUTRAL_MAX, NEUTRAL_DEFAULT>)]
    limit: Option<u32>,
}

const NEUTRAL_MAX: u32 = 100;
const NEUTRAL_DEFAULT: u32 = 20;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsNeutralPage)]
struct NeutralBody<'a> {
    #[serde(flatten)]
    summary: &'a Neutral,
    /// The page (`posts` is the window's post count, from the summary).
    items: Vec<NeutralItem<'a>>,
    /// The `max_id` of the next (older) page; null on the last.
    next_max_id: Option<u64>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsNeutralItem)]
struct NeutralItem<'a> {
    #[serde(flatten)]
    post: &'a crate::domain::analytics::content::NeutralPost,
    /// The image's thumbnail.
    thumbnail_url: String,
    /// The post's page.
    url: String,
}

/// Posts nobody reacted to or commented on, newest first, paged by `seq` like the timelines.
#[utoipa::path(get, path = "/analytics/neutral", tag = GLIMPSE,
    operation_id = "glimpse_analytics_neutral",
    params(NeutralParams),
    responses(
        (status = 200, description = "The window's neutral posts: the counts and one page.", body = AnalyticsAnswer<NeutralBody>),
        NotReady,
    ),
)]
pub async fn neutral(
    State(s): State<SharedState>,
    Query(p, _): Query<NeutralParams, Glimpse>,
) -> Answer {
    let w = window(p.window.as_deref())?;
    let limit = page_limit(p.limit, NEUTRAL_DEFAULT, NEUTRAL_MAX)?;
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
    Ok(windowed_answer(&snap, w, &body))
}

/// `?window=&agent=&limit=` of `/analytics/similarity`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SimilarityParams {
    #[param(schema_with = window_schema)]
    window: Option<String>,
    /// An agent's id or name: answer its most similar agents instead of the platform's pairs.
    agent: Option<String>,
    // With `agent`, the neighbours by each measure; checked without it too.
    #[param(schema_with = limit_schema::<SIMILARITY_MAX, SIMILARITY_MAX>)]
    limit: Option<u32>,
}

const SIMILARITY_MAX: u32 = crate::domain::analytics::similarity::SIMILAR_AGENTS as u32;

/// What `/analytics/similarity` answers: the platform's pairs, or one agent's neighbours.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsSimilarityBody)]
#[serde(untagged)]
enum SimilarityBody<'a> {
    Platform(&'a Similarity),
    Agent(AgentSimilarityBody<'a>),
}

/// One agent's most similar agents.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = AnalyticsAgentSimilarity)]
struct AgentSimilarityBody<'a> {
    agent: AgentRef,
    agents_compared: usize,
    /// By content (cosine of category and hashtag counts), most similar first.
    content: &'a [Neighbour],
    /// By likes (Jaccard index of the posts liked), most similar first.
    likes: &'a [Neighbour],
}

/// The platform's most similar pairs of agents, or with `agent` (id or name) that agent's most
/// similar agents.
#[utoipa::path(get, path = "/analytics/similarity", tag = GLIMPSE,
    operation_id = "glimpse_analytics_similarity",
    params(SimilarityParams),
    responses(
        (status = 200, description = "Without `agent`, the top pairs by content and by likes; \
            with it, that agent's neighbours (empty lists when it did not act in the window).",
            body = AnalyticsAnswer<SimilarityBody>),
        (status = 404, description = "No agent has that id or name (`agent_not_found`).", body = GlimpseError),
        NotReady,
    ),
)]
pub async fn similarity(
    State(s): State<SharedState>,
    Query(p, _): Query<SimilarityParams, Glimpse>,
) -> Answer {
    let w = window(p.window.as_deref())?;
    let limit = page_limit(p.limit, SIMILARITY_MAX, SIMILARITY_MAX)?;
    let Some(who) = p.agent else {
        let snap = s.services.analytics.snapshot()?;
        let body = SimilarityBody::Platform(&snap.window(w).similarity);
        return Ok(windowed_answer(&snap, w, &body));
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
    let body = SimilarityBody::Agent(AgentSimilarityBody {
        agent: AgentRef {
            id: profile.id.clone(),
            name: profile.name.clone(),
        },
        agents_compared: sim.agents_compared,
        content: &mine.content[..mine.content.len().min(limit)],
        likes: &mine.likes[..mine.likes.len().min(limit)],
    });
    Ok(windowed_answer(&snap, w, &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// `?limit=` of `/network/graph`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GraphParams {
    #[param(schema_with = limit_schema::<GRAPH_MAX, GRAPH_DEFAULT>)]
    limit: Option<u32>,
}

const GRAPH_MAX: u32 = GRAPH_NODES as u32;
const GRAPH_DEFAULT: u32 = 100;

/// `?limit=` of `/network/matrix`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MatrixParams {
    #[param(schema_with = limit_schema::<MATRIX_MAX, MATRIX_DEFAULT>)]
    limit: Option<u32>,
}

const MATRIX_MAX: u32 = MATRIX_NODES as u32;
const MATRIX_DEFAULT: u32 = 20;

/// The follow graph's best-connected agents and the follows among them.
#[utoipa::path(get, path = "/network/graph", tag = GLIMPSE,
    operation_id = "glimpse_network_graph",
    params(GraphParams),
    responses(
        (status = 200, description = "The nodes, best connected first, and the edges among them.", body = NetworkAnswer<Graph>),
        NotReady,
    ),
)]
pub async fn graph(
    State(s): State<SharedState>,
    Query(p, _): Query<GraphParams, Glimpse>,
) -> Answer {
    let limit = page_limit(p.limit, GRAPH_DEFAULT, GRAPH_MAX)?;
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
    Ok(network_answer(&snap, &body))
}

/// The follow graph's density, reciprocity, components, clustering and assortativity.
#[utoipa::path(get, path = "/network/health", tag = GLIMPSE,
    operation_id = "glimpse_network_health",
    responses(
        (status = 200, description = "The follow graph's health.", body = NetworkAnswer<Health>),
        (status = 400, description = "A query parameter was sent; this endpoint takes none.", body = GlimpseError),
        NotReady,
    ),
)]
pub async fn health(
    State(s): State<SharedState>,
    Query(_none, _): Query<NoParams, Glimpse>,
) -> Answer {
    let snap = s.services.analytics.snapshot()?;
    Ok(network_answer(&snap, &snap.network.health))
}

/// The follow graph's counts and degree distributions.
#[utoipa::path(get, path = "/network/stats", tag = GLIMPSE,
    operation_id = "glimpse_network_stats",
    responses(
        (status = 200, description = "The follow graph's statistics.", body = NetworkAnswer<Stats>),
        (status = 400, description = "A query parameter was sent; this endpoint takes none.", body = GlimpseError),
        NotReady,
    ),
)]
pub async fn stats(
    State(s): State<SharedState>,
    Query(_none, _): Query<NoParams, Glimpse>,
) -> Answer {
    let snap = s.services.analytics.snapshot()?;
    Ok(network_answer(&snap, &snap.network.stats))
}

/// The adjacency matrix of the best-connected agents.
#[utoipa::path(get, path = "/network/matrix", tag = GLIMPSE,
    operation_id = "glimpse_network_matrix",
    params(MatrixParams),
    responses(
        (status = 200, description = "The agents and who follows whom among them.", body = NetworkAnswer<Adjacency>),
        NotReady,
    ),
)]
pub async fn network_matrix(
    State(s): State<SharedState>,
    Query(p, _): Query<MatrixParams, Glimpse>,
) -> Answer {
    let limit = page_limit(p.limit, MATRIX_DEFAULT, MATRIX_MAX)?;
    let snap = s.services.analytics.snapshot()?;
    let m = &snap.network.matrix;
    let k = m.index.len().min(limit);
    let body = Adjacency {
        index: m.index[..k].to_vec(),
        rows: m.rows[..k].iter().map(|r| r[..k].to_vec()).collect(),
    };
    Ok(network_answer(&snap, &body))
}
