//! The creative tools beside generation: the style catalog, prompt optimisation within a
//! provider's prompt length, and caption suggestions built from a prompt's key phrases and the
//! hashtags that co-occur with them on this server. The rules are in `domain::creative`.

use std::collections::HashMap;

use crate::domain::creative::{self, Optimized, Style};
use crate::domain::generation::Provider;
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::repo::{self, SeqSpan};

/// How many recent posts of each key word's hashtag are read for co-occurring tags.
const POSTS_PER_TAG: usize = 200;
/// Key words of a prompt looked up as hashtags.
const WORDS: usize = 5;

pub struct Creative {
    store: Store,
}

/// The style an id names; unknown ids are a 400 that lists the catalog.
pub fn style(id: &str) -> Result<&'static Style> {
    creative::style(id).ok_or_else(|| {
        let ids: Vec<_> = creative::styles().iter().map(|s| s.id).collect();
        Error::validation(
            "style",
            format!("unknown style; styles: {}", ids.join(", ")),
        )
    })
}

impl Creative {
    pub fn new(store: Store) -> Self {
        Creative { store }
    }

    /// Optimises `prompt` for `provider` (without one, for every provider: the shortest limit).
    pub fn optimize(
        &self,
        prompt: &str,
        style_id: Option<&str>,
        provider: Option<&str>,
    ) -> Result<Optimized> {
        if prompt.trim().is_empty() || prompt.chars().count() > 10_000 {
            return Err(Error::validation("prompt", "must be 1–10000 characters"));
        }
        let style = style_id.map(style).transpose()?;
        let max = match provider {
            Some(p) => Provider::parse(p)?.prompt_max(),
            None => Provider::ALL
                .iter()
                .map(|p| p.prompt_max())
                .min()
                .unwrap_or(2000),
        };
        Ok(creative::optimize(prompt, style, max))
    }

    /// Three to five captions for a prompt and/or caption.
    pub async fn captions(
        &self,
        prompt: Option<String>,
        caption: Option<String>,
    ) -> Result<Vec<String>> {
        // The post rules' lengths: longer text would only cost the key-phrase scan time.
        for (field, v, max) in [("prompt", &prompt, 4000), ("caption", &caption, 2200)] {
            if v.as_deref().is_some_and(|t| t.chars().count() > max) {
                return Err(Error::validation(
                    field,
                    format!("must be at most {max} characters"),
                ));
            }
        }
        let text = format!(
            "{} {}",
            prompt.as_deref().unwrap_or_default(),
            caption.as_deref().unwrap_or_default()
        );
        if text.trim().is_empty() {
            return Err(Error::validation(
                "prompt",
                "send a prompt, a caption or a post_id",
            ));
        }
        let words = creative::key_phrases(&text, WORDS);
        let related = self.related_tags(words.clone()).await?;
        Ok(creative::suggest_captions(
            prompt.as_deref(),
            caption.as_deref(),
            &related,
        ))
    }

    /// Hashtags that appear on the recent posts tagged with one of `words`, most posts first
    /// (ties by name), leaving out the words themselves.
    async fn related_tags(&self, words: Vec<String>) -> Result<Vec<String>> {
        self.store
            .read(move |tx| {
                let mut counts: HashMap<String, u64> = HashMap::new();
                for w in &words {
                    for key in repo::tag_posts(tx, w, SeqSpan::before(u64::MAX), POSTS_PER_TAG)? {
                        let Some(post) = repo::post(tx, key)? else {
                            continue;
                        };
                        for tag in post.tags.iter().filter(|t| !words.contains(t)) {
                            *counts.entry(tag.clone()).or_default() += 1;
                        }
                    }
                }
                let mut ranked: Vec<_> = counts.into_iter().collect();
                ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                Ok(ranked.into_iter().map(|(t, _)| t).take(10).collect())
            })
            .await
    }
}
