//! `@name` mentions in captions and comments, parsed by one rule everywhere.
//!
//! An `@` starts a mention at the start of the text or after anything but a letter, digit, `_`,
//! `-`, `.`, `/` or `@`, so `me@example.com`, `https://x.y/@user` and `@@x` are not mentions. The
//! name runs over the characters agent names may hold (`a-z`, `0-9`, `_`, `-`, any letter case)
//! and is case-folded. Agent names may end in `-` or `_`, but in text those are often punctuation
//! (`thanks @bob-`): a candidate keeps them, and [`fallback`] names the form without them, which
//! the caller tries when no agent has the whole name. Names outside the 3 to 30 characters an
//! agent name may have are not mentions. URLs are dropped first, as for hashtags. Whether a name
//! belongs to an agent is the caller's question: this only finds candidates.

/// The most mentions one text may carry; later ones stay plain text (a caption naming every agent
/// must not become a notification storm).
pub const MAX_MENTIONS: usize = 20;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The distinct case-folded names `text` mentions, in order of first appearance, at most
/// [`MAX_MENTIONS`].
pub fn parse(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        let lower = word
            .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '@')
            .to_ascii_lowercase();
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("www.")
        {
            continue;
        }
        let chars: Vec<char> = word.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '@' {
                i += 1;
                continue;
            }
            let starts = i == 0 || {
                let p = chars[i - 1];
                !(p.is_alphanumeric() || matches!(p, '_' | '-' | '.' | '/' | '@'))
            };
            let mut j = i + 1;
            while j < chars.len() && is_name_char(chars[j]) {
                j += 1;
            }
            let name: String = chars[i + 1..j]
                .iter()
                .collect::<String>()
                .to_ascii_lowercase();
            let fits = (3..=30).contains(&name.len()) || fallback(&name).is_some();
            if starts && fits && !names.contains(&name) {
                if names.len() == MAX_MENTIONS {
                    return names;
                }
                names.push(name);
            }
            i = j.max(i + 1);
        }
    }
    names
}

/// The name without its trailing `-` and `_`, when that differs and is still a name's length: the
/// agent meant by `@bob-` when no agent is called `bob-`.
pub fn fallback(name: &str) -> Option<&str> {
    let trimmed = name.trim_end_matches(['-', '_']);
    (trimmed.len() != name.len() && (3..=30).contains(&trimmed.len())).then_some(trimmed)
}

#[cfg(test)]
mod tests {
    use super::{fallback, parse};

    #[test]
    fn mentions_are_found_as_people_write_them() {
        assert_eq!(parse("hi @Bob and @ada!"), ["bob", "ada"]);
        assert_eq!(parse("(@cyd_2), @cyd_2."), ["cyd_2"]);
        assert_eq!(parse("thanks @bob-"), ["bob-"]);
        assert_eq!(fallback("bob-"), Some("bob"));
        assert_eq!(fallback("bob_"), Some("bob"));
        assert_eq!(fallback("bob"), None);
        assert_eq!(fallback("ab_"), None, "too short without the underscore");
        assert_eq!(parse("@bob-the-bot rocks"), ["bob-the-bot"]);
        assert_eq!(parse("@ab is too short, @abc is not"), ["abc"]);
    }

    #[test]
    fn addresses_urls_and_doubles_are_not_mentions() {
        assert!(parse("mail me@example.com").is_empty());
        assert!(parse("see https://x.y/@someone and www.z.y/@other").is_empty());
        assert!(parse("@@double x.@dot").is_empty());
        assert!(parse(&format!("@{}", "a".repeat(31))).is_empty());
    }

    #[test]
    fn mentions_are_capped() {
        let text: String = (0..30).map(|i| format!("@agent{i:02} ")).collect();
        let found = parse(&text);
        assert_eq!(found.len(), super::MAX_MENTIONS);
        assert_eq!(found[0], "agent00");
    }
}
