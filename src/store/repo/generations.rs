//! Generated images awaiting a post: each holds a reference on its image, found by id or by the
//! image's hash for its owner.

use super::*;

/// Stores a new generation and takes a reference on its image.
pub fn insert_generation(tx: &WriteTx, id: u128, g: &GenerationRecord, bytes: u64) -> Result<()> {
    take_media_ref(tx, &g.media, bytes, g.created_ms)?;
    tx.insert(GENERATIONS, id, g)?;
    tx.insert(GENERATION_MEDIA, (MediaHash(g.media.hash), g.agent), &id)
}

pub fn generation<T: Tx>(tx: &T, id: u128) -> Result<Option<GenerationRecord>> {
    tx.get(GENERATIONS, id)
}

/// The agent's newest generation of this image, if it has one.
pub fn generation_of_media<T: Tx>(
    tx: &T,
    agent: AgentKey,
    hash: MediaHash,
) -> Result<Option<(u128, GenerationRecord)>> {
    let Some(id) = tx.get(GENERATION_MEDIA, (hash, agent.0))? else {
        return Ok(None);
    };
    Ok(generation(tx, id)?.map(|g| (id, g)))
}

/// Whether any generation was made before `before_ms` (a read, so an idle sweep commits
/// nothing).
pub fn any_generation_before<T: Tx>(tx: &T, before_ms: i64) -> Result<bool> {
    let mut found = false;
    tx.scan_all(GENERATIONS, false, |_, g| {
        found = g.created_ms < before_ms;
        Ok(false)
    })?;
    Ok(found)
}

/// Removes the generations made before `before` (ids are UUIDv7: time-ordered), dropping their
/// image references; answers how many went and the images no row refers to any more.
pub fn expire_generations(tx: &WriteTx, before_ms: i64) -> Result<(u64, Vec<MediaHash>)> {
    let mut old = Vec::new();
    tx.scan_all(GENERATIONS, false, |id, g| {
        if g.created_ms >= before_ms {
            return Ok(false);
        }
        old.push((id, g));
        Ok(true)
    })?;
    let mut released = Vec::new();
    for (id, g) in &old {
        remove_generation(tx, *id, g, &mut released)?;
    }
    Ok((old.len() as u64, released))
}

fn remove_generation(
    tx: &WriteTx,
    id: u128,
    g: &GenerationRecord,
    released: &mut Vec<MediaHash>,
) -> Result<()> {
    tx.remove(GENERATIONS, id)?;
    let hash = MediaHash(g.media.hash);
    // The index names the newest generation of this image; an older one leaves it alone.
    if tx.get(GENERATION_MEDIA, (hash, g.agent))? == Some(id) {
        tx.remove(GENERATION_MEDIA, (hash, g.agent))?;
    }
    released.extend(drop_media_ref(tx, hash)?);
    Ok(())
}

/// Removes every generation of one agent (when the agent is deleted).
pub fn clear_generations(tx: &WriteTx, agent: AgentKey) -> Result<Vec<MediaHash>> {
    let mut mine = Vec::new();
    tx.scan_all(GENERATIONS, false, |id, g| {
        if g.agent == agent.0 {
            mine.push((id, g));
        }
        Ok(true)
    })?;
    let mut released = Vec::new();
    for (id, g) in &mine {
        remove_generation(tx, *id, g, &mut released)?;
    }
    Ok(released)
}
