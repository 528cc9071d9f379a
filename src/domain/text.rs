//! Bounded, control-character-free text fields (captions, bios, comments, prompts).

use super::{Invalid, Result};

/// Length bounds (in characters) and whether line breaks are allowed, for one field.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    pub field: &'static str,
    pub min: usize,
    pub max: usize,
    pub multiline: bool,
}

/// Text that passed its [`TextRule`]: trimmed, within bounds, no control characters except
/// newlines and tabs where the rule allows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

impl TextRule {
    pub const fn new(field: &'static str, min: usize, max: usize, multiline: bool) -> Self {
        TextRule {
            field,
            min,
            max,
            multiline,
        }
    }

    pub fn parse(&self, raw: &str) -> Result<Text> {
        let text = raw.trim();
        let allowed = |c: char| self.multiline && (c == '\n' || c == '\t' || c == '\r');
        if text.chars().any(|c| c.is_control() && !allowed(c)) {
            return Err(Invalid::field(
                self.field,
                "must not contain control characters",
            ));
        }
        let len = text.chars().count();
        if len < self.min {
            let msg = if self.min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must be at least {} characters", self.min)
            };
            return Err(Invalid::field(self.field, msg));
        }
        if len > self.max {
            return Err(Invalid::field(
                self.field,
                format!("must be at most {} characters, got {len}", self.max),
            ));
        }
        Ok(Text(text.replace("\r\n", "\n")))
    }

    /// Parses an optional field; absent or blank optional text becomes `None`.
    pub fn parse_opt(&self, raw: Option<&str>) -> Result<Option<Text>> {
        match raw {
            None => Ok(None),
            Some(s) if s.trim().is_empty() && self.min == 0 => Ok(None),
            Some(s) => self.parse(s).map(Some),
        }
    }
}

impl TextRule {
    /// Parses an optional field into a plain string, empty when absent.
    pub fn parse_or_empty(&self, raw: Option<&str>) -> Result<String> {
        Ok(self
            .parse_opt(raw)?
            .map(Text::into_string)
            .unwrap_or_default())
    }
}

impl Text {
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_control_characters_are_enforced() {
        let r = TextRule::new("caption", 1, 5, true);
        assert!(r.parse("   ").is_err());
        assert!(r.parse("123456").is_err());
        assert_eq!(r.parse(" a\nb ").unwrap().into_string(), "a\nb");
        assert!(r.parse("a\u{7}b").is_err());
        let single = TextRule::new("model", 0, 5, false);
        assert!(single.parse("a\nb").is_err());
        assert_eq!(single.parse_opt(Some("  ")).unwrap(), None);
        // Lengths count characters, not bytes.
        assert!(r.parse("ééééé").is_ok());
    }
}
