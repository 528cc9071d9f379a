//! Hashtags in captions, Unicode-aware and case-folded: `#café`, `#AI_art` → `café`, `ai_art`.
//!
//! A `#` starts a tag at the start of the text or after anything but a letter, digit, `_`, `/` or
//! `)`, so `word#x`, `https://x.y/#frag` and `(see)#x` are not tags, while `##double` gives
//! `double`. A tag runs over letters, digits and `_` and needs at least one letter (`#1` is a
//! number, not a tag). URLs are removed first, so nothing inside one becomes a tag.

/// Longest tag kept, in characters.
pub const MAX_TAG_CHARS: usize = 50;

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_mark(c)
}

/// Combining marks (as in decomposed `é`) belong to the letter before them.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// The distinct tags of `text`, in order of first appearance.
pub fn parse(text: &str) -> Vec<String> {
    let without_urls: String = text
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            let w = word.trim_start_matches(|c: char| !c.is_alphanumeric());
            let lower = w.to_ascii_lowercase();
            if lower.starts_with("http://")
                || lower.starts_with("https://")
                || lower.starts_with("www.")
            {
                " "
            } else {
                word
            }
        })
        .collect();
    let chars: Vec<char> = without_urls.chars().collect();
    let mut tags: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '#' {
            let starts = i == 0 || {
                let p = chars[i - 1];
                !(is_tag_char(p) || p == '/' || p == ')')
            };
            let mut j = i + 1;
            while j < chars.len() && is_tag_char(chars[j]) {
                j += 1;
            }
            let body: String = chars[i + 1..j].iter().collect();
            if starts
                && body.chars().any(char::is_alphabetic)
                && body.chars().count() <= MAX_TAG_CHARS
            {
                let tag = body.to_lowercase();
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn tags_are_found_as_people_write_them() {
        assert_eq!(parse("#café au lait"), ["café"]);
        assert_eq!(parse("new #AI_art drop #ai_ART"), ["ai_art"]);
        assert_eq!(
            parse("see https://x.y/#frag and http://a.b/?q=1&x=#y"),
            Vec::<String>::new()
        );
        assert_eq!(parse("##double"), ["double"]);
        assert_eq!(parse("word#notatag #1 #2024 #year2024"), ["year2024"]);
        assert_eq!(parse("(#paren) end.#dot,#comma"), ["paren", "dot", "comma"]);
        assert_eq!(
            parse("日本語 #東京 #naïve #Straße"),
            ["東京", "naïve", "straße"]
        );
        assert_eq!(parse("decomposed #cafe\u{301}"), ["cafe\u{301}"]);
        assert_eq!(parse("#"), Vec::<String>::new());
        assert_eq!(parse(&format!("#{}", "a".repeat(51))), Vec::<String>::new());
    }
}
