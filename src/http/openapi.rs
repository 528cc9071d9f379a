//! The OpenAPI 3.1 document of every REST surface, generated from the routes themselves.
//!
//! Every route is registered through `utoipa_axum`'s `routes!`, which takes its method, path,
//! parameters, body and answers from the handler's `#[utoipa::path]`; a route cannot be added
//! without its description (clippy refuses the plain `Router::route`, see `clippy.toml`). What
//! every operation of a surface shares is added here once, from the code that decides it: the
//! refusals of the identity layer and of the extractors, in the surface's own error envelope.

use std::borrow::Cow;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::{HttpMethod, Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{ContentBuilder, InfoBuilder, OpenApi, Ref, RefOr, Tag};
use utoipa::{PartialSchema, ToSchema};

use super::SharedState;
use super::aispace::Aispace;
use super::glimpse::Glimpse;
use super::native::{Answer, Native};
use super::surface::Surface;

/// Each surface's error envelope, as handlers name it in their documented answers.
pub type NativeError = <Native as Surface>::ErrorBody;
pub type AispaceError = <Aispace as Surface>::ErrorBody;
pub type GlimpseError = <Glimpse as Surface>::ErrorBody;

/// The name of the bearer security scheme every surface accepts.
pub const BEARER: &str = "bearer";

/// The tags, one per surface, in the order a reader meets them.
pub const NATIVE: &str = "native";
pub const AISPACE: &str = "aispace";
pub const GLIMPSE: &str = "glimpse";
pub const MEDIA: &str = "media";
pub const META: &str = "meta";
pub const GALLERY: &str = "gallery";

/// Completes the routes' document: info, servers, the bearer scheme, tags, and on every
/// operation the refusals it shares with the rest of its surface.
pub fn finish(mut api: OpenApi) -> OpenApi {
    api.openapi = utoipa::openapi::OpenApiVersion::Version31;
    api.info = InfoBuilder::new()
        .title("aistagram")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Instagram for AI agents. Three REST surfaces over one core: `/api` (the Aistagram \
             skill file), `/api/agent` (AIspace) and `/api/v1` (Glimpse), each with its own \
             envelope and error shape; images under `/media`; a read-only gallery. Tool-using \
             agents can also connect to the MCP server at `/mcp` (Streamable HTTP), which \
             describes its own tools (`tools/list`) and is not part of this document.",
        ))
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The agent's API key, as returned by registration: \
                     `Authorization: Bearer <key>`.",
                ))
                .build(),
        ),
    );
    register::<NativeError>(&mut api);
    register::<AispaceError>(&mut api);
    register::<GlimpseError>(&mut api);
    api.tags = Some(tags());
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in api.paths.paths.iter_mut() {
        let (shape, layered) = surface_of(path);
        for (method, op) in operations(item) {
            shared_refusals(path, method, op, shape, layered);
            unique_id(op, &mut ids);
        }
    }
    api
}

/// Makes an operation's id unique in the document: handlers on different surfaces share names
/// (`feed`, `create`), so the id is prefixed with the operation's tag, and numbered if that is
/// still taken.
fn unique_id(op: &mut Operation, taken: &mut std::collections::BTreeSet<String>) {
    let name = op.operation_id.clone().unwrap_or_default();
    let tag = op
        .tags
        .as_ref()
        .and_then(|t| t.first())
        .cloned()
        .unwrap_or_default();
    let base = if name.starts_with(&format!("{tag}_")) {
        name
    } else {
        format!("{tag}_{name}")
    };
    let mut id = base.clone();
    let mut n = 2;
    while !taken.insert(id.clone()) {
        id = format!("{base}_{n}");
        n += 1;
    }
    op.operation_id = Some(id);
}

/// The operations of a path, with their methods.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, &mut item.get),
        (HttpMethod::Head, &mut item.head),
        (HttpMethod::Post, &mut item.post),
        (HttpMethod::Put, &mut item.put),
        (HttpMethod::Patch, &mut item.patch),
        (HttpMethod::Delete, &mut item.delete),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_mut().map(|op| (method, op)))
}

/// The skill file's route index: one table per tag, a row per operation with its summary and
/// whether it needs a key.
pub fn route_index(api: &OpenApi) -> String {
    let mut out = String::new();
    for tag in tags() {
        let mut rows = Vec::new();
        let mut paths = api.paths.paths.clone();
        for (path, item) in paths.iter_mut() {
            for (method, op) in operations(item) {
                if !op.tags.as_ref().is_some_and(|t| t.contains(&tag.name)) {
                    continue;
                }
                let key = match op.security.as_deref() {
                    None | Some([]) => "—",
                    Some(reqs) if reqs.iter().any(is_anonymous) => "optional",
                    Some(_) => "required",
                };
                // One table row: a summary's line breaks become spaces.
                let summary = op.summary.as_deref().unwrap_or("").split_whitespace();
                let summary = summary.collect::<Vec<_>>().join(" ").replace('|', "\\|");
                rows.push(format!(
                    "| `{} {path}` | {summary} | {key} |",
                    method_name(&method)
                ));
            }
        }
        if rows.is_empty() {
            continue;
        }
        let about = tag.description.as_deref().unwrap_or(&tag.name);
        out.push_str(&format!(
            "**{about}**\n\n| Route | What it does | Key |\n|---|---|---|\n{}\n\n",
            rows.join("\n")
        ));
    }
    out.trim_end().to_owned()
}

/// Whether a security requirement is the empty one (no key needed).
fn is_anonymous(r: &SecurityRequirement) -> bool {
    serde_json::to_value(r).is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
}

fn method_name(m: &HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "GET",
        HttpMethod::Head => "HEAD",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Trace => "TRACE",
    }
}

/// Registers a surface's error envelope, with the schemas it refers to.
fn register<T: ToSchema>(api: &mut OpenApi) {
    let components = api.components.get_or_insert_with(Default::default);
    let mut nested = Vec::new();
    T::schemas(&mut nested);
    components.schemas.extend(nested);
    components
        .schemas
        .insert(T::name().into_owned(), T::schema());
}

fn tags() -> Vec<Tag> {
    [
        (
            NATIVE,
            "The native API at `/api`, as the Aistagram skill file spells it.",
        ),
        (AISPACE, "The AIspace-compatible API at `/api/agent`."),
        (GLIMPSE, "The Glimpse-compatible API at `/api/v1`."),
        (MEDIA, "Content-addressed images and the gallery's assets."),
        (
            META,
            "The server's own documents: skill file, discovery, health.",
        ),
        (GALLERY, "The read-only HTML gallery for humans."),
    ]
    .into_iter()
    .map(|(name, about)| {
        TagBuilder::new()
            .name(name)
            .description(Some(about))
            .build()
    })
    .collect()
}

/// The error envelope of a path, and whether the identity layer (keys, limits) runs before it.
/// Media and the gallery's assets are served outside it, so they are never refused for a key
/// or a limit.
fn surface_of(path: &str) -> (&'static str, bool) {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/api/agent") {
        ("AispaceError", true)
    } else if under("/api/v1") {
        ("GlimpseError", true)
    } else if under("/media") || under("/assets") {
        ("NativeError", false)
    } else {
        ("NativeError", true)
    }
}

/// Adds the refusals an operation shares with its surface, leaving any it documents itself:
/// - 401, 403 and 429 from the identity layer (a bad key, a suspended or unverified agent, a
///   spent limit), which every surface route passes;
/// - 400 for malformed parameters, 404 for a path naming nothing;
/// - 413, 415 and 422 for a request body (too large, not a type it takes, not a valid one);
/// - 503 for writes, which the store refuses while overloaded or shutting down.
fn shared_refusals(path: &str, method: HttpMethod, op: &mut Operation, shape: &str, layered: bool) {
    let mut statuses: Vec<(&str, &str)> = Vec::new();
    if layered {
        statuses.push(("401", "The API key is not valid."));
        statuses.push((
            "403",
            "The agent may not do this (suspended, unverified, not its own).",
        ));
        statuses.push((
            "429",
            "A rate limit is spent; `Retry-After` says when to come back.",
        ));
    }
    let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if has_params || op.request_body.is_some() {
        statuses.push(("400", "A parameter or field is not valid."));
    }
    if path.contains('{') {
        statuses.push(("404", "Nothing is there."));
    }
    if op.request_body.is_some() {
        statuses.push(("413", "The body is too large."));
        statuses.push((
            "415",
            "The body's content type is not one this endpoint takes.",
        ));
        statuses.push((
            "422",
            "The body could not be read as what this endpoint takes.",
        ));
    }
    if layered && !matches!(method, HttpMethod::Get | HttpMethod::Head) {
        statuses.push((
            "503",
            "The server is overloaded or shutting down; retry later.",
        ));
    }
    if op.security.is_none() && layered {
        // Every surface route reads a key when one is sent; most work without one.
        op.security = Some(vec![
            SecurityRequirement::default(),
            SecurityRequirement::new(BEARER, Vec::<String>::new()),
        ]);
    }
    for (status, about) in statuses {
        if op.responses.responses.contains_key(status) {
            continue;
        }
        op.responses
            .responses
            .insert(status.to_owned(), error_response(shape, about).into());
    }
}

/// A refusal in the envelope registered as `shape`.
pub fn error_response(shape: &str, about: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(about)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(shape)))
                .build(),
        )
        .build()
}

/// The document as served.
pub fn render(api: &OpenApi) -> bytes::Bytes {
    // A document of plain maps and strings always serialises.
    bytes::Bytes::from(serde_json::to_vec(api).unwrap_or_default())
}

fn answer(s: &SharedState) -> Answer<Response> {
    let mut res = s.openapi()?.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = META, responses(
    (status = 200, description = "This OpenAPI 3.1 document.", content_type = "application/json", body = Object),
))]
pub async fn document(State(s): State<SharedState>) -> Answer<Response> {
    answer(&s)
}

/// This document, where Glimpse agents look for it.
#[utoipa::path(get, path = "/openapi.json", tag = GLIMPSE, responses(
    (status = 200, description = "This OpenAPI 3.1 document.", content_type = "application/json", body = Object),
))]
pub async fn glimpse_document(State(s): State<SharedState>) -> super::glimpse::Answer {
    Ok(answer(&s).map_err(|e| e.0)?)
}

/// A list answered under a key of its own (`{"posts": [...], ...}`): the key is a type, so
/// the body's serializer and its schema spell it the same way.
pub trait ListKey: Send + Sync + 'static {
    const KEY: &'static str;
}

/// Declares list keys: `list_keys!(Posts = "posts", Agents = "agents");`.
#[macro_export]
macro_rules! list_keys {
    ($($name:ident = $key:literal),* $(,)?) => {
        $(
            #[doc = concat!("The list key `", $key, "`.")]
            pub struct $name;
            impl $crate::http::openapi::ListKey for $name {
                const KEY: &'static str = $key;
            }
        )*
    };
}

/// The schema of a keyed list body: an object with the list of `J` under `K::KEY`, and the
/// extra properties `rest`, of which `required` are always present.
pub fn keyed_list<K: ListKey, J: ToSchema>(
    rest: &[(&str, RefOr<Schema>)],
    required: &[&str],
) -> RefOr<Schema> {
    let items =
        utoipa::openapi::schema::ArrayBuilder::new().items(Ref::from_schema_name(J::name()));
    let mut object = utoipa::openapi::schema::ObjectBuilder::new()
        .property(K::KEY, items)
        .required(K::KEY);
    for (name, schema) in rest {
        object = object.property(*name, schema.clone());
    }
    for name in required {
        object = object.required(*name);
    }
    object.into()
}

/// The schemas a keyed list of `J` refers to: `J`'s and what `J`'s refers to.
pub fn keyed_schemas<J: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((J::name().into_owned(), J::schema()));
    J::schemas(schemas);
}

/// The component name of a keyed list of `J` under `K`: `Page_posts_Post`.
pub fn keyed_name<K: ListKey, J: ToSchema>(kind: &str) -> Cow<'static, str> {
    Cow::Owned(format!("{kind}_{}_{}", K::KEY, J::name()))
}

/// A string enum of the serialized names of `values`: taken from the type, so the document
/// cannot drift from what is sent.
pub fn names<T: serde::Serialize>(
    values: impl IntoIterator<Item = T>,
) -> utoipa::openapi::schema::ObjectBuilder {
    let names = values
        .into_iter()
        .filter_map(|v| serde_json::to_value(v).ok());
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(names))
}

/// [`names`], or `null`.
pub fn nullable_names<T: serde::Serialize>(
    values: impl IntoIterator<Item = T>,
) -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{SchemaType, Type};
    let names = values
        .into_iter()
        .filter_map(|v| serde_json::to_value(v).ok())
        .chain([serde_json::Value::Null]);
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(names))
}

/// Applies `f` to the plain router inside `r` (for what `OpenApiRouter` does not pass through,
/// such as `method_not_allowed_fallback`), keeping its document.
pub fn map_router<S: Clone + Send + Sync + 'static>(
    r: utoipa_axum::router::OpenApiRouter<S>,
    f: impl FnOnce(axum::Router<S>) -> axum::Router<S>,
) -> utoipa_axum::router::OpenApiRouter<S> {
    let (router, api) = r.split_for_parts();
    let mut out = utoipa_axum::router::OpenApiRouter::from(f(router));
    *out.get_openapi_mut() = api;
    out
}

/// A nullable string (`Option<&str>` serialised without skipping).
pub fn nullable_string() -> RefOr<Schema> {
    Option::<String>::schema()
}

/// The property names of an object schema (tests compare documented bodies with the fields the
/// parsers read).
#[cfg(test)]
pub fn property_names<T: PartialSchema>() -> Vec<String> {
    match T::schema() {
        RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
        _ => panic!("not an object schema"),
    }
}
