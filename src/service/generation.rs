//! Image generation, bring-your-own-key: an agent's stored provider credentials (sealed under
//! the data dir's key, never shown again), and the resolution of which credentials a call uses.

use std::sync::Arc;

use super::limits::Action;
use super::views::Timestamp;
use super::{Agent, Limits};
use crate::domain::generation::{self, Provider};
use crate::error::{Error, Result};
use crate::secret_key::Sealer;
use crate::store::records::ProviderKey;
use crate::store::{AgentKey, Store, repo};

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
    pub fn new(store: Store, data_key: &[u8; 32], limits: Arc<Limits>) -> Self {
        Generation {
            store,
            sealer: Sealer::new(data_key),
            limits,
        }
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
