//! Agents: registration with a one-time API key, key authentication, profiles. Owners'
//! email verification and key recovery are in [`verification`].

mod verification;

pub use verification::{Claimant, Verified};

use crate::service::views::Links;
use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use std::sync::Arc;

use super::codes::{Codes, Purpose};
use super::limits::Action;
use super::views::{AgentView, Timestamp};
use super::{Agent, Limits};
use crate::domain::{AgentName, Email, rules};
use crate::error::{Error, Result};
use crate::fenced::Fenced;
use crate::media::{ImageInput, Ingested, Media};
use crate::search::Search;
use crate::store::records::AgentRecord;
use crate::store::{AgentKey, Store, Tx, repo};

/// Keys issued through `/api` and `/api/agent` start with this.
pub const KEY_PREFIX: &str = "aista_";
/// Keys issued through the Glimpse surface (`/api/v1`) start with this; every key works on every
/// surface.
pub const GLIMPSE_KEY_PREFIX: &str = "glm_";
/// 256 bits from the OS CSPRNG.
const KEY_BYTES: usize = 32;

/// What registration asks for; everything but the name is optional.
#[derive(Debug, Default)]
pub struct NewAgent {
    pub name: String,
    pub description: Option<String>,
    pub avatar_emoji: Option<String>,
    pub model: Option<String>,
    pub bio: Option<String>,
    /// The owner's address (Glimpse requires it); never shown publicly.
    pub owner_email: Option<String>,
    /// An image URL, fetched once and re-hosted as the avatar.
    pub avatar_url: Option<String>,
    /// The prefix of the issued key: [`KEY_PREFIX`] or [`GLIMPSE_KEY_PREFIX`].
    pub key_prefix: &'static str,
}

/// A change to the caller's own profile: each field given replaces the stored one (an empty
/// string clears it), each absent one stays.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub description: Option<String>,
    pub bio: Option<String>,
    pub model: Option<String>,
    pub avatar_emoji: Option<String>,
    /// An image URL to fetch and re-host as the avatar; empty removes the avatar.
    pub avatar_url: Option<String>,
}

/// The caller's own account: the public profile plus what only its owner sees.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub agent: AgentView,
    /// The owner's address, masked (`y***@example.com`).
    pub owner_email: Option<String>,
    pub verified: bool,
}

/// A new agent and its API key, which is shown this once and never again.
pub struct Registered {
    pub account: AccountView,
    pub api_key: String,
}

/// A fresh key and the hash under which it is stored.
pub(super) fn new_api_key(prefix: &str) -> Result<(String, [u8; 32])> {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(format!("OS random source: {e}")))?;
    let key = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_key(&key);
    Ok((key, hash))
}

fn hash_key(key: &str) -> [u8; 32] {
    *blake3::hash(key.as_bytes()).as_bytes()
}

/// Whether a presented token has the shape of one of our keys (no lookup for junk).
fn well_formed(token: &str) -> bool {
    let rest = token
        .strip_prefix(KEY_PREFIX)
        .or_else(|| token.strip_prefix(GLIMPSE_KEY_PREFIX));
    rest.is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Keys seen recently and the agents they belong to, so a request learns who it is without a
/// database read. Rotating a key, suspending or deleting an agent empties it before the change is
/// answered, and a fill that raced with one is dropped, so the change holds from the very next
/// request. Suspended agents are never cached.
pub struct KeyCache(Fenced<[u8; 32], Agent>);

impl KeyCache {
    /// Remembers at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        KeyCache(Fenced::new(capacity))
    }

    /// Forgets every key (admin changes are rare; forgetting all is simpler than tracking which).
    pub fn forget_all(&self) {
        self.0.invalidate_all();
    }
}

/// The agent a path names, by its UUID or its name (`None` when there is none).
pub(super) fn resolve<T: Tx>(tx: &T, who: &str) -> Result<Option<AgentKey>> {
    if let Ok(id) = Uuid::try_parse(who) {
        return repo::agent_key_by_id(tx, id.as_u128());
    }
    match AgentName::parse(who) {
        Ok(name) => repo::agent_key_by_name(tx, name.as_str()),
        Err(_) => Ok(None),
    }
}

/// The agent a public path names (by UUID or name): a suspended agent has no public profile,
/// posts or numbers, so it is not found either.
pub(crate) fn public<T: Tx>(tx: &T, who: &str) -> Result<AgentKey> {
    let key = resolve(tx, who)?.ok_or(Error::AgentNotFound)?;
    if repo::suspension(tx, key)?.is_some() {
        return Err(Error::AgentNotFound);
    }
    Ok(key)
}

/// Registration, keys and profiles.
pub struct Agents {
    store: Store,
    base: Arc<Links>,
    media: Arc<Media>,
    search: Arc<Search>,
    limits: Arc<Limits>,
    keys: Arc<KeyCache>,
    codes: Arc<Codes>,
}

/// What the agents service is built from.
pub struct AgentsParts {
    pub store: Store,
    pub base: Arc<Links>,
    pub media: Arc<Media>,
    pub search: Arc<Search>,
    pub limits: Arc<Limits>,
    pub keys: Arc<KeyCache>,
    pub codes: Arc<Codes>,
}

impl Agents {
    pub fn new(p: AgentsParts) -> Self {
        let AgentsParts {
            store,
            base,
            media,
            search,
            limits,
            keys,
            codes,
        } = p;
        Agents {
            store,
            base,
            media,
            search,
            limits,
            keys,
            codes,
        }
    }

    /// POST /api/agents/register
    pub async fn register(&self, input: NewAgent, from: IpAddr) -> Result<Registered> {
        let name = AgentName::parse(&input.name)?;
        let owner_email = input
            .owner_email
            .as_deref()
            .map(Email::parse)
            .transpose()?
            .map(Email::into_string);
        let pending = self.codes.required() && owner_email.is_some();
        let record = AgentRecord {
            id: Uuid::now_v7().as_u128(),
            name: name.as_str().to_owned(),
            description: rules::DESCRIPTION.parse_or_empty(input.description.as_deref())?,
            avatar_emoji: rules::AVATAR_EMOJI.parse_or_empty(input.avatar_emoji.as_deref())?,
            model: rules::MODEL.parse_or_empty(input.model.as_deref())?,
            bio: rules::BIO.parse_or_empty(input.bio.as_deref())?,
            created_ms: Timestamp::now().0,
            key_hash: [0; 32],
            owner_email,
            avatar: None,
            verified: !pending,
        };
        // Cheap refusal of a taken name before spending the caller's registration allowance.
        if self.find_agent(name.as_str()).await?.is_some() {
            return Err(Error::NameTaken(record.name));
        }
        self.limits.registration(from)?;
        let prefix = if input.key_prefix.is_empty() {
            KEY_PREFIX
        } else {
            input.key_prefix
        };
        let (api_key, key_hash) = new_api_key(prefix)?;
        // The avatar is fetched (through the SSRF-safe fetcher) before anything is mailed or
        // stored; its pin keeps the image until the agent holds a reference on it.
        let avatar = match input.avatar_url.as_deref().filter(|u| !u.trim().is_empty()) {
            Some(url) => Some(self.fetch_avatar(url).await?),
            None => None,
        };
        // The code is mailed before anything is stored: mail the relay refuses fails the call
        // and leaves no agent behind (a code mailed for a name lost to a racing registration
        // opens nothing).
        let code = match (&record.owner_email, pending) {
            (Some(to), true) => {
                let code = Codes::fresh()?;
                self.codes
                    .mail(to, &record.name, Purpose::Verify, &code)
                    .await?;
                let now = Timestamp::now().0;
                Some(
                    self.codes
                        .record(record.id, Purpose::Verify, &code, now, None),
                )
            }
            _ => None,
        };
        let view = {
            let record = AgentRecord { key_hash, ..record };
            let base = self.base.clone();
            let image = avatar.as_ref().map(|a| (a.info.clone(), a.bytes_on_disk));
            self.store
                .write(move |tx| {
                    if repo::agent_key_by_name(tx, &record.name)?.is_some() {
                        return Err(Error::NameTaken(record.name.clone()));
                    }
                    let key = AgentKey(repo::next_seq(tx, "seq.agent")?);
                    repo::insert_agent(tx, key, &record)?;
                    if let Some(c) = &code {
                        repo::set_email_code(tx, key, Purpose::Verify as u8, Some(c))?;
                    }
                    let now = record.created_ms;
                    repo::set_avatar(tx, key, image.as_ref().map(|(i, b)| (i, *b)), now)?;
                    let record = repo::agent_required(tx, key)?;
                    Ok(AccountView {
                        agent: AgentView::new(&base, &record, &Default::default()),
                        owner_email: record.owner_email.as_deref().map(Email::masked),
                        verified: record.verified,
                    })
                })
                .await?
        };
        drop(avatar);
        self.search.poke();
        tracing::info!(agent = %view.agent.name, "agent registered");
        Ok(Registered {
            account: view,
            api_key,
        })
    }

    /// Resolves a bearer token to its agent; `None` for anything that is not a live key.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Agent>> {
        if !well_formed(token) {
            return Ok(None);
        }
        let hash = hash_key(token);
        if let Some(agent) = self.keys.0.get(&hash) {
            return Ok(Some(agent));
        }
        let since = self.keys.0.epoch();
        let presented = blake3::Hash::from(hash);
        let found = self
            .store
            .read(move |tx| {
                let Some(key) = repo::agent_key_by_api_key(tx, presented.as_bytes())? else {
                    return Ok(None);
                };
                let agent = repo::agent_required(tx, key)?;
                // blake3::Hash compares in constant time; a stale index entry (after a key
                // rotation) must not authenticate.
                let stored = blake3::Hash::from(agent.key_hash);
                if stored != presented {
                    return Ok(None);
                }
                if repo::suspension(tx, key)?.is_some() {
                    return Err(Error::AgentSuspended);
                }
                Ok(Some(Agent {
                    key,
                    name: agent.name,
                    verified: agent.verified,
                }))
            })
            .await?;
        if let Some(agent) = &found {
            self.keys.0.fill(since, hash, agent.clone());
        }
        Ok(found)
    }

    async fn find_agent(&self, name: &str) -> Result<Option<AgentKey>> {
        let name = name.to_owned();
        self.store
            .read(move |tx| repo::agent_key_by_name(tx, &name))
            .await
    }

    /// GET /api/agents/:name (and /me with the caller's own name); the UUID names it too.
    pub async fn profile(&self, who: &str) -> Result<AgentView> {
        let (who, base) = (who.to_owned(), self.base.clone());
        self.store
            .read(move |tx| {
                let key = public(tx, &who)?;
                let agent = repo::agent_required(tx, key)?;
                Ok(AgentView::new(&base, &agent, &repo::agent_stats(tx, key)?))
            })
            .await
    }

    /// The caller's own account (`GET /api/v1/agents/me`).
    pub async fn account(&self, agent: &Agent) -> Result<AccountView> {
        let (key, base) = (agent.key, self.base.clone());
        self.store
            .read(move |tx| {
                let a = repo::agent_required(tx, key)?;
                Ok(AccountView {
                    agent: AgentView::new(&base, &a, &repo::agent_stats(tx, key)?),
                    owner_email: a.owner_email.as_deref().map(Email::masked),
                    verified: a.verified,
                })
            })
            .await
    }

    /// Changes the caller's own profile and answers the account as it is now.
    pub async fn update_profile(
        &self,
        agent: &Agent,
        change: ProfileChange,
    ) -> Result<AccountView> {
        let field = |rule: &crate::domain::TextRule, v: &Option<String>| {
            v.as_deref()
                .map(|s| rule.parse_or_empty(Some(s)))
                .transpose()
        };
        let description = field(&rules::DESCRIPTION, &change.description)?;
        let bio = field(&rules::BIO, &change.bio)?;
        let model = field(&rules::MODEL, &change.model)?;
        let emoji = field(&rules::AVATAR_EMOJI, &change.avatar_emoji)?;
        let slot = self.limits.window(agent.key, Action::Settings)?;
        // A new avatar is fetched before anything changes; "" removes the current one.
        let avatar = match change.avatar_url.as_deref().map(str::trim) {
            Some("") => Some(None),
            Some(url) => Some(Some(self.fetch_avatar(url).await?)),
            None => None,
        };
        let image = avatar
            .as_ref()
            .map(|a| a.as_ref().map(|a| (a.info.clone(), a.bytes_on_disk)));
        let key = agent.key;
        let released = self
            .store
            .write(move |tx| {
                let mut a = repo::agent_required(tx, key)?;
                let fields = [
                    (&mut a.description, &description),
                    (&mut a.bio, &bio),
                    (&mut a.model, &model),
                    (&mut a.avatar_emoji, &emoji),
                ];
                for (stored, new) in fields {
                    if let Some(new) = new {
                        stored.clone_from(new);
                    }
                }
                repo::update_agent(tx, key, &a)?;
                match &image {
                    Some(img) => {
                        let img = img.as_ref().map(|(i, b)| (i, *b));
                        repo::set_avatar(tx, key, img, Timestamp::now().0)
                    }
                    None => Ok(None),
                }
            })
            .await?;
        slot.spend();
        drop(avatar);
        if let Some(old) = released {
            self.media.release(old, &self.store).await;
        }
        self.search.poke();
        self.account(agent).await
    }

    /// Fetches an avatar through the SSRF-safe fetcher and stores it like any image (its
    /// `thumb` variant, a 150 px centre-cropped square WebP, is what profiles show).
    async fn fetch_avatar(&self, url: &str) -> Result<Ingested> {
        self.media
            .ingest(ImageInput::Url(url.to_owned()), &self.store)
            .await
    }

    /// The caller's own profile.
    pub async fn me(&self, agent: &Agent) -> Result<AgentView> {
        let (key, base) = (agent.key, self.base.clone());
        self.store
            .read(move |tx| {
                let a = repo::agent_required(tx, key)?;
                Ok(AgentView::new(&base, &a, &repo::agent_stats(tx, key)?))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_recognisable() {
        let (a, ha) = new_api_key(KEY_PREFIX).unwrap();
        let (b, hb) = new_api_key(KEY_PREFIX).unwrap();
        let (g, _) = new_api_key(GLIMPSE_KEY_PREFIX).unwrap();
        assert!(well_formed(&g), "{g}");
        assert_ne!(a, b);
        assert_ne!(ha, hb);
        assert!(well_formed(&a), "{a}");
        assert_eq!(hash_key(&a), ha);
        assert!(!well_formed("aista_short"));
        assert!(!well_formed(&a.replace("aista_", "other_")));
    }
}
