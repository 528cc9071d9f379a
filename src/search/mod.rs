//! Full-text search over posts (caption, hashtags, prompt, model, author) and agents (name, bio),
//! with tantivy. The index is derived data: changes reach it through a durable outbox in the store
//! (written in the same transaction as the data), one background task applies them in batches,
//! and a missing or unreadable index is rebuilt from the database at start.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT};
use tantivy::{
    DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader, Term, doc,
};
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::store::records::IndexChange;
use crate::store::{AgentKey, PostKey, Store, repo};

/// Bumped whenever the schema changes; an index of another version is rebuilt.
const SCHEMA_VERSION: &str = "search-v1";
/// Most results one query can page through.
pub const MAX_RESULTS: usize = 1000;
/// Changes applied per index commit.
const BATCH: usize = 2000;

#[derive(Clone, Copy)]
struct Fields {
    uid: Field,
    kind: Field,
    key: Field,
    created: Field,
    caption: Field,
    tags: Field,
    prompt: Field,
    model: Field,
    author: Field,
    name: Field,
    bio: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        uid: b.add_text_field("uid", STRING),
        kind: b.add_text_field("kind", STRING),
        key: b.add_u64_field("key", INDEXED | STORED | FAST),
        created: b.add_i64_field("created", FAST),
        caption: b.add_text_field("caption", TEXT),
        tags: b.add_text_field("tags", TEXT),
        prompt: b.add_text_field("prompt", TEXT),
        model: b.add_text_field("model", TEXT),
        author: b.add_text_field("author", TEXT),
        name: b.add_text_field("name", TEXT),
        bio: b.add_text_field("bio", TEXT),
    };
    (b.build(), f)
}

/// What to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    Posts,
    Agents,
}

impl SearchKind {
    fn term(self) -> &'static str {
        match self {
            SearchKind::Posts => "post",
            SearchKind::Agents => "agent",
        }
    }
}

pub struct Search {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    notify: Notify,
    stopping: AtomicBool,
}

impl Search {
    /// Opens the index under `data_dir/search`, or creates it empty. Returns whether it must be
    /// rebuilt from the database (it was missing, unreadable or of another schema version).
    pub fn open(data_dir: &Path) -> Result<(Arc<Search>, bool)> {
        let dir = data_dir.join("search");
        let (schema, fields) = schema();
        let version_file = dir.join("VERSION");
        let current = std::fs::read_to_string(&version_file).ok();
        let opened = if current.as_deref() == Some(SCHEMA_VERSION) {
            Index::open_in_dir(&dir)
                .ok()
                .filter(|i| i.schema() == schema)
        } else {
            None
        };
        let rebuild = opened.is_none();
        let index = match opened {
            Some(i) => i,
            None => {
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::internal(format!("search dir: {e}")))?;
                let i = Index::create_in_dir(&dir, schema).map_err(search_err)?;
                std::fs::write(&version_file, SCHEMA_VERSION)
                    .map_err(|e| Error::internal(format!("search version: {e}")))?;
                i
            }
        };
        let writer = index
            .writer_with_num_threads(1, 32 * 1024 * 1024)
            .map_err(search_err)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(search_err)?;
        Ok((
            Arc::new(Search {
                index,
                reader,
                writer: Mutex::new(writer),
                fields,
                notify: Notify::new(),
                stopping: AtomicBool::new(false),
            }),
            rebuild,
        ))
    }

    /// Wakes the indexer: new changes are in the outbox.
    pub fn poke(&self) {
        self.notify.notify_one();
    }

    /// Re-indexes everything from one database snapshot and forgets the outbox it covers.
    pub async fn rebuild(self: &Arc<Self>, store: &Store) -> Result<u64> {
        let this = self.clone();
        let (count, covered) = store
            .read(move |tx| {
                let mut w = this
                    .writer
                    .lock()
                    .map_err(|_| Error::internal("index writer lock"))?;
                w.delete_all_documents().map_err(search_err)?;
                let mut n = 0u64;
                for key in repo::all_agent_keys(tx)? {
                    this.add_agent(&mut w, tx, key)?;
                    n += 1;
                }
                for key in repo::all_post_keys(tx)? {
                    this.add_post(&mut w, tx, key)?;
                    n += 1;
                }
                w.commit().map_err(search_err)?;
                this.reader.reload().map_err(search_err)?;
                let covered = repo::pending_index_changes(tx, usize::MAX)?
                    .last()
                    .map(|c| c.0);
                Ok((n, covered))
            })
            .await?;
        if let Some(upto) = covered {
            store
                .write(move |tx| repo::ack_index_changes(tx, upto))
                .await?;
        }
        tracing::info!(documents = count, "search index rebuilt");
        Ok(count)
    }

    /// Asks the indexer to exit after the batch it is applying.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// The indexer: applies outbox changes in batches until [`Search::stop`].
    pub async fn run(self: Arc<Self>, store: Store) {
        while !self.stopping.load(Ordering::SeqCst) {
            match self.apply_pending(&store).await {
                Ok(0) => {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), self.notify.notified()).await;
                }
                Ok(_) => {}
                Err(Error::ShuttingDown) => return,
                Err(e) => {
                    tracing::error!(cause = %e, "search indexing failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Applies one batch of pending changes; returns how many.
    pub async fn apply_pending(self: &Arc<Self>, store: &Store) -> Result<usize> {
        let this = self.clone();
        let (n, last) = store
            .read(move |tx| {
                let changes = repo::pending_index_changes(tx, BATCH)?;
                let Some(last) = changes.last().map(|c| c.0) else {
                    return Ok((0, 0));
                };
                let mut w = this
                    .writer
                    .lock()
                    .map_err(|_| Error::internal("index writer lock"))?;
                for (_, change) in &changes {
                    match *change {
                        IndexChange::Post(k) => this.add_post(&mut w, tx, PostKey(k))?,
                        IndexChange::DeletePost(k) => {
                            w.delete_term(Term::from_field_text(
                                this.fields.uid,
                                &format!("p:{k}"),
                            ));
                        }
                        IndexChange::Agent(k) => this.add_agent(&mut w, tx, AgentKey(k))?,
                    }
                }
                w.commit().map_err(search_err)?;
                this.reader.reload().map_err(search_err)?;
                Ok((changes.len(), last))
            })
            .await?;
        if n > 0 {
            store
                .write(move |tx| repo::ack_index_changes(tx, last))
                .await?;
        }
        Ok(n)
    }

    /// (Re-)indexes a post; a post that no longer exists is removed.
    fn add_post<T: crate::store::Tx>(
        &self,
        w: &mut IndexWriter,
        tx: &T,
        key: PostKey,
    ) -> Result<()> {
        let f = self.fields;
        let uid = format!("p:{}", key.0);
        w.delete_term(Term::from_field_text(f.uid, &uid));
        let Some(p) = repo::post(tx, key)? else {
            return Ok(());
        };
        let author = repo::agent(tx, AgentKey(p.agent))?
            .map(|a| a.name)
            .unwrap_or_default();
        w.add_document(doc!(
            f.uid => uid,
            f.kind => "post",
            f.key => key.0,
            f.created => p.created_ms,
            f.caption => p.caption,
            f.tags => p.tags.join(" "),
            f.prompt => p.prompt,
            f.model => p.model,
            f.author => author,
        ))
        .map_err(search_err)?;
        Ok(())
    }

    fn add_agent<T: crate::store::Tx>(
        &self,
        w: &mut IndexWriter,
        tx: &T,
        key: AgentKey,
    ) -> Result<()> {
        let f = self.fields;
        let uid = format!("a:{}", key.0);
        w.delete_term(Term::from_field_text(f.uid, &uid));
        let Some(a) = repo::agent(tx, key)? else {
            return Ok(());
        };
        w.add_document(doc!(
            f.uid => uid,
            f.kind => "agent",
            f.key => key.0,
            f.created => a.created_ms,
            f.name => a.name.replace(['_', '-'], " ") + " " + &a.name,
            f.bio => format!("{} {}", a.bio, a.description),
            f.model => a.model,
        ))
        .map_err(search_err)?;
        Ok(())
    }

    /// The best `depth` (at most `MAX_RESULTS`) matches of `q`, as `(score, key)`, best first
    /// (ties by key, so every depth returns a prefix of the same order): text relevance (BM25) times a
    /// recency boost that halves over 30 days relative to `now_ms`, so among equally good
    /// matches newer ones come first while an old perfect match still beats a new weak one.
    pub fn query(
        &self,
        q: &str,
        kind: SearchKind,
        now_ms: i64,
        depth: usize,
    ) -> Result<Vec<(f32, u64)>> {
        let f = self.fields;
        let fields = match kind {
            SearchKind::Posts => vec![f.caption, f.tags, f.prompt, f.model, f.author],
            SearchKind::Agents => vec![f.name, f.bio, f.model],
        };
        let mut parser = QueryParser::for_index(&self.index, fields);
        parser.set_field_boost(f.tags, 2.0);
        parser.set_field_boost(f.caption, 1.5);
        parser.set_field_boost(f.name, 2.0);
        let user: Box<dyn Query> = parser
            .parse_query(q)
            .map_err(|e| Error::InvalidQuery(e.to_string()))?;
        let only_kind = TermQuery::new(
            Term::from_field_text(f.kind, kind.term()),
            IndexRecordOption::Basic,
        );
        let query = BooleanQuery::new(vec![
            (Occur::Must, user),
            (Occur::Must, Box::new(only_kind)),
        ]);
        let collector = TopDocs::with_limit(depth.clamp(1, MAX_RESULTS)).tweak_score(
            move |seg: &SegmentReader| {
                let created = seg
                    .fast_fields()
                    .i64("created")
                    .ok()
                    .map(|c| c.first_or_default_col(now_ms));
                let key = seg
                    .fast_fields()
                    .u64("key")
                    .ok()
                    .map(|c| c.first_or_default_col(0));
                move |doc: DocId, score: Score| {
                    let age_days = created.as_ref().map_or(0.0, |c| {
                        (now_ms - c.get_val(doc)).max(0) as f32 / 86_400_000.0
                    });
                    let boost = 1.0 + 0.5f32.powf(age_days / 30.0);
                    (score * boost, key.as_ref().map_or(0, |k| k.get_val(doc)))
                }
            },
        );
        let searcher = self.reader.searcher();
        let hits = searcher.search(&query, &collector).map_err(search_err)?;
        Ok(hits.into_iter().map(|(k, _)| k).collect())
    }

    /// Documents in the index (for `check` and tests).
    pub fn doc_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

fn search_err(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("search index: {e}"))
}
