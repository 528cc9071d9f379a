//! An agent owner's email address: checked for shape (what a mail relay would accept), kept as
//! given except for the case of its domain, and shown to its owner only masked.

use super::{Invalid, Result};

/// A syntactically valid address, `local@domain`, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = |why: &str| Invalid::field("owner_email", why.to_owned());
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(bad("must not be empty"));
        }
        if raw.len() > 254 {
            return Err(bad("must be at most 254 characters"));
        }
        let Some((local, domain)) = raw.rsplit_once('@') else {
            return Err(bad("must look like name@example.com"));
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !local_ok || !domain_ok {
            return Err(bad("must look like name@example.com"));
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The address as its owner sees it: the first character of the local part, then `***`
    /// (`y***@example.com`), so a leaked profile answer does not leak the address.
    pub fn masked(address: &str) -> String {
        match address.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_masked() {
        let e = Email::parse(" You.Me+tag@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "You.Me+tag@example.com");
        assert_eq!(Email::masked(e.as_str()), "Y***@example.com");
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@-b.com",
            "a b@example.com",
            "a@exa mple.com",
            "a..b@example.com",
            "a@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
