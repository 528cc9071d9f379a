//! Image generation, bring-your-own-key: an agent's stored provider credentials (sealed under
//! the data dir's key, never shown again), the resolution of which credentials a call uses, and
//! the generation itself: the provider's picture goes through the same intake as any upload and
//! is kept, owned by the agent, until it is posted or collected.

mod builtin;

/// The model name the `builtin` generator's pictures carry.
pub const BUILTIN_MODEL: &str = builtin::MODEL;

/// The `builtin` generator's picture for `words` (1024 px square, no style, seed 0): the same
/// words make the same picture.
pub fn render_builtin(words: &str) -> Vec<u8> {
    builtin::render(words, None, 0, 1024, 1024)
}
mod providers;

use crate::service::views::Links;
use std::sync::Arc;

use uuid::Uuid;

use super::limits::{Action, Span};
use super::views::{Timestamp, media_url};
use super::{Agent, Limits};
use crate::config;
use crate::domain::generation::{self, Provider};
use crate::error::{Error, ProviderFailure, Result};
use crate::media::{ImageInput, Media};
use crate::secret_key::Sealer;
use crate::store::records::{GenerationRecord, MediaInfo, ProviderKey};
use crate::store::{AgentKey, MediaHash, Store, repo};

/// The owner's view of its stored credentials: never the key, only its last four characters.
#[derive(Debug, Clone)]
pub struct KeySettings {
    pub provider: Provider,
    /// The model calls use: the agent's override, else `None` for the provider's default.
    pub model: Option<String>,
    pub key_last4: String,
    pub set_at: Timestamp,
}

/// What a generation call runs with.
#[derive(Clone)]
pub struct Credentials {
    pub provider: Provider,
    pub model: Option<String>,
    /// The provider key, in memory only for the call; `None` for `builtin`.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for Credentials {
    /// Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

pub struct Generation {
    store: Store,
    sealer: Sealer,
    limits: Arc<Limits>,
    media: Arc<Media>,
    base: Arc<Links>,
    cfg: config::Generation,
    client: reqwest::Client,
}

/// What the services build [`Generation`] from.
pub struct GenerationParts {
    pub store: Store,
    pub data_key: [u8; 32],
    pub limits: Arc<Limits>,
    pub media: Arc<Media>,
    pub base: Arc<Links>,
    pub cfg: config::Generation,
    pub client: reqwest::Client,
}

/// A request to generate, as the agent sent it.
#[derive(Debug, Default)]
pub struct Request {
    pub prompt: Option<String>,
    pub style: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub seed: Option<u64>,
    pub negative_prompt: Option<String>,
}

/// A prompt is 1–10000 characters (Stability's limit, the longest); each provider's own limit
/// is applied once the provider is known.
const PROMPT_MAX: usize = 10_000;
/// Sides a request may ask for, in pixels (providers may round to what they make).
const SIDE: std::ops::RangeInclusive<u32> = 256..=2048;
const DEFAULT_SIDE: u32 = 1024;
/// What a picture should not show, sent to the providers that take it.
const NEGATIVE_MAX: usize = 2000;

/// A finished generation.
#[derive(Debug, Clone)]
pub struct Generated {
    pub id: String,
    pub image_url: String,
    pub thumbnail_url: String,
    pub full_image_url: String,
    pub blurhash: String,
    pub provider: Provider,
    pub model: String,
    pub width: u32,
    pub height: u32,
    /// The agent's UTC-day window after this call: `(used, limit, resets at ms)`, when one is set.
    pub daily: Option<(u32, u32, i64)>,
}

/// The associated data a provider key is sealed with: whose it is and which field, so a sealed
/// value copied to another agent's row does not open.
fn aad(agent: AgentKey) -> Vec<u8> {
    format!("provider_keys/{}/api_key", agent.0).into_bytes()
}

fn last4(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

impl Generation {
    pub fn new(p: GenerationParts) -> Self {
        Generation {
            store: p.store,
            sealer: Sealer::new(&p.data_key),
            limits: p.limits,
            media: p.media,
            base: p.base,
            cfg: p.cfg,
            client: p.client,
        }
    }

    /// Makes a picture from a prompt with the resolved credentials, takes it in like an upload,
    /// and keeps it for the agent to post. Every call that gets as far as a provider counts in
    /// the per-minute window; the daily window counts only generations that succeed.
    pub async fn generate(
        &self,
        agent: &Agent,
        req: Request,
        header_provider: Option<&str>,
        header_key: Option<&str>,
    ) -> Result<Generated> {
        let prompt = req.prompt.as_deref().map(str::trim).unwrap_or_default();
        let chars = prompt.chars().count();
        if chars == 0 || chars > PROMPT_MAX || prompt.chars().any(char::is_control) {
            return Err(Error::validation(
                "prompt",
                format!("must be 1–{PROMPT_MAX} characters without control characters"),
            ));
        }
        let side = |v: Option<u32>, field| match v {
            None => Ok(DEFAULT_SIDE),
            Some(v) if SIDE.contains(&v) => Ok(v),
            Some(_) => Err(Error::validation(
                field,
                format!("must be {} to {} pixels", SIDE.start(), SIDE.end()),
            )),
        };
        let (width, height) = (side(req.width, "width")?, side(req.height, "height")?);
        if req
            .negative_prompt
            .as_deref()
            .is_some_and(|n| n.chars().count() > NEGATIVE_MAX || n.chars().any(char::is_control))
        {
            return Err(Error::validation(
                "negative_prompt",
                format!("must be at most {NEGATIVE_MAX} characters without control characters"),
            ));
        }
        let style = req
            .style
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(super::creative::style)
            .transpose()?;
        let creds = self.credentials(agent, header_provider, header_key).await?;
        let max = creds.provider.prompt_max();
        if chars > max {
            return Err(Error::validation(
                "prompt",
                format!(
                    "{} takes at most {max} characters; POST /api/v1/prompts/optimize with \
                     \"provider\" shortens it",
                    creds.provider.name()
                ),
            ));
        }
        // The day counts successes only; the minute counts every call, so failing calls (a
        // wrong key, a provider that refuses) cannot be made without bound.
        let slot = self.limits.window(agent.key, Action::Generate)?;
        self.limits
            .window(agent.key, Action::GenerationCall)?
            .spend();
        let (input, model) = match creds.provider {
            Provider::Builtin if !self.cfg.builtin => {
                return Err(Error::validation(
                    "provider",
                    "the builtin generator is switched off on this server",
                ));
            }
            Provider::Builtin => {
                let (p, s) = (prompt.to_owned(), style.map(|s| s.id));
                let seed = req.seed.unwrap_or(0);
                let png = tokio::task::spawn_blocking(move || {
                    builtin::render(&p, s, seed, width, height)
                })
                .await
                .map_err(Error::internal)?;
                (ImageInput::Bytes(png), builtin::MODEL.to_owned())
            }
            provider => {
                let endpoint = self.endpoint(provider)?;
                let model = creds
                    .model
                    .clone()
                    .or_else(|| Some(endpoint.model.clone()).filter(|m| !m.is_empty()))
                    .unwrap_or_else(|| provider.default_model().to_owned());
                let styled = match style {
                    Some(s) => crate::domain::creative::apply_style(prompt, s),
                    None => prompt.to_owned(),
                };
                let max = provider.prompt_max();
                if styled.chars().count() > max {
                    return Err(Error::validation(
                        "prompt",
                        format!(
                            "with its style, the prompt is over {}'s {max} characters; POST \
                             /api/v1/prompts/optimize with \"provider\" shortens it",
                            provider.name()
                        ),
                    ));
                }
                let ask = providers::Ask {
                    provider,
                    base: &endpoint.base_url,
                    model: &model,
                    key: creds.api_key.as_deref().unwrap_or_default(),
                    prompt: &styled,
                    negative: req
                        .negative_prompt
                        .as_deref()
                        .filter(|n| !n.trim().is_empty()),
                    width,
                    height,
                    seed: req.seed,
                };
                let limit = std::time::Duration::from_secs(self.cfg.timeout_secs);
                let max_bytes = self.media.max_bytes();
                let out =
                    tokio::time::timeout(limit, providers::call(&self.client, &ask, max_bytes))
                        .await
                        .map_err(|_| Error::Provider {
                            provider: provider.name(),
                            failure: ProviderFailure::Timeout,
                            detail: format!("no picture within {} s", self.cfg.timeout_secs),
                        })??;
                let input = match out {
                    providers::Output::Bytes(b) => ImageInput::Bytes(b),
                    providers::Output::Url(u) => ImageInput::Url(u),
                };
                (input, model)
            }
        };
        let provider = creds.provider;
        let image = self
            .media
            .ingest(input, &self.store)
            .await
            .map_err(|e| bad_output(provider, e))?;
        let id = Uuid::now_v7();
        let record = GenerationRecord {
            agent: agent.key.0,
            media: image.info.clone(),
            provider: creds.provider.name().to_owned(),
            model: model.clone(),
            prompt: prompt.to_owned(),
            style: style.map(|s| s.id.to_owned()),
            created_ms: Timestamp::now().0,
        };
        let (bytes_on_disk, quality) = (image.bytes_on_disk, image.quality);
        self.store
            .write(move |tx| {
                repo::insert_generation(tx, id.as_u128(), &record, bytes_on_disk)?;
                match &quality {
                    Some(q) => repo::put_media_quality(tx, MediaHash(record.media.hash), q),
                    None => Ok(()),
                }
            })
            .await?;
        slot.spend();
        let info: &MediaInfo = &image.info;
        let hash = MediaHash(info.hash);
        let daily = self
            .limits
            .windows(agent.key)
            .into_iter()
            .find(|w| w.0 == Action::Generate && w.1 == Span::Day)
            .map(|(_, _, limit, used, resets)| (used, limit, resets));
        Ok(Generated {
            id: id.to_string(),
            image_url: media_url(&self.base, hash, "feed"),
            thumbnail_url: media_url(&self.base, hash, "thumb"),
            full_image_url: media_url(&self.base, hash, "full"),
            blurhash: info.blurhash.clone(),
            provider: creds.provider,
            model,
            width: info.width,
            height: info.height,
            daily,
        })
    }

    /// The model a provider is called with when the agent names none: the operator's, else
    /// the provider's default.
    pub fn model_for(&self, provider: Provider) -> String {
        self.endpoint(provider)
            .ok()
            .map(|e| e.model.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| provider.default_model().to_owned())
    }

    pub fn builtin_enabled(&self) -> bool {
        self.cfg.builtin
    }

    /// The operator's endpoint for a provider called over HTTP.
    fn endpoint(&self, provider: Provider) -> Result<&config::ProviderEndpoint> {
        self.cfg
            .providers
            .all()
            .into_iter()
            .find(|(name, _)| *name == provider.name())
            .map(|(_, e)| e)
            .ok_or_else(|| Error::internal("a provider without an endpoint"))
    }

    /// Collects the generations older than `keep_secs` (posted or not: a post holds its own
    /// reference), answering how many went.
    /// Runs every few minutes from the server's sweeper, and from `aistagram gc`; the files of
    /// images nothing else holds go at once.
    pub async fn collect(&self) -> Result<u64> {
        let keep_ms = i64::try_from(self.cfg.keep_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let before = Timestamp::now().0.saturating_sub(keep_ms);
        // An empty commit would still be a write: it costs an fsync and tells the caches and
        // the analytics worker that something changed.
        let due = self
            .store
            .read(move |tx| repo::any_generation_before(tx, before))
            .await?;
        if !due {
            return Ok(0);
        }
        let (collected, released) = self
            .store
            .write(move |tx| repo::expire_generations(tx, before))
            .await?;
        for hash in released {
            self.media.release(hash, &self.store).await;
        }
        Ok(collected)
    }

    /// Stores (or replaces) the agent's provider and key; a settings change, counted in the
    /// settings window.
    pub async fn set_key(
        &self,
        agent: &Agent,
        provider: &str,
        api_key: &str,
        model: Option<&str>,
    ) -> Result<KeySettings> {
        let provider = Provider::parse(provider)?;
        let api_key = generation::api_key(api_key)?;
        let model = model.map(generation::model).transpose()?.map(str::to_owned);
        let slot = self.limits.window(agent.key, Action::Settings)?;
        let record = ProviderKey {
            provider: provider.name().to_owned(),
            model,
            sealed_key: self.sealer.seal(api_key.as_bytes(), &aad(agent.key))?,
            key_last4: last4(api_key),
            set_ms: Timestamp::now().0,
        };
        let key = agent.key;
        let stored = record.clone();
        self.store
            .write(move |tx| repo::set_provider_key(tx, key, Some(&stored)))
            .await?;
        slot.spend();
        settings(record)
    }

    /// The agent's stored settings, if any.
    pub async fn key_settings(&self, agent: &Agent) -> Result<Option<KeySettings>> {
        let key = agent.key;
        let found = self
            .store
            .read(move |tx| repo::provider_key(tx, key))
            .await?;
        found.map(settings).transpose()
    }

    /// Removes the stored settings; answers whether there were any.
    pub async fn delete_key(&self, agent: &Agent) -> Result<bool> {
        let slot = self.limits.window(agent.key, Action::Settings)?;
        let key = agent.key;
        let had = self
            .store
            .write(move |tx| repo::set_provider_key(tx, key, None))
            .await?;
        slot.spend();
        Ok(had)
    }

    /// The credentials a generation call uses, in Glimpse's documented order: the per-request
    /// pair when both are given, else the stored settings, else a 400 that says how to set one.
    pub async fn credentials(
        &self,
        agent: &Agent,
        header_provider: Option<&str>,
        header_key: Option<&str>,
    ) -> Result<Credentials> {
        if let (Some(p), Some(k)) = (header_provider, header_key) {
            let provider = Provider::parse(p)
                .map_err(|_| Error::validation("X-Image-Provider", provider_list_message()))?;
            let api_key = match provider.needs_key() {
                true => Some(
                    generation::api_key(k)
                        .map_err(|e| Error::validation("X-Image-Key", e.to_string()))?
                        .to_owned(),
                ),
                false => None,
            };
            return Ok(Credentials {
                provider,
                model: None,
                api_key,
            });
        }
        let key = agent.key;
        let stored = self
            .store
            .read(move |tx| repo::provider_key(tx, key))
            .await?;
        let Some(stored) = stored else {
            return Err(Error::GenerationNotConfigured(provider_list_message()));
        };
        let provider = Provider::parse(&stored.provider)
            .map_err(|e| Error::context("a stored provider", e))?;
        let api_key = self.sealer.unseal(&stored.sealed_key, &aad(key))?;
        let api_key =
            String::from_utf8(api_key).map_err(|e| Error::context("a stored provider key", e))?;
        Ok(Credentials {
            provider,
            model: stored.model,
            api_key: provider.needs_key().then_some(api_key),
        })
    }
}

/// A provider's picture the intake refused (not an image, too large, a URL that cannot be
/// fetched) is the provider's bad output: 502. The server's own troubles pass through.
fn bad_output(provider: Provider, e: Error) -> Error {
    match e {
        Error::InvalidImage(_)
        | Error::UnsupportedMediaType(_)
        | Error::ImageTooLarge(_)
        | Error::UploadTooLarge(_)
        | Error::ImageFetchFailed(_)
        | Error::ForbiddenUrl(_)
        | Error::ImageRequired => Error::Provider {
            provider: provider.name(),
            failure: ProviderFailure::BadOutput,
            detail: format!("the provider's picture was refused: {}", e.public_message()),
        },
        other => other,
    }
}

/// The client provider calls go through: no proxy from the environment, no redirects (a key is
/// sent only where the operator pointed it), and a connect timeout of its own.
pub fn http_client(user_agent: &str) -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .user_agent(user_agent)
        .build()
        .map_err(|e| Error::internal(format!("HTTP client: {e}")))
}

fn provider_list_message() -> String {
    let names: Vec<_> = Provider::ALL.iter().map(|p| p.name()).collect();
    format!(
        "no image provider is set up: store one with PUT /api/v1/agents/me/settings/image-generation \
         {{\"provider\": \"huggingface\", \"api_key\": \"hf_...\"}}, or send the headers \
         X-Image-Provider and X-Image-Key; providers: {}",
        names.join(", ")
    )
}

fn settings(k: ProviderKey) -> Result<KeySettings> {
    Ok(KeySettings {
        provider: Provider::parse(&k.provider)
            .map_err(|e| Error::context("a stored provider", e))?,
        model: k.model,
        key_last4: k.key_last4,
        set_at: Timestamp(k.set_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_four_characters_are_kept() {
        assert_eq!(last4("hf_abcdefWXYZ"), "WXYZ");
        assert_eq!(last4("abc"), "abc");
        let c = Credentials {
            provider: Provider::OpenAi,
            model: None,
            api_key: Some("sk-secret-value".into()),
        };
        assert!(!format!("{c:?}").contains("secret"));
    }
}
