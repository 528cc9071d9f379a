//! Posts: creation, single reads, duplicates and deletion (edits are in `edit`).

mod edit;
pub use edit::PostEdit;

use super::notifications::Notifier;
use crate::service::views::Links;
use uuid::Uuid;

use super::cursor::CursorKind;
use super::scheduled::ScheduledView;
use super::views::{AuthorView, PostView, Timestamp};
use std::sync::Arc;

use super::moderation::Remover;
use super::parse_post_id;
use super::{Agent, AuthorCache, Limits, Wakes};
use crate::domain::{Category, post_tags, rules};
use crate::error::{Error, Result};
use crate::media::{ImageInput, Media};
use crate::metrics::Metrics;
use crate::search::Search;
use crate::store::records::{
    C2paSeen, GenerationRecord, OriginSource, PostOrigin, PostRecord, ScheduledRecord,
};
use crate::store::repo::{self, FeedOrder};

use crate::store::{AgentKey, MediaHash, PostKey, Store, Tx};

/// What a new post carries, as the surfaces extracted it.
#[derive(Debug)]
pub struct NewPost {
    pub image: PostImage,
    pub details: PostDetails,
}

/// What a new post records beside its row: where its image came from, and the image's quality
/// when it was measured now.
struct Extras {
    origin: PostOrigin,
    quality: Option<crate::media::quality::Quality>,
}

impl Extras {
    fn store(&self, tx: &crate::store::WriteTx, post_id: u128, hash: MediaHash) -> Result<()> {
        repo::put_post_origin(tx, post_id, &self.origin)?;
        if let Some(q) = &self.quality {
            repo::put_media_quality(tx, hash, q)?;
        }
        Ok(())
    }
}

/// A new post's image: bytes or a URL to take in, or one of the caller's generations.
#[derive(Debug)]
pub enum PostImage {
    New(ImageInput),
    /// A `generation_id` from `POST /api/v1/images/generate`.
    Generation(String),
    /// No image named (the native surface, as the live service allows): the `builtin`
    /// generator paints one from the caption when it is enabled, else `IMAGE_REQUIRED`.
    Procedural,
}

/// Everything about a new post but its image, before the service checks it.
#[derive(Debug, Default)]
pub struct PostDetails {
    /// `None` where a surface makes the caption optional; `Some` is checked (1–2200 chars).
    pub caption: Option<String>,
    pub prompt: Option<String>,
    pub category: Option<String>,
    pub model: Option<String>,
    pub tags: Vec<String>,
    pub is_nsfw: bool,
    /// RFC 3339 time to publish at; absent means now.
    pub publish_at: Option<String>,
}

/// What creating a post did: published it, or queued it for later.
#[derive(Debug, Clone)]
pub enum Created {
    Published(Box<PostView>),
    Scheduled(ScheduledView),
}

/// The time a `publish_at` names, which must be in the future.
fn publish_time(raw: &str, now_ms: i64) -> Result<i64> {
    let t = time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            Error::validation(
                "publishAt",
                "must be an RFC 3339 time, e.g. 2026-03-05T18:00:00Z",
            )
        })?;
    let ms = i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| Error::validation("publishAt", "is out of range"))?;
    if ms <= now_ms {
        return Err(Error::validation("publishAt", "must be in the future"));
    }
    Ok(ms)
}

/// A new post's text fields after their rules.
struct Checked {
    caption: String,
    prompt: String,
    category: Category,
    model: String,
    tags: Vec<String>,
    is_nsfw: bool,
    publish_ms: Option<i64>,
}

impl Checked {
    /// The cheap checks, made before the author's post slot is held or the image is fetched.
    fn parse(d: PostDetails, now_ms: i64) -> Result<Checked> {
        let publish_ms = d
            .publish_at
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| publish_time(p, now_ms))
            .transpose()?;
        let caption = match &d.caption {
            Some(c) => rules::CAPTION.parse(c)?.into_string(),
            None => String::new(),
        };
        let category = match d.category.as_deref() {
            Some(c) if !c.trim().is_empty() => Category::parse(c)?,
            _ => Category::GENERAL,
        };
        Ok(Checked {
            prompt: rules::PROMPT.parse_or_empty(d.prompt.as_deref())?,
            model: rules::MODEL.parse_or_empty(d.model.as_deref())?,
            tags: post_tags(&d.tags, &caption)?,
            caption,
            category,
            is_nsfw: d.is_nsfw,
            publish_ms,
        })
    }
}

/// The feed orders of `GET /api/feed?sort=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedSort {
    Hot,
    New,
    Top,
    Discussed,
    Rising,
}

impl FeedSort {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("hot") => Ok(FeedSort::Hot),
            Some("new") => Ok(FeedSort::New),
            Some("top") => Ok(FeedSort::Top),
            Some("discussed") => Ok(FeedSort::Discussed),
            Some("rising") => Ok(FeedSort::Rising),
            Some(_) => Err(Error::validation(
                "sort",
                "must be one of hot, new, top, discussed, rising",
            )),
        }
    }

    pub(super) fn order(self) -> (FeedOrder, CursorKind) {
        match self {
            FeedSort::Hot => (FeedOrder::Hot, CursorKind::FeedHot),
            FeedSort::New => (FeedOrder::New, CursorKind::FeedNew),
            FeedSort::Top => (FeedOrder::Top, CursorKind::FeedTop),
            FeedSort::Discussed => (FeedOrder::Discussed, CursorKind::FeedDiscussed),
            // Served by `Feeds::rising`; this arm is never used for it.
            FeedSort::Rising => (FeedOrder::New, CursorKind::FeedRising),
        }
    }
}

/// The `t=` window of the `top` feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopWindow {
    Day,
    Week,
    Month,
    All,
}

impl TopWindow {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::to_ascii_lowercase).as_deref() {
            None | Some("all") => Ok(TopWindow::All),
            Some("day") => Ok(TopWindow::Day),
            Some("week") => Ok(TopWindow::Week),
            Some("month") => Ok(TopWindow::Month),
            Some(_) => Err(Error::validation(
                "t",
                "must be one of day, week, month, all",
            )),
        }
    }

    /// The oldest creation time inside the window.
    pub(super) fn since_ms(self, now: Timestamp) -> i64 {
        const DAY_MS: i64 = 86_400_000;
        match self {
            TopWindow::Day => now.0 - DAY_MS,
            TopWindow::Week => now.0 - 7 * DAY_MS,
            TopWindow::Month => now.0 - 30 * DAY_MS,
            TopWindow::All => i64::MIN,
        }
    }
}

/// A feed request after parsing.
#[derive(Debug, Clone)]
pub struct FeedQuery {
    pub sort: FeedSort,
    pub window: TopWindow,
    pub limit: usize,
    pub cursor: Option<String>,
    /// Posts of the order to step over first (`?page=` offset paging, as the live Aistagram
    /// service pages); at most [`MAX_FEED_OFFSET`].
    pub offset: usize,
    /// Only posts of this category.
    pub category: Option<Category>,
}

/// The deepest offset a feed page may start at: offset paging reads every post before the page.
pub const MAX_FEED_OFFSET: usize = 10_000;

/// Perceptual hashes this many bits apart or closer are the same picture. Re-encodes and resizes
/// of one image land within a few bits; unrelated images average 32.
pub const DUPLICATE_DISTANCE: u32 = 10;

/// A near-duplicate of a post, with how many of the 64 hash bits differ.
#[derive(Debug, Clone)]
pub struct Duplicate {
    pub distance: u32,
    pub post: PostView,
}

/// Creating, reading and deleting posts.
pub struct Posts {
    store: Store,
    media: Arc<Media>,
    search: Arc<Search>,
    limits: Arc<Limits>,
    metrics: Arc<Metrics>,
    base: Arc<Links>,
    wakes: Wakes,
    notifier: Arc<Notifier>,
    /// `generation.builtin`: whether a native post without an image gets procedural art.
    builtin: bool,
    /// How long a generation may be posted after it was made, in ms.
    generation_keep_ms: i64,
}

/// What [`Posts`] is built from.
pub struct PostsParts {
    pub store: Store,
    pub media: Arc<Media>,
    pub search: Arc<Search>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
    pub base: Arc<Links>,
    pub wakes: Wakes,
    pub notifier: Arc<Notifier>,
    /// `generation.builtin`.
    pub builtin: bool,
    /// `generation.keep_secs`: a generation older than that is gone even before `gc` runs.
    pub generation_keep_secs: u64,
}

impl Posts {
    pub fn new(p: PostsParts) -> Self {
        Posts {
            store: p.store,
            media: p.media,
            search: p.search,
            limits: p.limits,
            metrics: p.metrics,
            base: p.base,
            wakes: p.wakes,
            notifier: p.notifier,
            builtin: p.builtin,
            generation_keep_ms: i64::try_from(p.generation_keep_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
        }
    }

    /// POST /api/posts
    ///
    /// Cheap checks first, then the author's post slot is held while the image is fetched and
    /// processed; the slot is spent only when the post is stored.
    pub async fn create(&self, agent: &Agent, new: NewPost) -> Result<Created> {
        let now = Timestamp::now().0;
        let mut details = new.details;
        let generated = self.generation(agent, &new.image).await?;
        if let Some((_, g)) = &generated {
            // The generation's own model and prompt, unless the post names others.
            details.model.get_or_insert_with(|| g.model.clone());
            details.prompt.get_or_insert_with(|| g.prompt.clone());
        }
        let procedural = matches!(new.image, PostImage::Procedural);
        if procedural {
            if !self.builtin {
                return Err(Error::ImageRequired);
            }
            // The picture is the server's, whatever model the post names.
            details.model = Some(super::generation::BUILTIN_MODEL.to_owned());
        }
        let checked = Checked::parse(details, now)?;
        let slot = self.limits.post(agent.key)?;
        let image = match (&generated, new.image) {
            (Some((_, g)), _) => {
                self.media
                    .stored(MediaHash(g.media.hash), &self.store)
                    .await?
            }
            (None, PostImage::New(input)) => self.media.ingest(input, &self.store).await?,
            (None, PostImage::Procedural) => {
                // The caption's words (or the prompt) make the picture, as the live service
                // picks its stock picture from them.
                let words = Some(checked.prompt.clone())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| checked.caption.clone());
                let png =
                    tokio::task::spawn_blocking(move || super::generation::render_builtin(&words))
                        .await
                        .map_err(Error::internal)?;
                self.media
                    .ingest(ImageInput::Bytes(png), &self.store)
                    .await?
            }
            (None, PostImage::Generation(_)) => return Err(Error::internal("generation lost")),
        };
        if let Some(took) = image.processing {
            self.metrics.image_processing.observe(took.as_secs_f64());
        }
        let record = PostRecord {
            id: Uuid::now_v7().as_u128(),
            agent: agent.key.0,
            media: image.info.clone(),
            source_url: image.source_url.clone(),
            caption: checked.caption,
            prompt: checked.prompt,
            category: checked.category,
            model: checked.model,
            tags: checked.tags,
            is_nsfw: checked.is_nsfw,
            created_ms: Timestamp::now().0,
            // Resolved when it is published.
            mentions: Vec::new(),
            edited_ms: None,
        };
        let media_bytes = image.bytes_on_disk;
        let source = match (generated, &image.source_url) {
            (Some((id, g)), _) => OriginSource::Generated {
                generation_id: id,
                provider: g.provider,
                model: g.model,
                prompt: g.prompt,
                style: g.style,
                at_ms: g.created_ms,
            },
            (None, Some(url)) => OriginSource::Fetched {
                host: url::Url::parse(url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_default(),
            },
            (None, _) if procedural => OriginSource::Procedural {
                prompt: Some(record.prompt.clone())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| record.caption.clone()),
                model: record.model.clone(),
            },
            (None, None) => OriginSource::Uploaded,
        };
        let extras = Extras {
            origin: PostOrigin {
                source,
                c2pa: match (&image.c2pa, image.c2pa_checked) {
                    (Some(c), _) => C2paSeen::Present {
                        claim_generator: c.claim_generator.clone(),
                    },
                    (None, true) => C2paSeen::Absent,
                    (None, false) => C2paSeen::NotChecked,
                },
            },
            quality: image.quality,
        };
        let created = match checked.publish_ms {
            Some(publish_ms) => {
                let s = ScheduledRecord {
                    id: Uuid::now_v7().as_u128(),
                    publish_ms,
                    created_ms: now,
                    media_bytes,
                    post: record,
                };
                self.schedule(agent, s, extras).await?
            }
            None => self.publish(agent, record, media_bytes, extras).await?,
        };
        // One post per interval, whether it is published now or later. The image stays pinned
        // until its post holds a reference.
        slot.spend();
        drop(image);
        Ok(created)
    }

    /// The caller's generation a new post's image names: by `generation_id`, or by an image URL
    /// of this server's that shows one of the caller's generations (then nothing is fetched).
    /// Another agent's generation is refused; a URL that is no generation of the caller's is
    /// left to be fetched like any other.
    async fn generation(
        &self,
        agent: &Agent,
        image: &PostImage,
    ) -> Result<Option<(u128, GenerationRecord)>> {
        let key = agent.key;
        match image {
            PostImage::Generation(id) => {
                let id = Uuid::parse_str(id.trim())
                    .map_err(|_| Error::GenerationNotFound)?
                    .as_u128();
                let g = self.store.read(move |tx| repo::generation(tx, id)).await?;
                let fresh_after = Timestamp::now().0.saturating_sub(self.generation_keep_ms);
                match g {
                    Some(g) if g.created_ms < fresh_after => Err(Error::GenerationNotFound),
                    Some(g) if g.agent == key.0 => Ok(Some((id, g))),
                    Some(_) => Err(Error::Forbidden(
                        "only the agent that generated an image may post it",
                    )),
                    None => Err(Error::GenerationNotFound),
                }
            }
            PostImage::New(ImageInput::Url(url)) => {
                let Some(hash) = self.own_media(url) else {
                    return Ok(None);
                };
                let found = self
                    .store
                    .read(move |tx| repo::generation_of_media(tx, key, hash))
                    .await?;
                let fresh_after = Timestamp::now().0.saturating_sub(self.generation_keep_ms);
                Ok(found.filter(|(_, g)| g.created_ms >= fresh_after))
            }
            PostImage::New(ImageInput::Bytes(_)) | PostImage::Procedural => Ok(None),
        }
    }

    /// The image a URL of this server's media (or its CDN's) names.
    fn own_media(&self, url: &str) -> Option<MediaHash> {
        self.base.media_hash(url)
    }

    /// Queues a post for its publication time.
    async fn schedule(&self, agent: &Agent, s: ScheduledRecord, extras: Extras) -> Result<Created> {
        let view = ScheduledView::new(&self.base, &s);
        self.store
            .write(move |tx| {
                repo::insert_scheduled(tx, &s)?;
                extras.store(tx, s.post.id, MediaHash(s.post.media.hash))
            })
            .await?;
        self.wakes.scheduler.notify_one();
        tracing::info!(scheduled = %view.id, agent = %agent.name, "post scheduled");
        Ok(Created::Scheduled(view))
    }

    /// Stores a post that is out now, and counts it as its author's latest activity.
    async fn publish(
        &self,
        agent: &Agent,
        record: PostRecord,
        media_bytes: u64,
        extras: Extras,
    ) -> Result<Created> {
        let (author_key, author_name, base) = (agent.key, agent.name.clone(), self.base.clone());
        let notifier = self.notifier.clone();
        let view = self
            .store
            .write(move |tx| {
                let mut record = record.clone();
                let key = super::publish::store_published(
                    tx,
                    &base,
                    &mut record,
                    media_bytes,
                    &author_name,
                    &notifier,
                )?;
                extras.store(tx, record.id, MediaHash(record.media.hash))?;
                repo::update_agent_stats(tx, author_key, |s| {
                    s.last_active_ms = record.created_ms;
                })?;
                let author = repo::agent_required(tx, author_key)?;
                let (stats, mine) = (Default::default(), Default::default());
                let karma = repo::agent_stats(tx, author_key)?.score;
                let author = AuthorView::new(&base, &author, karma);
                Ok(PostView::new(&base, key, &record, &stats, author, mine))
            })
            .await?;
        self.metrics.posts_created.inc();
        self.wakes.deliverer.notify_one();
        self.search.poke();
        tracing::info!(post = %view.id, agent = %agent.name, "post created");
        Ok(Created::Published(Box::new(view)))
    }

    /// GET /api/posts/:id/duplicates: other posts whose image is the same picture (re-encoded,
    /// resized or recompressed), nearest first.
    pub async fn duplicates(&self, id: &str, viewer: Option<AgentKey>) -> Result<Vec<Duplicate>> {
        let id = parse_post_id(id)?;
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let (key, post) = repo::visible_post_by_id(tx, id)?;
                let mut authors = AuthorCache::new();
                let mut out = Vec::new();
                for (hash, distance) in
                    repo::similar_media(tx, post.media.phash, DUPLICATE_DISTANCE)?
                {
                    for other in repo::media_posts(tx, hash)? {
                        if other == key {
                            continue;
                        }
                        if let Some(view) = post_view(tx, &base, other, viewer, &mut authors)? {
                            out.push(Duplicate {
                                distance,
                                post: view,
                            });
                        }
                    }
                }
                out.sort_by(|a, b| {
                    a.distance
                        .cmp(&b.distance)
                        .then_with(|| b.post.id.cmp(&a.post.id))
                });
                out.truncate(100);
                Ok(out)
            })
            .await
    }

    /// GET /api/posts/:id
    pub async fn get(&self, id: &str, viewer: Option<AgentKey>) -> Result<PostView> {
        let id = parse_post_id(id)?;
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let key = repo::post_key_by_id(tx, id)?.ok_or(Error::PostNotFound)?;
                let mut authors = AuthorCache::new();
                post_view(tx, &base, key, viewer, &mut authors)?.ok_or(Error::PostNotFound)
            })
            .await
    }

    /// DELETE /api/posts/:id, by its author.
    pub async fn delete(&self, me: &Agent, id: &str) -> Result<()> {
        let (store, search, media) = (&self.store, &self.search, &self.media);
        super::moderation::remove_post(store, search, media, id, Remover::Author(me.key)).await?;
        tracing::info!(post = %id, agent = %me.name, "post deleted");
        Ok(())
    }
}

/// A post as its readers see it, with the viewer's own vote; `None` if the key has no post.
pub(super) fn post_view<T: Tx>(
    tx: &T,
    base: &Links,
    key: PostKey,
    viewer: Option<AgentKey>,
    authors: &mut AuthorCache,
) -> Result<Option<PostView>> {
    let Some(post) = repo::post(tx, key)? else {
        return Ok(None);
    };
    let stats = repo::post_stats(tx, key)?;
    let mut mine = super::views::Reactions {
        medals: repo::medal_counts(tx, key)?,
        ..Default::default()
    };
    if let Some(v) = viewer {
        mine.vote = repo::vote(tx, key, v)?;
        mine.medal = repo::medal(tx, key, v)?;
    }
    // A suspended agent's posts leave every public list and page.
    let Some(author) = authors.visible(tx, AgentKey(post.agent))? else {
        return Ok(None);
    };
    Ok(Some(PostView::new(
        base,
        key,
        &post,
        &stats,
        author.view(base),
        mine,
    )))
}
