//! `aistagram check [--repair]`. The primary rows determine every derived table (names, key and
//! id lookups, counters, feed ranks, tag and image indexes, the scheduler's and the deliverer's
//! queues); `repo::check_integrity` recomputes them from one snapshot with the rules the write
//! path uses and compares. This command adds what lies outside the database: image files that
//! are missing or do not match their hash, and a search index out of step. `--repair` drops the
//! dangling rows, rewrites every derived table in one transaction and rebuilds the search index;
//! what it cannot fix (lost or corrupted image files, posts without an author) is reported.

use std::sync::Arc;

use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AdminCommand;
use crate::admin::{Admin, Outcome, Progress, Unit};
use crate::error::{Error, Result};
use crate::media::files::VariantName;
use crate::store::{MediaHash, repo};

/// Images whose files are missing or whose original does not hash to its name, in whichever
/// store holds them. Blocking (it reads every original): run off the async workers.
fn media_problems(
    admin: &Admin,
    hashes: &[MediaHash],
    progress: &dyn Progress,
) -> Result<Vec<String>> {
    let rt = tokio::runtime::Handle::current();
    let storage = admin.media.storage();
    let mut out = Vec::new();
    progress.phase(
        &format!("checking image files in {}", storage.describe()),
        hashes.len() as u64,
        Unit::Items,
    );
    for (i, hash) in hashes.iter().enumerate() {
        progress.at(i as u64 + 1);
        let has_full = admin
            .store
            .read_blocking(|tx| repo::media(tx, *hash))
            .ok()
            .flatten()
            .is_some_and(|m| m.info.has_full);
        if !rt.block_on(storage.complete(*hash, has_full))? {
            out.push(format!("image {hash}: files missing"));
            continue;
        }
        match rt.block_on(storage.get(*hash, VariantName::Original))? {
            Some(bytes) if MediaHash::of(&bytes) == *hash => {}
            Some(_) => out.push(format!("image {hash}: original does not match its hash")),
            None => out.push(format!("image {hash}: files missing")),
        }
    }
    Ok(out)
}

/// Check that counters, indexes, references, image files and the search index agree.
#[derive(Debug, Clone, Args, Serialize, Deserialize)]
pub struct Check {
    /// Fix what can be fixed (recount, rebuild indexes, drop dangling rows, reindex).
    #[arg(long)]
    pub repair: bool,
}

impl AdminCommand for Check {
    async fn run(self, admin: &Admin, progress: Arc<dyn Progress>) -> Result<Outcome> {
        let found = scan(admin, progress.clone()).await?;
        let mut all = found.problems.clone();
        all.extend(found.media.iter().cloned());
        if found.search_off {
            all.push("the search index is out of step with the database".into());
        }
        let (fixed, unfixed) = if self.repair {
            let fixed = repair(admin, &found, &*progress).await?;
            let mut left = found.media.clone();
            left.extend(
                found
                    .problems
                    .iter()
                    .filter(|p| p.contains("not repairable"))
                    .cloned(),
            );
            (fixed, left)
        } else {
            (Vec::new(), all.clone())
        };
        let text = report(&all, &fixed, &unfixed, self.repair);
        Ok(Outcome {
            text: text.trim_end().to_owned(),
            data: json!({ "ok": all.is_empty(), "problems": all, "repaired": fixed, "remaining": unfixed }),
            failed: !unfixed.is_empty(),
        })
    }
}

/// What the check found, before any repair.
struct Findings {
    /// Database problems, the unrepairable ones included.
    problems: Vec<String>,
    /// Whether rewriting the derived tables would fix some of `problems`.
    repairable: bool,
    /// Image files missing or damaged: nothing here can bring them back.
    media: Vec<String>,
    search_off: bool,
}

/// Compares the stored derived tables with ones recomputed from the same snapshot, then checks
/// the image files and the search index.
async fn scan(admin: &Admin, progress: Arc<dyn Progress>) -> Result<Findings> {
    let a = admin.clone();
    tokio::task::spawn_blocking(move || {
        progress.phase("checking the database", 0, Unit::Items);
        let found = a.store.read_blocking(repo::check_integrity)?;
        let repairable = !found.problems.is_empty();
        let mut problems = found.problems;
        problems.extend(found.unrepairable);
        let media = media_problems(&a, &found.referenced_media, &*progress)?;
        let (counts, pending) = a.store.read_blocking(|tx| {
            Ok((repo::counts(tx)?, repo::pending_index_changes(tx, 1)?.len()))
        })?;
        // While the indexer still has changes queued, a count that differs is only late.
        let search_off = pending == 0 && a.search.doc_count() != counts.agents + counts.posts;
        Ok(Findings {
            problems,
            repairable,
            media,
            search_off,
        })
    })
    .await
    .map_err(Error::internal)?
}

/// Rewrites the derived tables and rebuilds the search index as far as `found` calls for it;
/// returns what was done.
async fn repair(admin: &Admin, found: &Findings, progress: &dyn Progress) -> Result<Vec<String>> {
    let mut fixed = Vec::new();
    if found.repairable {
        progress.phase("repairing the database", 0, Unit::Items);
        admin.store.write(repo::repair_integrity).await?;
        fixed.push("rewrote derived tables and dropped dangling rows".to_owned());
    }
    if found.repairable || found.search_off {
        progress.phase("rebuilding the search index", 0, Unit::Items);
        admin.search.rebuild(&admin.store).await?;
        fixed.push("rebuilt the search index".to_owned());
    }
    // Not a problem (a post's quality is measured when first asked for), but repair measures
    // the images kept before quality scores were, so none waits for its first request.
    progress.phase("scoring images without a quality score", 0, Unit::Items);
    let scored = admin.services.provenance.score_missing().await?;
    if scored > 0 {
        fixed.push(format!(
            "scored the quality of {scored} images kept before scores were"
        ));
    }
    Ok(fixed)
}

/// The answer for people: every problem, then what was repaired and what is left.
fn report(all: &[String], fixed: &[String], unfixed: &[String], repair: bool) -> String {
    if all.is_empty() {
        return "check passed: every counter, index, reference, image and the search index agree"
            .to_owned();
    }
    let mut t = format!("{} problems found:\n", all.len());
    for p in all {
        t.push_str(&format!("  - {p}\n"));
    }
    if repair {
        for f in fixed {
            t.push_str(&format!("repaired: {f}\n"));
        }
        if unfixed.is_empty() {
            t.push_str("everything was repaired");
        } else {
            t.push_str(&format!("{} problems remain (see above)", unfixed.len()));
        }
    } else {
        t.push_str("run with --repair to fix what can be fixed");
    }
    t
}
