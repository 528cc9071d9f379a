//! A list request on `/api`: its page parameters (`limit`, `cursor`) and the URI its `Link`
//! header is made from, and the page answered in the native shape.

use axum::extract::FromRequestParts;
use axum::http::Uri;
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;

use super::Native;
use super::views::{Agent, Agents, Post, Posts, linked, linked_answer, paged};
use crate::error::Result;
use crate::http::SharedState;
use crate::http::extract::Query;
use crate::http::openapi::ListKey;
use crate::http::surface::Reject;
use crate::service::page_limit;
use crate::service::views::{AgentView, Page, PostView};

/// The page parameters every list takes (documents name them with `params(PageParams)`).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items a page holds: 20 when absent (50 for comments and follow lists).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `next_cursor` of the previous page; absent or empty for the first page.
    cursor: Option<String>,
}

/// `?limit=&cursor=` of a list, with the request's URI.
pub struct List {
    uri: Uri,
    limit: Option<u32>,
    cursor: Option<String>,
}

impl FromRequestParts<SharedState> for List {
    type Rejection = Reject<Native>;

    async fn from_request_parts(
        parts: &mut Parts,
        s: &SharedState,
    ) -> Result<Self, Reject<Native>> {
        let Query(p, _) = Query::<PageParams, Native>::from_request_parts(parts, s).await?;
        let uri = crate::http::links::original_uri(&parts.extensions, &parts.uri);
        Ok(List {
            uri,
            limit: p.limit,
            cursor: p.cursor.filter(|c| !c.is_empty()),
        })
    }
}

impl List {
    /// The page size (`default` when absent, at most 100) and the cursor.
    pub fn page(&self, default: u32) -> Result<(usize, Option<&str>)> {
        Ok((
            page_limit(self.limit, default, 100)?,
            self.cursor.as_deref(),
        ))
    }

    /// A page of posts under `posts`.
    pub fn posts(&self, s: &SharedState, page: &Page<PostView>) -> Response {
        self.answer::<Posts, _, Post>(s, page, None)
    }

    /// A page of agents under `agents`.
    pub fn agents(&self, s: &SharedState, page: &Page<AgentView>) -> Response {
        self.answer::<Agents, _, Agent>(s, page, None)
    }

    /// A page of items shown as `J` under `K`'s key, with the sort it was made in.
    pub fn answer<'a, K: ListKey, T, J: serde::Serialize + From<&'a T>>(
        &self,
        s: &SharedState,
        page: &'a Page<T>,
        sort: Option<&str>,
    ) -> Response {
        paged::<K, T, J>(&s.services.base_url, &self.uri, page, sort)
    }

    /// A page whose whole answer, envelope included, is `answer` (with the live service's keys
    /// beside `data`), its next cursor being `next`.
    pub fn answer_with(
        &self,
        s: &SharedState,
        next: Option<&str>,
        answer: impl serde::Serialize,
    ) -> Response {
        linked_answer(&s.services.base_url, &self.uri, next, answer)
    }

    /// A page already shaped as `body`, whose next cursor is `next`.
    pub fn body(
        &self,
        s: &SharedState,
        next: Option<&str>,
        body: impl serde::Serialize,
    ) -> Response {
        linked(&s.services.base_url, &self.uri, next, body)
    }
}
