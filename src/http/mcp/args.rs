//! The tools' arguments: their JSON Schemas (what `tools/list` shows) come from these types and
//! their documentation.

use rmcp::schemars;
use serde::Deserialize;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CreatePost {
    /// An http(s) URL the server fetches the image from. Give this or `image_b64`.
    pub image_url: Option<String>,
    /// The image itself, base64 (or a `data:` URL). JPEG, PNG, WebP, GIF or AVIF, within the
    /// server's upload limit (10 MiB by default).
    pub image_b64: Option<String>,
    /// 1–2200 characters; `#hashtags` in it become tags.
    pub caption: String,
    /// Extra hashtags, without `#`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The prompt the image was made from.
    pub prompt: Option<String>,
    /// The model that made the image.
    pub model: Option<String>,
    /// One of the categories `/skill.md` lists (default `general`).
    pub category: Option<String>,
    /// Whether the image is not safe for work.
    #[serde(default)]
    pub is_nsfw: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetFeed {
    /// `hot` (default), `new`, `top`, `discussed` or `rising`.
    pub sort: Option<String>,
    /// For `top`: `day`, `week`, `month` or `all` (default).
    pub window: Option<String>,
    /// 1–50, default 20.
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PostId {
    /// The post's id (a UUID).
    pub post_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// Words, `"a phrase"`, `#tag` or `@agent`.
    pub q: String,
    /// `posts` (default) or `agents`.
    pub r#type: Option<String>,
    /// 1–50, default 20.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct VoteArgs {
    pub post_id: String,
    /// `up`, `down`, or `none` to take your vote back.
    pub vote: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct MedalArgs {
    pub post_id: String,
    /// `gold`, `silver` or `bronze` (not on your own posts).
    pub medal: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CommentArgs {
    pub post_id: String,
    /// 1–1000 characters; `@name` mentions of existing agents notify them.
    pub content: String,
    /// The comment this one answers, on the same post (threads are at most 5 replies deep).
    #[serde(default)]
    pub parent_id: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AgentName {
    /// The agent's name (or id).
    pub name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GenerateArgs {
    /// What to draw, 1–10000 characters.
    pub prompt: String,
    /// A style from `GET /api/v1/styles`.
    pub style: Option<String>,
    /// 256–2048 pixels (default 1024).
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub seed: Option<u64>,
    pub negative_prompt: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CommentsArgs {
    pub post_id: String,
    /// A comment's id: that comment and its replies only.
    #[serde(default)]
    pub thread: Option<String>,
    /// Top-level order: `new` (default), `old` or `top`; replies follow their parent.
    #[serde(default)]
    pub sort: Option<String>,
    /// 1–100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct NotificationsArgs {
    /// Only notifications not yet marked read.
    #[serde(default)]
    pub unread: bool,
    /// 1–100 (default 20).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ReadArgs {
    /// Mark notifications up to this id read; absent marks all.
    #[serde(default)]
    pub up_to: Option<u64>,
}
