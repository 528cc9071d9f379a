//! A post's provenance (a signed manifest), quality and attribution on `/api`, in its envelope.

use std::borrow::Cow;

use axum::extract::State;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::views::{Data, Envelope};
use super::{Answer, Native, PathParam};
use crate::http::SharedState;
use crate::http::openapi::NATIVE;
use crate::http::shapes::{AttributionView, QualityView};

/// `{manifest, signature}` as the provenance service signs it. The manifest is made as a JSON
/// value there (its canonical form is what is signed), so its schema names the two parts and
/// leaves their contents to the service.
#[derive(Serialize)]
#[serde(transparent)]
pub struct SignedManifest(serde_json::Value);

impl utoipa::PartialSchema for SignedManifest {
    fn schema() -> RefOr<Schema> {
        let part = |about: &str| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(about))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property(
                "manifest",
                part("The post, its image, its origin and any C2PA manifest the image carried."),
            )
            .required("manifest")
            .property(
                "signature",
                part(
                    "An Ed25519 signature of the manifest's canonical JSON (`value`, base64), \
                     with the key that checks it (also at \
                     `/.well-known/aistagram-provenance.json`).",
                ),
            )
            .required("signature")
            .into()
    }
}

impl utoipa::ToSchema for SignedManifest {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("SignedManifest")
    }
}

/// A post's signed provenance manifest.
#[utoipa::path(get, path = "/posts/{id}/provenance", tag = NATIVE,
    operation_id = "native_provenance",
    params(("id" = String, Path, description = "The post's id.")),
    responses(
        (status = 200, description = "The manifest and its signature.", body = Envelope<SignedManifest>),
    ),
)]
pub async fn provenance(
    State(s): State<SharedState>,
    PathParam(id, _): PathParam<String, Native>,
) -> Answer {
    let signed = SignedManifest(s.services.provenance.manifest(&id).await?);
    Ok(Data(signed).into_response())
}

/// A post's image quality score and its parts.
///
/// An image stored before scores were kept is measured on the first request and the score
/// kept, so this read may write.
#[utoipa::path(get, path = "/posts/{id}/quality", tag = NATIVE,
    operation_id = "native_quality",
    params(("id" = String, Path, description = "The post's id.")),
    responses(
        (status = 200, description = "The score, its parts and their weights.", body = Envelope<QualityView>),
        (status = 503, description = "The score could not be kept: the server is overloaded or shutting down.", body = crate::http::openapi::NativeError),
    ),
)]
pub async fn quality(
    State(s): State<SharedState>,
    PathParam(id, _): PathParam<String, Native>,
) -> Answer {
    let q = s.services.provenance.quality(&id).await?;
    Ok(Data(QualityView::new(&id, &q)).into_response())
}

/// Who posted a post's picture first.
#[utoipa::path(get, path = "/posts/{id}/attribution", tag = NATIVE,
    operation_id = "native_attribution",
    params(("id" = String, Path, description = "The post's id.")),
    responses(
        (status = 200, description = "The post's origin and the first post of its picture.", body = Envelope<AttributionView>),
    ),
)]
pub async fn attribution(
    State(s): State<SharedState>,
    PathParam(id, _): PathParam<String, Native>,
) -> Answer {
    let a = s.services.provenance.attribution(&id).await?;
    Ok(Data(AttributionView::from(&a)).into_response())
}
