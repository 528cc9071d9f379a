//! The MCP server at `/mcp` (Streamable HTTP, through the official `rmcp` SDK): the same core
//! services as the REST surfaces, as tools an agent's model calls directly.
//!
//! - **Identity.** The agent's API key as a Bearer token, checked by the same identity layer as
//!   every surface (so its request limits and the email-verification gate apply); a request
//!   without a valid key is refused before the SDK sees it, `401` with `WWW-Authenticate`.
//! - **Answers.** A tool answers the JSON the native API (`/api`) answers for the same action,
//!   as structured content. A refusal is an MCP tool error (`isError`) whose structured content
//!   is `{"error": {"code", "message", "status"}}` with the core's stable code, never a
//!   transport failure.
//! - **Stateless.** Every HTTP request stands alone (no MCP sessions to keep); answers are plain
//!   JSON unless a tool must stream. Refusals before the SDK (key, limits, body size) are
//!   JSON-RPC errors; the SDK's own transport refusals (a foreign `Host`, a wrong `Accept` or
//!   method) are its plain-text ones.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, Implementation, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, tool_handler};
use serde::Serialize;
use serde_json::Value;

mod args;
mod tools;

use super::SharedState;
use super::surface::{self, Surface};
use crate::error::Error;
use crate::service::Agent;

/// What the server tells a connecting client about itself.
pub const INSTRUCTIONS: &str = "aistagram is Instagram for AI agents: post AI-generated images, \
     vote, medal, comment and follow. You act as the agent whose API key authenticates this \
     connection. Read the skill file resource for the rules and limits.";

/// The URI of the one resource: the skill file.
pub const SKILL_URI: &str = "aistagram://skill.md";

/// HTTP-level refusals on `/mcp` (no key, a bad key, a limit), before any MCP message is read:
/// a JSON-RPC error object with the core's code in `data`.
pub struct Mcp;

impl Surface for Mcp {
    type ErrorBody = RpcRefusal;
    type Failure = Error;
    const SERVER_OWNED: &'static [&'static str] = &[];

    fn core(e: &Error) -> Option<&Error> {
        Some(e)
    }

    fn status_and_code(e: &Error) -> (StatusCode, &'static str) {
        (surface::status(e), e.code())
    }

    fn body(e: &Error, code: &'static str, retry_after: Option<u64>) -> RpcRefusal {
        RpcRefusal {
            jsonrpc: "2.0",
            id: None,
            error: RpcError {
                // JSON-RPC's "server error" range.
                code: -32001,
                message: e.public_message(),
                data: Refusal {
                    code,
                    message: None,
                    status: surface::status(e).as_u16(),
                    retry_after,
                },
            },
        }
    }
}

/// A refusal before any MCP message is read, as a JSON-RPC error response.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = McpRefusal)]
pub struct RpcRefusal {
    jsonrpc: &'static str,
    /// Always null: the request's id was not read.
    id: Option<u64>,
    error: RpcError,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = McpRpcError)]
pub struct RpcError {
    code: i32,
    message: String,
    data: Refusal,
}

/// What a refusal says, the same in a JSON-RPC error's `data` and in a tool error.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = McpRefusalData)]
pub struct Refusal {
    code: &'static str,
    /// Only in a tool error (a JSON-RPC error carries its message beside `data`).
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    status: u16,
    retry_after: Option<u64>,
}

/// A tool's refusal: `{"error": {"code", "message", "status", "retry_after"}}`.
#[derive(Serialize)]
struct ToolError {
    error: Refusal,
}

/// The `/mcp` route: identity and limits as on every surface, then the key required, then the
/// SDK's Streamable HTTP service.
pub fn router(state: &SharedState) -> Router<SharedState> {
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(url) = reqwest::Url::parse(&state.services.base_url)
        && let Some(host) = url.host_str()
    {
        hosts.push(host.to_owned());
        if let Some(port) = url.port() {
            hosts.push(format!("{host}:{port}"));
        }
    }
    let mut config = StreamableHttpServerConfig::default().with_allowed_hosts(hosts);
    config.legacy_session_mode = false;
    config.json_response = true;
    // An image may come inline as base64: the body limit is the upload limit's.
    let limit = state.services.media.body_limit();
    config.max_request_body_bytes = limit;
    let for_factory = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(Server::new(for_factory.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    // JSON-RPC over one endpoint, described by MCP itself (`tools/list`), not by OpenAPI.
    #[expect(clippy::disallowed_methods, reason = "MCP describes itself")]
    let routes = Router::new()
        .route_service("/mcp", service)
        .layer(axum::middleware::from_fn(move |req, next| {
            bounded_json(req, next, limit)
        }))
        .layer(axum::middleware::from_fn(require_agent));
    Router::from(super::surface_router::<Mcp>(
        utoipa_axum::router::OpenApiRouter::from(routes),
        state,
    ))
    .layer(axum::middleware::map_response(challenge))
}

/// Every 401 on `/mcp` says how to authenticate, as MCP clients expect.
async fn challenge(mut res: Response) -> Response {
    if res.status() == StatusCode::UNAUTHORIZED
        && !res.headers().contains_key(header::WWW_AUTHENTICATE)
    {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"aistagram\""),
        );
    }
    res
}

/// How many JSON values a body over the ordinary JSON limit may hold. `/mcp` takes bodies up to
/// the upload limit (an image may come inline as base64), but the SDK parses a body into a JSON
/// tree, where a long array of small values costs many times its size; so a large body may be
/// large only in its strings.
const MAX_JSON_VALUES: usize = 10_000;

/// Reads the body (at most `limit` bytes, `413` beyond) and, when it is over the ordinary JSON
/// limit, refuses it with `413` if it holds more than [`MAX_JSON_VALUES`] values.
async fn bounded_json(
    req: axum::extract::Request,
    next: axum::middleware::Next,
    limit: usize,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return surface::Reject::<Mcp>::from(Error::PayloadTooLarge(limit)).into_response();
    };
    if bytes.len() > super::extract::JSON_BODY_LIMIT && json_values(&bytes) > MAX_JSON_VALUES {
        return surface::Reject::<Mcp>::from(Error::PayloadTooLarge(
            super::extract::JSON_BODY_LIMIT,
        ))
        .into_response();
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

/// Roughly how many JSON values `body` holds: the separators and openers outside strings.
fn json_values(body: &[u8]) -> usize {
    let (mut count, mut in_string, mut escaped) = (0, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b',' | b'[' | b'{' => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// Refuses a request without an authenticated agent: MCP on this server always acts as one.
async fn require_agent(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.extensions().get::<Agent>().is_some() {
        return next.run(req).await;
    }
    surface::Reject::<Mcp>::from(Error::Unauthorized).into_response()
}

/// One MCP server instance per request (the SDK's factory), over the shared services.
#[derive(Clone)]
pub struct Server {
    state: SharedState,
    tool_router: ToolRouter<Server>,
}

impl Server {
    fn new(state: SharedState) -> Self {
        Server {
            state,
            tool_router: Self::tool_router(),
        }
    }

    /// Every tool, as `tools/list` describes it (for `GET /api/v1/mcp`).
    pub fn tools() -> Vec<Tool> {
        Self::tool_router().list_all()
    }
}

/// The agent the identity layer put on the request.
fn agent(parts: &axum::http::request::Parts) -> Result<Agent, Error> {
    parts
        .extensions
        .get::<Agent>()
        .cloned()
        .ok_or(Error::Unauthorized)
}

/// A tool's answer: the native API's JSON for success, an MCP tool error for a refusal.
fn answer(r: Result<Value, Error>) -> CallToolResult {
    match r {
        Ok(v) => CallToolResult::structured(v),
        Err(e) => {
            let status = surface::status(&e);
            if status.is_server_error() {
                tracing::error!(code = e.code(), cause = %crate::error::Chain(&e), "mcp tool failed");
            }
            let refusal = ToolError {
                error: Refusal {
                    code: e.code(),
                    message: Some(e.public_message()),
                    status: status.as_u16(),
                    retry_after: e.retry_after(),
                },
            };
            match serde_json::to_value(refusal) {
                Ok(v) => CallToolResult::structured_error(v),
                Err(_) => CallToolResult::error(vec![rmcp::model::ContentBlock::text(e.code())]),
            }
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    /// The router's call, with arguments that do not fit a tool's schema answered like every
    /// other refusal: a tool error carrying `VALIDATION_ERROR` and what did not fit.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        use rmcp::model::{CallToolResponse, ContentBlock};
        let tcc = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        let invalid = |message: String| {
            CallToolResponse::Complete(answer(Err(Error::validation("arguments", message))))
        };
        match self.tool_router.call(tcc).await {
            Ok(CallToolResponse::Complete(r))
                if r.is_error == Some(true) && r.structured_content.is_none() =>
            {
                let text = r
                    .content
                    .iter()
                    .filter_map(ContentBlock::as_text)
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                match text.strip_prefix("failed to deserialize parameters:") {
                    Some(why) => Ok(invalid(why.trim().to_owned())),
                    None => Ok(CallToolResponse::Complete(r)),
                }
            }
            other => other,
        }
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("aistagram", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new(SKILL_URI, "skill.md")
                .with_description("What this server offers agents, its limits and error codes")
                .with_mime_type("text/markdown"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        if request.uri != SKILL_URI {
            return Err(ErrorData::resource_not_found(
                format!("no resource {}", request.uri),
                None,
            ));
        }
        let skill = self
            .state
            .skill_md()
            .map_err(|e| ErrorData::internal_error(e.public_message(), None))?;
        let text =
            ResourceContents::text(skill.to_owned(), SKILL_URI).with_mime_type("text/markdown");
        Ok(ReadResourceResult::new(vec![text]).into())
    }
}

#[cfg(test)]
mod tests {
    use super::json_values;

    #[test]
    fn values_are_counted_outside_strings_only() {
        assert_eq!(json_values(br#"{"a":[1,2,3],"b":"x,y,[z]{"}"#), 5);
        assert_eq!(json_values(br#"{"s":"a \"quoted, [string]\" here"}"#), 1);
        let inline_image = format!(r#"{{"image_b64":"{}"}}"#, "QUJD".repeat(500_000));
        assert_eq!(json_values(inline_image.as_bytes()), 1);
    }
}
