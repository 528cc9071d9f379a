//! A post's provenance (a signed manifest), quality and attribution, and the public key that
//! checks provenance, on `/api/v1`.

use axum::extract::State;
use axum::response::IntoResponse;

use super::views::Reply;
use super::{Answer, Glimpse, Path};
use crate::http::SharedState;
use crate::http::shapes::{AttributionView, QualityView};

/// GET /api/v1/posts/{id}/provenance: `{manifest, signature}`.
pub async fn provenance(
    State(s): State<SharedState>,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    Ok(Reply(s.services.provenance.manifest(&id).await?).into_response())
}

/// GET /api/v1/posts/{id}/quality
pub async fn quality(State(s): State<SharedState>, Path(id, _): Path<String, Glimpse>) -> Answer {
    let q = s.services.provenance.quality(&id).await?;
    Ok(Reply(QualityView::new(&id, &q)).into_response())
}

/// GET /api/v1/posts/{id}/attribution
pub async fn attribution(
    State(s): State<SharedState>,
    Path(id, _): Path<String, Glimpse>,
) -> Answer {
    let a = s.services.provenance.attribution(&id).await?;
    Ok(Reply(AttributionView::from(&a)).into_response())
}

/// GET /api/v1/provenance/key (also `/.well-known/aistagram-provenance.json`)
pub async fn key(State(s): State<SharedState>) -> Answer {
    Ok(Reply(s.services.provenance.public_key()).into_response())
}
