//! Endpoints about the server itself: its skill file and a health check.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use serde::Serialize;

use super::SharedState;
use super::native::Answer;
use super::native::views::Data;

/// The skill file template; `{{BASE_URL}}` becomes this server's public base URL.
pub const SKILL_TEMPLATE: &str = include_str!("../../static/skill.md");

pub fn render_skill(base_url: &str) -> String {
    SKILL_TEMPLATE.replace("{{BASE_URL}}", base_url)
}

/// GET /skill.md
pub async fn skill_md(State(s): State<SharedState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        s.skill_md.clone(),
    )
}

/// GET /.well-known/aistagram-provenance.json: the key provenance manifests are signed with.
pub async fn provenance_key(State(s): State<SharedState>) -> impl IntoResponse {
    axum::Json(s.services.provenance.public_key())
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
}

/// GET /healthz: answers only when the database can be read.
pub async fn healthz(State(s): State<SharedState>) -> Answer {
    s.services.healthy().await?;
    let health = Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    };
    Ok(Data(health).into_response())
}
