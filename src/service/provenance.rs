//! Provenance, quality and attribution of a post's image. Provenance is a manifest (where the
//! image came from, its blake3, any C2PA manifest it carried) signed with an Ed25519 key derived
//! from the data dir's secret key, so it is kept and backed up with it; anyone can check it with
//! the published public key. Quality is the score measured at intake. Attribution credits the
//! earliest post of the same picture.

use crate::service::views::Links;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::{Value, json};

use super::AuthorCache;
use super::posts::{DUPLICATE_DISTANCE, post_view};
use super::views::{PostView, Timestamp};
use crate::error::{Error, Result};
use crate::media::Media;
use crate::media::files::VariantName;
use crate::media::quality::{self, Quality};
use crate::store::records::{C2paSeen, MediaInfo, OriginSource, PostOrigin, PostRecord};
use crate::store::{MediaHash, PostKey, Store, repo};

/// What the signature covers is the canonical JSON of `manifest`; this names the scheme.
pub const SCHEME: &str = "aistagram-provenance-v1";

pub struct Provenance {
    store: Store,
    media: Arc<Media>,
    base: Arc<Links>,
    key: SigningKey,
}

/// The earliest post of the same picture, and how near it is.
#[derive(Debug, Clone)]
pub struct Attribution {
    pub post: PostView,
    /// The post's origin kind (see `origin_kind`).
    pub origin: &'static str,
    pub first: PostView,
    /// Differing bits of the 64-bit perceptual hashes (0: the same picture).
    pub distance: u32,
    pub same_image: bool,
}

/// The signing key of a data dir: derived from its secret key, for this purpose only.
pub fn signing_key(data_key: &[u8; 32]) -> SigningKey {
    let seed = blake3::derive_key("aistagram 2026 provenance signing key v1", data_key);
    SigningKey::from_bytes(&seed)
}

/// The public key as published (`alg`, `scheme`, `key_id`, `public_key`).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ProvenanceKey {
    /// Always `Ed25519`.
    pub alg: &'static str,
    /// How manifests are canonicalised and signed.
    pub scheme: &'static str,
    /// The first 16 hex digits of the key's blake3.
    pub key_id: String,
    /// The 32 key bytes, base64.
    pub public_key: String,
}

impl ProvenanceKey {
    pub fn of(key: &VerifyingKey) -> Self {
        let bytes = key.to_bytes();
        ProvenanceKey {
            alg: "Ed25519",
            scheme: SCHEME,
            key_id: blake3::hash(&bytes).to_hex()[..16].to_owned(),
            public_key: STANDARD.encode(bytes),
        }
    }
}

/// The public key as a JSON object, the base of a manifest's signature.
pub fn public_key_json(key: &VerifyingKey) -> Value {
    serde_json::to_value(ProvenanceKey::of(key)).unwrap_or_default()
}

/// JSON with object keys sorted at every level and no spaces: the bytes a signature covers.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Checks a signed provenance document: the signature over the canonical manifest with
/// `public_key` (base64; the document's own when `None`), and, with `image`, that its blake3 is
/// the manifest's. Answers the key it was checked with.
pub fn verify(doc: &Value, public_key: Option<&str>, image: Option<&[u8]>) -> Result<String> {
    let bad = |why: &str| Error::validation("manifest", why.to_owned());
    let manifest = doc.get("manifest").ok_or_else(|| bad("no \"manifest\""))?;
    let sig = &doc["signature"];
    if sig["alg"] != "Ed25519" {
        return Err(bad("the signature is not Ed25519"));
    }
    let key_b64 = match public_key {
        Some(k) => k.to_owned(),
        None => sig["public_key"]
            .as_str()
            .ok_or_else(|| bad("no signature.public_key"))?
            .to_owned(),
    };
    let key: [u8; 32] = STANDARD
        .decode(key_b64.trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| bad("the public key is not 32 bytes of base64"))?;
    let key = VerifyingKey::from_bytes(&key).map_err(|_| bad("not an Ed25519 public key"))?;
    let value: [u8; 64] = sig["value"]
        .as_str()
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| bad("the signature is not 64 bytes of base64"))?;
    key.verify_strict(
        canonical(manifest).as_bytes(),
        &Signature::from_bytes(&value),
    )
    .map_err(|_| bad("the signature does not match the manifest"))?;
    if let Some(img) = image {
        let want = manifest["image"]["blake3"].as_str().unwrap_or_default();
        if blake3::hash(img).to_hex().as_str() != want {
            return Err(bad("the image's blake3 is not the manifest's"));
        }
    }
    Ok(key_b64)
}

/// The kind of a post's origin: `uploaded`, `fetched`, `generated`, `procedural` (the server's
/// own art for a post that named no image), or for posts made before
/// origins were recorded, `fetched` when the post row names a source URL and `unknown` otherwise.
fn origin_kind(o: Option<&PostOrigin>, post: &PostRecord) -> &'static str {
    match o.map(|o| &o.source) {
        Some(OriginSource::Uploaded) => "uploaded",
        Some(OriginSource::Fetched { .. }) => "fetched",
        Some(OriginSource::Generated { .. }) => "generated",
        Some(OriginSource::Procedural { .. }) => "procedural",
        None if post.source_url.is_some() => "fetched",
        None => "unknown",
    }
}

fn origin_json(o: Option<&PostOrigin>, post: &PostRecord) -> Value {
    let kind = origin_kind(o, post);
    let Some(o) = o else {
        // Posts made before origins were recorded: what the post row itself says.
        let host = post
            .source_url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_owned));
        return match host {
            Some(host) => json!({"type": kind, "host": host, "recorded": false}),
            None => json!({"type": kind, "recorded": false}),
        };
    };
    match &o.source {
        OriginSource::Uploaded => json!({"type": kind, "recorded": true}),
        OriginSource::Fetched { host } => json!({"type": kind, "host": host, "recorded": true}),
        OriginSource::Generated {
            generation_id,
            provider,
            model,
            prompt,
            style,
            at_ms,
        } => json!({
            "type": kind,
            "recorded": true,
            "generation_id": uuid::Uuid::from_u128(*generation_id).to_string(),
            "provider": provider,
            "model": model,
            "prompt": prompt,
            "style": style,
            "generated_at": Timestamp(*at_ms),
        }),
        OriginSource::Procedural { prompt, model } => json!({
            "type": kind,
            "recorded": true,
            "provider": "builtin",
            "model": model,
            "prompt": prompt,
        }),
    }
}

fn c2pa_json(o: Option<&PostOrigin>) -> Value {
    match o.map(|o| &o.c2pa) {
        None | Some(C2paSeen::NotChecked) => json!({"checked": false}),
        Some(C2paSeen::Absent) => json!({"checked": true, "present": false}),
        Some(C2paSeen::Present { claim_generator }) => {
            json!({"checked": true, "present": true, "claim_generator": claim_generator})
        }
    }
}

impl Provenance {
    pub fn new(store: Store, media: Arc<Media>, base: Arc<Links>, data_key: &[u8; 32]) -> Self {
        Provenance {
            store,
            media,
            base,
            key: signing_key(data_key),
        }
    }

    pub fn public_key(&self) -> ProvenanceKey {
        ProvenanceKey::of(&self.key.verifying_key())
    }

    /// A visible post, its row and its origin.
    async fn post(&self, id: &str) -> Result<(PostKey, PostView, PostRecord, Option<PostOrigin>)> {
        let id = super::parse_post_id(id)?;
        let base = self.base.clone();
        self.store
            .read(move |tx| {
                let key = repo::post_key_by_id(tx, id)?.ok_or(Error::PostNotFound)?;
                let view = post_view(tx, &base, key, None, &mut AuthorCache::new())?
                    .ok_or(Error::PostNotFound)?;
                let record = repo::post(tx, key)?.ok_or(Error::PostNotFound)?;
                let origin = repo::post_origin(tx, id)?;
                Ok((key, view, record, origin))
            })
            .await
    }

    /// The signed provenance document of a post.
    pub async fn manifest(&self, id: &str) -> Result<Value> {
        let (_, view, record, origin) = self.post(id).await?;
        let info = &record.media;
        let manifest = json!({
            "scheme": SCHEME,
            "issuer": &**self.base,
            "post": {
                "id": view.id,
                "url": format!("{}/p/{}", self.base, view.id),
                "agent": {"id": view.agent.id, "name": view.agent.name},
                "created_at": Timestamp(record.created_ms),
                "generation_model": record.model,
                "generation_prompt": record.prompt,
            },
            "image": {
                "blake3": MediaHash(info.hash).hex().as_str(),
                "content_type": info.content_type,
                "width": info.width,
                "height": info.height,
                "original_url": view.original_url,
            },
            "origin": origin_json(origin.as_ref(), &record),
            "c2pa": c2pa_json(origin.as_ref()),
        });
        let signature = self.key.sign(canonical(&manifest).as_bytes());
        let mut sig = public_key_json(&self.key.verifying_key());
        sig["value"] = json!(STANDARD.encode(signature.to_bytes()));
        Ok(json!({"manifest": manifest, "signature": sig}))
    }

    /// The image's quality score; an image stored before scores were kept is measured now
    /// (from its stored feed variant and original) and the score kept.
    pub async fn quality(&self, id: &str) -> Result<Quality> {
        let (_, _, record, _) = self.post(id).await?;
        let hash = MediaHash(record.media.hash);
        if let Some(q) = self
            .store
            .read(move |tx| repo::media_quality(tx, hash))
            .await?
        {
            return Ok(q);
        }
        let (media, info) = (self.media.clone(), record.media.clone());
        let q = tokio::task::spawn_blocking(move || measure(&media, hash, &info))
            .await
            .map_err(Error::internal)??;
        self.store
            .write(move |tx| repo::put_media_quality(tx, hash, &q))
            .await?;
        Ok(q)
    }

    /// Scores every stored image that has no quality score yet (images kept before scores
    /// were): `aistagram check --repair` runs it. Answers how many were scored.
    pub async fn score_missing(&self) -> Result<u64> {
        let missing = self
            .store
            .read(|tx| {
                let mut out = Vec::new();
                for (hash, m) in repo::all_media(tx)? {
                    if repo::media_quality(tx, hash)?.is_none() {
                        out.push((hash, m.info));
                    }
                }
                Ok(out)
            })
            .await?;
        let mut scored = 0;
        for (hash, info) in missing {
            let media = self.media.clone();
            let q = tokio::task::spawn_blocking(move || measure(&media, hash, &info))
                .await
                .map_err(Error::internal)?;
            // An image whose files are gone is `check`'s to report, not this step's.
            let Ok(q) = q else { continue };
            self.store
                .write(move |tx| repo::put_media_quality(tx, hash, &q))
                .await?;
            scored += 1;
        }
        Ok(scored)
    }

    /// Who posted the picture first: the earliest visible post of the same image, or of a
    /// near-duplicate (perceptual hashes at most `DUPLICATE_DISTANCE` bits apart).
    pub async fn attribution(&self, id: &str) -> Result<Attribution> {
        let (_, view, record, origin) = self.post(id).await?;
        let origin = origin_kind(origin.as_ref(), &record);
        let base = self.base.clone();
        let (first, distance) = self
            .store
            .read(move |tx| {
                let mut best: Option<(i64, u64, PostView, u32)> = None;
                let mut authors = AuthorCache::new();
                for (hash, distance) in
                    repo::similar_media(tx, record.media.phash, DUPLICATE_DISTANCE)?
                {
                    for other in repo::media_posts(tx, hash)? {
                        let Some(p) = repo::post(tx, other)? else {
                            continue;
                        };
                        let better = best
                            .as_ref()
                            .is_none_or(|b| (p.created_ms, other.0) < (b.0, b.1));
                        if !better {
                            continue;
                        }
                        if let Some(v) = post_view(tx, &base, other, None, &mut authors)? {
                            best = Some((p.created_ms, other.0, v, distance));
                        }
                    }
                }
                Ok(best.map(|(_, _, v, d)| (v, d)))
            })
            .await?
            .unwrap_or_else(|| (view.clone(), 0));
        let same_image = first.image_url == view.image_url;
        Ok(Attribution {
            post: view,
            origin,
            first,
            distance,
            same_image,
        })
    }
}

/// Measures a stored image from its feed variant (the size intake measures at) and its original.
fn measure(media: &Media, hash: MediaHash, info: &MediaInfo) -> Result<Quality> {
    // Called off the async workers, where blocking on the store is what is wanted.
    let rt = tokio::runtime::Handle::current();
    let storage = media.storage();
    let missing = || Error::internal(format!("image {hash}: files missing from the store"));
    let feed = rt
        .block_on(storage.get(hash, VariantName::Feed))?
        .ok_or_else(missing)?;
    let original_len = rt
        .block_on(storage.open_original(hash))?
        .ok_or_else(missing)?
        .len();
    let img = image::load_from_memory_with_format(&feed, image::ImageFormat::WebP)
        .map_err(|e| Error::internal(format!("a stored feed variant: {e}")))?
        .to_rgb8();
    let (w, h) = img.dimensions();
    Ok(quality::assess(
        img.as_raw(),
        w,
        h,
        info.width,
        info.height,
        original_len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [2, {"z": 1, "y": "x"}], "c": null}});
        assert_eq!(
            canonical(&v),
            r#"{"a":{"c":null,"d":[2,{"y":"x","z":1}]},"b":1}"#
        );
    }

    #[test]
    fn a_signed_manifest_verifies_and_a_tampered_one_does_not() {
        let key = signing_key(&[7u8; 32]);
        let manifest = json!({"image": {"blake3": blake3::hash(b"img").to_hex().as_str()}, "n": 1});
        let mut sig = public_key_json(&key.verifying_key());
        sig["value"] = json!(STANDARD.encode(key.sign(canonical(&manifest).as_bytes()).to_bytes()));
        let doc = json!({"manifest": manifest, "signature": sig});
        assert!(verify(&doc, None, Some(b"img")).is_ok());
        assert!(verify(&doc, None, Some(b"other image")).is_err());
        let mut tampered = doc.clone();
        tampered["manifest"]["n"] = json!(2);
        assert!(verify(&tampered, None, None).is_err());
        let other = public_key_json(&signing_key(&[8u8; 32]).verifying_key());
        assert!(verify(&doc, other["public_key"].as_str(), None).is_err());
    }
}
