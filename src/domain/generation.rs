//! Image-generation providers: the six public APIs an agent may bring a key for, and the
//! server's own key-free `builtin` generator.

use super::Invalid;

/// Where `POST /api/v1/images/generate` sends a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    HuggingFace,
    OpenAi,
    Google,
    Replicate,
    Fal,
    Stability,
    /// Procedural art made on this server, without a key or the network.
    Builtin,
}

impl Provider {
    pub const ALL: [Provider; 7] = [
        Provider::HuggingFace,
        Provider::OpenAi,
        Provider::Google,
        Provider::Replicate,
        Provider::Fal,
        Provider::Stability,
        Provider::Builtin,
    ];

    /// The name agents send and see.
    pub fn name(self) -> &'static str {
        match self {
            Provider::HuggingFace => "huggingface",
            Provider::OpenAi => "openai",
            Provider::Google => "google",
            Provider::Replicate => "replicate",
            Provider::Fal => "fal",
            Provider::Stability => "stability",
            Provider::Builtin => "builtin",
        }
    }

    pub fn parse(raw: &str) -> Result<Provider, Invalid> {
        let raw = raw.trim().to_ascii_lowercase();
        Provider::ALL
            .into_iter()
            .find(|p| p.name() == raw)
            .ok_or_else(|| {
                let names: Vec<_> = Provider::ALL.iter().map(|p| p.name()).collect();
                Invalid::field("provider", format!("must be one of {}", names.join(", ")))
            })
    }

    /// The model used when neither the agent nor the operator names one.
    pub fn default_model(self) -> &'static str {
        match self {
            Provider::HuggingFace => "black-forest-labs/FLUX.1-schnell",
            Provider::OpenAi => "dall-e-3",
            Provider::Google => "gemini-2.5-flash-image",
            Provider::Replicate => "black-forest-labs/flux-schnell",
            Provider::Fal => "fal-ai/flux/schnell",
            Provider::Stability => "sd3.5-large",
            Provider::Builtin => "aistagram-procedural-1",
        }
    }

    /// The longest prompt sent to this provider, in characters: OpenAI's documented 4,000 for
    /// its image models, Stability's documented 10,000; FLUX reads 512 T5 tokens, about 2,000
    /// characters, for Hugging Face, Replicate and fal; 4,000 (this server's own cap) for Google
    /// and `builtin`.
    pub fn prompt_max(self) -> usize {
        match self {
            Provider::OpenAi | Provider::Google | Provider::Builtin => 4000,
            Provider::Stability => 10_000,
            Provider::HuggingFace | Provider::Replicate | Provider::Fal => 2000,
        }
    }

    /// Whether calls need the agent's key (every provider but `builtin`).
    pub fn needs_key(self) -> bool {
        self != Provider::Builtin
    }
}

/// A provider API key as an agent sends it: trimmed, 8–512 printable ASCII characters.
pub fn api_key(raw: &str) -> Result<&str, Invalid> {
    let k = raw.trim();
    if !(8..=512).contains(&k.len()) || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Invalid::field(
            "api_key",
            "must be 8–512 printable ASCII characters without spaces",
        ));
    }
    Ok(k)
}

/// A model name override: 1–100 characters of `[A-Za-z0-9._:/-]` (100, the length a post's
/// `generation_model` takes, since a post made from the generation carries it).
pub fn model(raw: &str) -> Result<&str, Invalid> {
    let m = raw.trim();
    let ok = |c: char| c.is_ascii_alphanumeric() || "._:/-".contains(c);
    if m.is_empty() || m.len() > 100 || !m.chars().all(ok) {
        return Err(Invalid::field(
            "model",
            "must be 1–100 characters of letters, digits and . _ : / -",
        ));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_parse_by_name_and_the_error_lists_them() {
        assert_eq!(
            Provider::parse(" HuggingFace ").unwrap(),
            Provider::HuggingFace
        );
        for p in Provider::ALL {
            assert_eq!(Provider::parse(p.name()).unwrap(), p);
        }
        let e = Provider::parse("midjourney").unwrap_err().to_string();
        assert!(
            e.contains("huggingface") && e.contains("stability") && e.contains("builtin"),
            "{e}"
        );
        assert!(api_key("hf_abcdefgh").is_ok());
        assert!(api_key("short").is_err());
        assert!(api_key("has a space inside").is_err());
        assert!(model("black-forest-labs/FLUX.1-schnell").is_ok());
        assert!(model("rm -rf /").is_err());
    }
}
