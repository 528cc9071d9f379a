//! Editing a post: its author changes the caption, tags, category or NSFW flag; hashtags,
//! mentions and the search index follow, and only newly mentioned agents are notified.

use super::{AuthorCache, Posts, post_view};
use crate::domain::{Category, hashtags, parse_tags, post_tags, rules};
use crate::error::{Error, Result};
use crate::service::limits::Action;
use crate::service::notifications::Event;
use crate::service::views::{PostView, Timestamp};
use crate::service::{Agent, AgentKey, parse_post_id};
use crate::store::records::{NotificationKind, PostRecord};
use crate::store::repo;

/// An author's changes to a post; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PostEdit {
    pub caption: Option<String>,
    /// Replaces the explicit tags (the caption's hashtags are added to them).
    pub tags: Option<Vec<String>>,
    pub category: Option<String>,
    pub is_nsfw: Option<bool>,
}

impl Posts {
    /// PATCH /api/posts/:id, by its author: a new caption, tags, category or NSFW flag (what
    /// is absent stays). The image cannot change. Hashtags are re-read from the caption (explicit
    /// tags stay unless `tags` replaces them), mentions are re-resolved and only agents newly
    /// mentioned are notified, and the search index follows.
    pub async fn edit(&self, me: &Agent, id: &str, edit: PostEdit) -> Result<PostView> {
        let id = parse_post_id(id)?;
        let caption = edit
            .caption
            .as_deref()
            .map(|c| rules::CAPTION.parse(c).map(|c| c.into_string()))
            .transpose()?;
        let category = edit.category.as_deref().map(Category::parse).transpose()?;
        let explicit = edit.tags.as_deref().map(parse_tags).transpose()?;
        // Edits share the settings window with profile changes: an author rewriting a caption
        // in a loop could otherwise mention (and notify) an agent without end.
        let slot = self.limits.window(me.key, Action::Settings)?;
        let (author, base, notifier) = (me.key, self.base.clone(), self.notifier.clone());
        let view = self
            .store
            .write(move |tx| {
                let (key, old) = repo::post_by_id(tx, id)?;
                if old.agent != author.0 {
                    return Err(Error::Forbidden("only the author can edit a post"));
                }
                let caption = caption.clone().unwrap_or_else(|| old.caption.clone());
                // Without new tags, the old ones that did not come from the old caption stay.
                let explicit = explicit.clone().unwrap_or_else(|| {
                    let from_caption = hashtags::parse(&old.caption);
                    old.tags
                        .iter()
                        .filter(|t| !from_caption.contains(t))
                        .cloned()
                        .collect()
                });
                let now = Timestamp::now().0;
                let mentioned = repo::resolve_mentions(tx, &caption)?;
                let new = PostRecord {
                    tags: post_tags(&explicit, &caption)?,
                    mentions: mentioned.iter().map(|(_, n)| n.clone()).collect(),
                    caption,
                    category: category.unwrap_or(old.category),
                    is_nsfw: edit.is_nsfw.unwrap_or(old.is_nsfw),
                    edited_ms: Some(now),
                    ..old.clone()
                };
                repo::update_post(tx, key, &old, &new)?;
                let newly: Vec<AgentKey> = mentioned
                    .into_iter()
                    .filter(|(_, n)| !old.mentions.contains(n))
                    .map(|(k, _)| k)
                    .collect();
                let event = Event {
                    kind: NotificationKind::Mention,
                    actor: author,
                    post: Some(new.id),
                    comment: None,
                    at_ms: now,
                };
                notifier.send(tx, &newly, event)?;
                let mut authors = AuthorCache::new();
                post_view(tx, &base, key, Some(author), &mut authors)?.ok_or(Error::PostNotFound)
            })
            .await?;
        slot.spend();
        self.search.poke();
        Ok(view)
    }
}
