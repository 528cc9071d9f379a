//! Config values that must not be printed: [`Secret`] (a key or password, never shown) and
//! [`ConfigUrl`] (a URL, shown with its password hidden). They load like plain strings; `Debug`
//! and `Display` always hide, and serialising hides only inside [`printing`], which is how
//! `aistagram config` renders the config. Figment serialises the defaults to load, so hiding
//! there would lose real values.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// What is shown in place of a hidden value.
pub const REDACTED: &str = "[redacted]";

thread_local! {
    /// Set while [`printing`] runs on this thread.
    static PRINTING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a serialisation for people to read) with every [`Secret`] and URL password hidden.
/// The type of a field decides what is hidden, so a new secret key cannot be forgotten here.
pub fn printing<T>(f: impl FnOnce() -> T) -> T {
    /// Restores the flag even if `f` unwinds.
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            PRINTING.with(|p| p.set(self.0));
        }
    }
    let _reset = Reset(PRINTING.with(|p| p.replace(true)));
    f()
}

fn is_printing() -> bool {
    PRINTING.with(Cell::get)
}

/// A key or password from the config. Unset is the empty string.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, to use and never to print.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// What may be shown: nothing when unset, so an unset secret still reads as unset.
    fn shown(&self) -> &str {
        if self.0.is_empty() { "" } else { REDACTED }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.shown(), f)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shown())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let value = if is_printing() { self.shown() } else { &self.0 };
        s.serialize_str(value)
    }
}

/// A URL from the config, which may carry credentials (`scheme://user:password@host`). It is
/// shown with the password replaced by `[redacted]`; the rest stays readable.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ConfigUrl(String);

impl ConfigUrl {
    pub fn new(value: impl Into<String>) -> Self {
        ConfigUrl(value.into())
    }

    /// The real URL, password included, to use and never to print.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn shown(&self) -> Cow<'_, str> {
        redact_url(&self.0)
    }
}

impl fmt::Debug for ConfigUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.shown(), f)
    }
}

impl fmt::Display for ConfigUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Serialize for ConfigUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if is_printing() {
            s.serialize_str(&self.shown())
        } else {
            s.serialize_str(&self.0)
        }
    }
}

/// `url` with the password of its user info replaced by `[redacted]`; unchanged when it has none.
/// The user info ends at the last `@` before the path, query or fragment, so a password with a
/// raw `@` is still hidden whole (RFC 3986 wants it percent-encoded, people do not always).
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let rest = &url[scheme_end..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(url);
    };
    let Some(colon) = authority[..at].find(':') else {
        return Cow::Borrowed(url);
    };
    let password_start = scheme_end + colon + 1;
    let password_end = scheme_end + at;
    Cow::Owned(format!(
        "{}{REDACTED}{}",
        &url[..password_start],
        &url[password_end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_password_is_replaced_and_everything_else_kept() {
        for (url, shown) in [
            ("", ""),
            ("https://agents.example", "https://agents.example"),
            (
                "https://user@agents.example/x",
                "https://user@agents.example/x",
            ),
            (
                "https://user:hunter2@agents.example",
                "https://user:[redacted]@agents.example",
            ),
            (
                "smtp://mail:pa:ss@w@smtp.example:587/?tls=1",
                "smtp://mail:[redacted]@smtp.example:587/?tls=1",
            ),
            (
                "https://:token@host/path@x",
                "https://:[redacted]@host/path@x",
            ),
            ("https://host/p?u=a:b@c", "https://host/p?u=a:b@c"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn a_secret_is_hidden_when_shown_but_usable_and_serialised_whole() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "\"[redacted]\"");
        assert_eq!(s.to_string(), "[redacted]");
        assert_eq!(s.expose(), "hunter2");
        assert_eq!(
            serde_json::to_string(&s).expect("json"),
            "\"hunter2\"",
            "loading serialises the defaults: only printing hides"
        );
        assert_eq!(
            printing(|| serde_json::to_string(&s)).expect("json"),
            "\"[redacted]\""
        );
        assert!(!is_printing(), "the flag is reset afterwards");
        let unset = Secret::default();
        assert_eq!(format!("{unset:?}"), "\"\"");
        assert_eq!(unset.to_string(), "");
    }

    #[test]
    fn a_url_is_shown_without_its_password_but_used_with_it() {
        let u = ConfigUrl::new("https://user:hunter2@agents.example");
        for shown in [
            format!("{u:?}"),
            u.to_string(),
            printing(|| serde_json::to_string(&u)).expect("json"),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("user:[redacted]@agents.example"), "{shown}");
        }
        assert_eq!(
            serde_json::to_string(&u).expect("json"),
            "\"https://user:hunter2@agents.example\""
        );
        assert_eq!(u.expose(), "https://user:hunter2@agents.example");
    }
}
