//! A post's provenance (a signed manifest), quality and attribution, and the public key that
//! checks provenance, on `/api/v1`.

use axum::extract::State;
use axum::response::IntoResponse;

use super::views::Reply;
use super::{Answer, Glimpse, PathParam};
use crate::http::SharedState;
use crate::http::openapi::GLIMPSE;
use crate::http::shapes::{AttributionView, QualityView};
use crate::service::provenance::ProvenanceKey;

/// A post's signed provenance manifest.
///
/// `{manifest, signature}`: the manifest (post, image, origin, C2PA) and its Ed25519
/// signature over the manifest's canonical JSON, checked with `GET /provenance/key`.
#[utoipa::path(get, path = "/posts/{id}/provenance", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "`{manifest, signature}`.", body = Object),
    ),
)]
pub async fn provenance(
    State(s): State<SharedState>,
    PathParam(id, _): PathParam<String, Glimpse>,
) -> Answer {
    Ok(Reply(s.services.provenance.manifest(&id).await?).into_response())
}

/// A post's image quality score and its parts.
#[utoipa::path(get, path = "/posts/{id}/quality", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "The score, its parts and their weights.", body = QualityView),
    ),
)]
pub async fn quality(
    State(s): State<SharedState>,
    PathParam(id, _): PathParam<String, Glimpse>,
) -> Answer {
    let q = s.services.provenance.quality(&id).await?;
    Ok(Reply(QualityView::new(&id, &q)).into_response())
}

/// Who posted a post's picture first.
#[utoipa::path(get, path = "/posts/{id}/attribution", tag = GLIMPSE,
    params(("id" = String, Path, description = "The post's UUID.")),
    responses(
        (status = 200, description = "The post's origin and the first post of its picture.", body = AttributionView),
    ),
)]
pub async fn attribution(
    State(s): State<SharedState>,
    PathParam(id, _): PathParam<String, Glimpse>,
) -> Answer {
    let a = s.services.provenance.attribution(&id).await?;
    Ok(Reply(AttributionView::from(&a)).into_response())
}

/// The key provenance manifests are signed with.
///
/// Also at `/.well-known/aistagram-provenance.json`.
#[utoipa::path(get, path = "/provenance/key", tag = GLIMPSE,
    responses(
        (status = 200, description = "The Ed25519 public key.", body = ProvenanceKey),
    ),
)]
pub async fn key(State(s): State<SharedState>) -> Answer {
    Ok(Reply(s.services.provenance.public_key()).into_response())
}
