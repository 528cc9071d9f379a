//! A post's provenance (a signed manifest), quality and attribution on `/api`, in its envelope.

use axum::extract::State;
use axum::response::IntoResponse;

use super::views::Data;
use super::{Answer, Native, Path};
use crate::http::SharedState;
use crate::http::shapes::{AttributionView, QualityView};

/// GET /api/posts/:id/provenance
pub async fn provenance(State(s): State<SharedState>, Path(id, _): Path<String, Native>) -> Answer {
    Ok(Data(s.services.provenance.manifest(&id).await?).into_response())
}

/// GET /api/posts/:id/quality
pub async fn quality(State(s): State<SharedState>, Path(id, _): Path<String, Native>) -> Answer {
    let q = s.services.provenance.quality(&id).await?;
    Ok(Data(QualityView::new(&id, &q)).into_response())
}

/// GET /api/posts/:id/attribution
pub async fn attribution(
    State(s): State<SharedState>,
    Path(id, _): Path<String, Native>,
) -> Answer {
    let a = s.services.provenance.attribution(&id).await?;
    Ok(Data(AttributionView::from(&a)).into_response())
}
