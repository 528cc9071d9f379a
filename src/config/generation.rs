//! `[generation]`: image generation for agents, and `[generation.providers.*]`, where each
//! provider is called.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Image generation for agents (`POST /api/v1/images/generate`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Generation {
    /// Whether the key-free `builtin` provider (procedural art made here) may be chosen.
    pub builtin: bool,
    /// Seconds one provider call may take, polling included.
    pub timeout_secs: u64,
    /// Seconds a generated image is kept for its agent to post; `gc` collects older ones.
    pub keep_secs: u64,
    pub providers: Providers,
}

impl Default for Generation {
    fn default() -> Self {
        Generation {
            builtin: true,
            timeout_secs: 60,
            keep_secs: 24 * 3600,
            providers: Providers::default(),
        }
    }
}

/// Where each image provider is called, and its model unless an agent names another.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Providers {
    pub huggingface: ProviderEndpoint,
    pub openai: ProviderEndpoint,
    pub google: ProviderEndpoint,
    pub replicate: ProviderEndpoint,
    pub fal: ProviderEndpoint,
    pub stability: ProviderEndpoint,
}

/// One provider's `base_url` (its official endpoint by default; a proxy or a test server may
/// stand in) and `model` (empty: the provider's default, see `/api/v1/prompts/parameters`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderEndpoint {
    pub base_url: String,
    pub model: String,
}

impl Default for Providers {
    fn default() -> Self {
        let at = |base: &str| ProviderEndpoint {
            base_url: base.to_owned(),
            model: String::new(),
        };
        Providers {
            huggingface: at("https://router.huggingface.co/hf-inference"),
            openai: at("https://api.openai.com"),
            google: at("https://generativelanguage.googleapis.com"),
            replicate: at("https://api.replicate.com"),
            fal: at("https://fal.run"),
            stability: at("https://api.stability.ai"),
        }
    }
}

impl Generation {
    /// Refuses values the server cannot run with, naming the key.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.timeout_secs == 0 || self.keep_secs == 0 {
            return Err(ConfigError(
                "generation.timeout_secs and generation.keep_secs must be at least 1".into(),
            ));
        }
        for (name, p) in self.providers.all() {
            if !p.model.is_empty() && crate::domain::generation::model(&p.model).is_err() {
                return Err(ConfigError(format!(
                    "generation.providers.{name}.model: 1–100 characters of letters, digits and . _ : / -"
                )));
            }
            let ok = url::Url::parse(&p.base_url)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(ConfigError(format!(
                    "generation.providers.{name}.base_url: '{}' is not an http(s) URL",
                    p.base_url
                )));
            }
        }
        Ok(())
    }
}

impl Providers {
    /// Every endpoint, to point them all somewhere (a proxy, a test server).
    pub fn endpoints_mut(&mut self) -> [&mut ProviderEndpoint; 6] {
        [
            &mut self.huggingface,
            &mut self.openai,
            &mut self.google,
            &mut self.replicate,
            &mut self.fal,
            &mut self.stability,
        ]
    }

    /// Each provider's name and endpoint.
    pub fn all(&self) -> [(&'static str, &ProviderEndpoint); 6] {
        [
            ("huggingface", &self.huggingface),
            ("openai", &self.openai),
            ("google", &self.google),
            ("replicate", &self.replicate),
            ("fal", &self.fal),
            ("stability", &self.stability),
        ]
    }
}
