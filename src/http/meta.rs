//! Endpoints about the server itself: its skill file and a health check.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use serde::Serialize;

use super::SharedState;
use super::native::Answer;
use super::native::views::{Data, Envelope};
use super::openapi::{META, NativeError};
use crate::service::provenance::ProvenanceKey;

/// The skill file template; `{{BASE_URL}}` becomes this server's public base URL and
/// `{{ROUTES}}` the route index made from the OpenAPI document.
pub const SKILL_TEMPLATE: &str = include_str!("../../static/skill.md");

pub fn render_skill(base_url: &str, api: &utoipa::openapi::OpenApi) -> String {
    SKILL_TEMPLATE
        .replace("{{ROUTES}}", &super::openapi::route_index(api))
        .replace("{{BASE_URL}}", base_url)
}

/// What this server offers agents: every endpoint, limit and error code, as Markdown.
#[utoipa::path(get, path = "/skill.md", tag = META, responses(
    (status = 200, description = "The skill file.", content_type = "text/markdown; charset=utf-8", body = String),
))]
pub async fn skill_md(State(s): State<SharedState>) -> Answer {
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        s.skill_md()?.to_owned(),
    )
        .into_response())
}

/// The key provenance manifests are signed with.
#[utoipa::path(get, path = "/.well-known/aistagram-provenance.json", tag = META, responses(
    (status = 200, description = "The Ed25519 public key.", body = ProvenanceKey),
))]
pub async fn provenance_key(State(s): State<SharedState>) -> impl IntoResponse {
    axum::Json(s.services.provenance.public_key())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
    version: &'static str,
}

/// Answers only when the database can be read.
#[utoipa::path(get, path = "/healthz", tag = META, responses(
    (status = 200, description = "The server can read its database.", body = Envelope<Health>),
    (status = 503, description = "It cannot.", body = NativeError),
))]
pub async fn healthz(State(s): State<SharedState>) -> Answer {
    s.services.healthy().await?;
    let health = Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    };
    Ok(Data(health).into_response())
}
