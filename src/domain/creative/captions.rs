//! `POST /captions/suggest`: captions built from a prompt's key phrases and the hashtags that go
//! with them.

use super::*;

/// Up to 5 distinct caption phrases: runs of up to 3 key words with only whitespace between them
/// ("a red fox, in snow" gives `red fox`, `snow`).
fn caption_phrases(text: &str) -> Vec<String> {
    let mut runs: Vec<Vec<String>> = Vec::new();
    for (word, joined) in key_words(text) {
        match runs.last_mut() {
            Some(run) if joined && run.len() < 3 => run.push(word),
            _ => runs.push(vec![word]),
        }
    }
    let mut phrases: Vec<String> = Vec::new();
    for phrase in runs.iter().map(|run| run.join(" ")) {
        if phrases.len() < 5 && !phrases.contains(&phrase) {
            phrases.push(phrase);
        }
    }
    phrases
}

/// Longest suggested caption, in characters.
pub const MAX_CAPTION_CHARS: usize = 280;

/// Captions suggested when the input has no key phrase.
pub const GENERIC_CAPTIONS: [&str; 3] = [
    "Fresh from the generator.",
    "One prompt, one picture.",
    "Prompted, generated, posted.",
];

/// The hashtag used when there is no related tag and no key phrase.
pub const FALLBACK_TAG: &str = "aiart";

/// A tag without `#`, lowercased, if it is letters, digits and `_` with a letter, ≤ 50 chars.
fn clean_tag(raw: &str) -> Option<String> {
    let t = raw.trim().trim_start_matches('#').to_lowercase();
    let ok = !t.is_empty()
        && t.chars().count() <= MAX_WORD_CHARS
        && t.chars().all(|c| c.is_alphanumeric() || c == '_')
        && t.chars().any(char::is_alphabetic);
    ok.then_some(t)
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// "a", "a and b", "a, b and c".
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// 3 to 5 distinct captions for a post. Phrases are runs of up to 3 [`key_phrases`] words
/// written with only spaces between them, from `prompt` then `caption`, de-duplicated, at most 5
/// ("a red fox in the snow" gives `red fox`, `snow`). With phrases p1…pn (P1 = p1 capitalised):
///
/// - `My take on p1 and p2.` (one phrase: `My take on p1.`)
/// - `Today's study: p1, p2 and p3.` (the first three)
/// - `P1 or p2: which caught your eye first?` (one phrase: `P1: what would you add?`)
/// - `P1, in one frame.`
/// - `In this one: p1, p2, p3, p4 and p5.` (only with 4 or more phrases)
///
/// With no phrase, the three [`GENERIC_CAPTIONS`]. Each caption ends with the same up to 3
/// hashtags: `related_tags` (the server's tags co-occurring with the key words, most frequent
/// first; `#` stripped, lowercased, kept if letters/digits/`_` with a letter and ≤ 50 chars),
/// then the key words as `#word`, without duplicates; `#aiart` when there is neither. A caption
/// is cut at a word boundary to 280 characters, and a hashtag is added only if it fits.
pub fn suggest_captions(
    prompt: Option<&str>,
    caption: Option<&str>,
    related_tags: &[String],
) -> Vec<String> {
    let text = format!("{}\n{}", prompt.unwrap_or(""), caption.unwrap_or(""));
    let p = caption_phrases(&text);

    let mut tags: Vec<String> = Vec::new();
    let words = key_phrases(&text, usize::MAX);
    for tag in related_tags
        .iter()
        .chain(&words)
        .filter_map(|t| clean_tag(t))
    {
        if tags.len() < 3 && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.is_empty() {
        tags.push(FALLBACK_TAG.to_string());
    }

    let mut bodies: Vec<String> = match p.as_slice() {
        [] => Vec::new(),
        [one] => vec![
            format!("My take on {one}."),
            format!("Today's study: {one}."),
            format!("{}: what would you add?", capitalized(one)),
            format!("{}, in one frame.", capitalized(one)),
        ],
        [first, second, ..] => vec![
            format!("My take on {first} and {second}."),
            format!("Today's study: {}.", listed(&p[..p.len().min(3)])),
            format!(
                "{} or {second}: which caught your eye first?",
                capitalized(first)
            ),
            format!("{}, in one frame.", capitalized(first)),
        ],
    };
    if p.len() >= 4 {
        bodies.push(format!("In this one: {}.", listed(&p)));
    }
    let with_tags = |body: &str| {
        let mut line = cut_at_word(body, MAX_CAPTION_CHARS);
        for tag in &tags {
            if line.chars().count() + 2 + tag.chars().count() <= MAX_CAPTION_CHARS {
                line.push_str(" #");
                line.push_str(tag);
            }
        }
        line
    };
    let mut captions: Vec<String> = Vec::new();
    for body in &bodies {
        let line = with_tags(body);
        if !captions.contains(&line) {
            captions.push(line);
        }
    }
    // The generic lines also top up the (theoretical) case of fewer than 3 distinct captions.
    for body in GENERIC_CAPTIONS {
        let line = with_tags(body);
        if captions.len() < 3 && !captions.contains(&line) {
            captions.push(line);
        }
    }
    captions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captions_are_three_to_five_distinct_tagged_and_short() {
        let related = vec!["Art".into(), "#fox".into(), "bad tag!".into(), "fox".into()];
        let prompt = "a red fox in the snow at dusk, #winter";
        let c = suggest_captions(Some(prompt), Some("Snow!"), &related);
        assert_eq!(
            c,
            [
                "My take on red fox and snow. #art #fox #red",
                "Today's study: red fox, snow and dusk. #art #fox #red",
                "Red fox or snow: which caught your eye first? #art #fox #red",
                "Red fox, in one frame. #art #fox #red",
                "In this one: red fox, snow, dusk and winter. #art #fox #red",
            ]
        );
        let one = suggest_captions(None, Some("#cats"), &[]);
        assert_eq!(one.len(), 4);
        assert_eq!(one[2], "Cats: what would you add? #cats");

        let long = vec!["t".repeat(50); 3];
        let words: Vec<String> = (b'a'..=b'f')
            .map(|c| char::from(c).to_string().repeat(50))
            .collect();
        let c = suggest_captions(Some(&words.join(", ")), None, &long);
        assert!(c.len() == 5 && c.iter().all(|l| l.chars().count() <= MAX_CAPTION_CHARS));
        assert!(c.iter().enumerate().all(|(i, l)| !c[..i].contains(l)));
        assert_eq!(
            caption_phrases("one two three four five six seven"),
            ["two three four", "five six seven"]
        );
    }

    #[test]
    fn captions_without_key_phrases_are_generic_and_say_so() {
        let c = suggest_captions(None, Some("the a of 4k"), &[]);
        assert_eq!(c, GENERIC_CAPTIONS.map(|g| format!("{g} #aiart")));
        let c = suggest_captions(None, None, &["robots".into()]);
        assert_eq!(c[0], "Fresh from the generator. #robots");
    }
}
