//! `POST /prompts/optimize`: a prompt cleaned, given the cues its style calls for, and fitted to
//! a provider's prompt length.

use serde::Serialize;

use super::*;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What `optimize` returns; `changes` says, in order, what was done and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Optimized {
    pub original: String,
    pub optimized: String,
    pub changes: Vec<String>,
}

/// Cleans `prompt` and adds the cues `style` (or [`DEFAULT_CUES`]) calls for, in at most
/// `max_chars` characters. Steps, each recorded in `changes` only when it changed something:
///
/// 1. Whitespace runs become one space, ends are trimmed: `collapsed whitespace`.
/// 2. A word equal (ignoring case and its trailing punctuation) to the word just before it is
///    removed, its trailing punctuation kept (`big big.` → `big.`; `cat, cat` stays):
///    `removed N repeated word(s)`.
/// 3. [`FILLER`] words and phrases are removed: `removed N filler(s): <distinct fillers>`;
///    skipped if it would remove every word.
/// 4. With fewer than 2 [`key_phrases`], nothing is invented: `subject is vague: name what the
///    picture shows`.
/// 5. For medium, lighting, composition and quality, in that order, the cue is appended when
///    neither the prompt nor the style's prefix/suffix mentions a keyword of that kind (whole
///    words, case-insensitive, a trailing `s` allowed): `added <kind> cue: <phrase>`.
/// 6. With a style, [`apply_style`] wraps the result: `applied style <id>`. Without one, the
///    parts are joined the same way.
/// 7. While over `max_chars`, added cues are left out last-added first: `left out <kind> cue
///    to stay within <max_chars> characters`; if still over, the text is cut at the last word
///    boundary that fits: `shortened to N characters`.
///
/// The result is empty only if `max_chars` is 0, or the prompt has no words and no cue fits.
pub fn optimize(prompt: &str, style: Option<&Style>, max_chars: usize) -> Optimized {
    let mut changes = Vec::new();
    let words: Vec<&str> = prompt.split_whitespace().collect();
    if words.join(" ") != prompt {
        changes.push("collapsed whitespace".to_string());
    }

    let mut kept: Vec<String> = Vec::new();
    let mut repeats = 0;
    for w in words {
        let stem = w.trim_end_matches(|c: char| !c.is_alphanumeric());
        match kept.last_mut() {
            Some(prev) if !stem.is_empty() && prev.to_lowercase() == stem.to_lowercase() => {
                prev.push_str(&w[stem.len()..]);
                repeats += 1;
            }
            _ => kept.push(w.to_string()),
        }
    }
    if repeats > 0 {
        let n = plural(repeats, "repeated word", "repeated words");
        changes.push(format!("removed {n}"));
    }

    let cores: Vec<String> = kept
        .iter()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .replace('’', "'")
                .to_lowercase()
        })
        .collect();
    let (mut body, mut fillers, mut removed) = (Vec::new(), Vec::new(), 0);
    let mut i = 0;
    while i < kept.len() {
        let hit = FILLER
            .iter()
            .filter(|f| {
                let n = f.split(' ').count();
                cores
                    .get(i..i + n)
                    .is_some_and(|win| win.iter().zip(f.split(' ')).all(|(a, b)| a == b))
            })
            .max_by_key(|f| f.split(' ').count());
        match hit {
            Some(f) => {
                removed += 1;
                if !fillers.contains(f) {
                    fillers.push(*f);
                }
                i += f.split(' ').count();
            }
            None => {
                body.push(kept[i].as_str());
                i += 1;
            }
        }
    }
    // An all-filler prompt is still the agent's prompt; emptying it would help no one.
    if body.is_empty() {
        body = kept.iter().map(String::as_str).collect();
    } else if removed > 0 {
        let n = plural(removed, "filler", "fillers");
        changes.push(format!("removed {n}: {}", fillers.join(", ")));
    }
    let body = body.join(" ");

    if key_phrases(&body, 2).len() < 2 {
        changes.push("subject is vague: name what the picture shows".to_string());
    }

    let cues = style.map_or(&DEFAULT_CUES, |s| &s.cues);
    let (prefix, suffix) = style.map_or(("", ""), |s| (s.prefix, s.suffix));
    let seen = words_lower(&format!("{prefix} {body} {suffix}"));
    let kinds: [(&str, &str, &[&[&str]]); 4] = [
        ("medium", cues.medium, &[MEDIUM_WORDS]),
        (
            "lighting",
            cues.lighting,
            &[LIGHTING_WORDS, SCENE_LIGHT_WORDS],
        ),
        ("composition", cues.composition, &[COMPOSITION_WORDS]),
        ("quality", cues.quality, &[QUALITY_WORDS]),
    ];
    let missing: Vec<(&str, &str)> = kinds
        .into_iter()
        .filter(|(_, _, lists)| {
            !lists
                .iter()
                .flat_map(|l| l.iter())
                .any(|k| mentions(&seen, k))
        })
        .map(|(kind, phrase, _)| (kind, phrase))
        .collect();

    let assemble = |n: usize| {
        let mut parts = vec![body.as_str()];
        parts.extend(missing[..n].iter().map(|&(_, phrase)| phrase));
        let text = join_parts(&parts);
        style.map_or_else(|| text.clone(), |s| apply_style(&text, s))
    };
    let mut n = missing.len();
    let mut text = assemble(n);
    while n > 0 && text.chars().count() > max_chars {
        n -= 1;
        text = assemble(n);
    }
    for (kind, phrase) in &missing[..n] {
        changes.push(format!("added {kind} cue: {phrase}"));
    }
    for (kind, _) in &missing[n..] {
        changes.push(format!(
            "left out {kind} cue to stay within {max_chars} characters"
        ));
    }
    if let Some(s) = style {
        changes.push(format!("applied style {}", s.id));
    }
    if text.chars().count() > max_chars {
        text = cut_at_word(&text, max_chars);
        changes.push(format!("shortened to {} characters", text.chars().count()));
    }
    Optimized {
        original: prompt.to_string(),
        optimized: text,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::creative::style;

    fn added(o: &Optimized) -> Vec<&str> {
        let cues = o.changes.iter().filter_map(|c| c.strip_prefix("added "));
        cues.map(|c| c.split(' ').next().unwrap()).collect()
    }

    #[test]
    fn whitespace_repeats_and_filler_are_cleaned_and_recorded() {
        let o = optimize("  a a red   red fox\tin the The snow ", None, 500);
        assert!(o.optimized.starts_with("a red fox in the snow, "));
        assert_eq!(
            o.changes[..2],
            ["collapsed whitespace", "removed 3 repeated words"]
        );
        assert_eq!(o.original, "  a a red   red fox\tin the The snow ");

        let o = optimize("very very big dog", None, 500);
        assert!(o.optimized.starts_with("big dog, "));
        assert_eq!(
            o.changes[..2],
            ["removed 1 repeated word", "removed 1 filler: very"]
        );
        assert!(
            optimize("big big. cat, cat", None, 500)
                .optimized
                .starts_with("big. cat, cat, ")
        );

        let prompt = "Can you please generate an image of a VERY fluffy cat on a mat, please";
        let o = optimize(prompt, None, 500);
        assert!(
            o.optimized.starts_with("a fluffy cat on a mat, digital"),
            "{}",
            o.optimized
        );
        assert!(
            o.changes.contains(
                &"removed 6 fillers: can you, please, generate, an image of, very".into()
            )
        );
        assert!(
            optimize("some kind of robot dog", None, 500)
                .optimized
                .starts_with("robot dog, ")
        );
        // Whole words only.
        assert!(
            optimize("justice veryfine", None, 500)
                .optimized
                .starts_with("justice veryfine, ")
        );
    }

    #[test]
    fn prompts_are_never_emptied_and_vague_subjects_are_flagged_not_invented() {
        let o = optimize("please just", None, 500);
        assert!(o.optimized.starts_with("please just, "));
        assert!(!o.changes.iter().any(|c| c.contains("filler")));
        assert!(
            o.changes
                .contains(&"subject is vague: name what the picture shows".into())
        );
        assert!(!optimize("very", None, 3).optimized.is_empty());
        let clear = optimize("a red fox in the snow", None, 500);
        assert!(!clear.changes.iter().any(|c| c.starts_with("subject")));
    }

    #[test]
    fn cues_are_added_only_when_missing() {
        let o = optimize("a red fox in the snow", None, 500);
        let want = "a red fox in the snow, digital artwork, natural lighting, \
                    balanced composition, high detail";
        assert_eq!(o.optimized, want);
        assert_eq!(added(&o), ["medium", "lighting", "composition", "quality"]);
        assert_eq!(o.changes[0], "added medium cue: digital artwork");

        let full = "Oil paintings of a red fox at sunset, close-up, highly detailed";
        let o = optimize(full, None, 500);
        assert_eq!((o.optimized.as_str(), o.changes.len()), (full, 0));
        assert_eq!(
            added(&optimize("red fox in the snow, 4K photo", None, 500)),
            ["lighting", "composition"]
        );
    }

    #[test]
    fn styles_wrap_the_prompt_and_their_own_words_count_as_cues() {
        let o = optimize("a red fox on a rooftop", style("cyberpunk"), 500);
        assert_eq!(
            o.optimized,
            "cyberpunk, a red fox on a rooftop, digital concept art, neon glow and deep \
             shadows, low angle wide shot, highly detailed, rain-soaked megacity streets, \
             chrome and holograms"
        );
        assert_eq!(
            o.changes.last().map(String::as_str),
            Some("applied style cyberpunk")
        );
        // "watercolor painting" already names the medium.
        let o = optimize("a red fox on a rooftop", style("watercolor"), 500);
        assert_eq!(added(&o), ["lighting", "composition", "quality"]);
        // Every style's cues are recognised as such: optimising twice changes nothing more.
        for s in styles().iter().map(Some).chain([None]) {
            let once = optimize("a red fox in the snow", s, 500);
            let twice = optimize(&once.optimized, s, 500);
            assert_eq!(once.optimized, twice.optimized);
            assert!(added(&twice).is_empty(), "{:?}", s.map(|s| s.id));
        }
    }

    #[test]
    fn results_fit_max_chars_dropping_cues_then_cutting_at_words() {
        let o = optimize("a red fox in the snow", None, 60);
        assert_eq!(
            o.optimized,
            "a red fox in the snow, digital artwork, natural lighting"
        );
        assert_eq!(added(&o), ["medium", "lighting"]);
        assert!(
            o.changes
                .contains(&"left out quality cue to stay within 60 characters".into())
        );

        let o = optimize(&"café ☕ ".repeat(30), None, 25);
        assert!(o.optimized.chars().count() <= 25);
        assert!(
            o.optimized.split(' ').all(|w| w == "café" || w == "☕"),
            "{}",
            o.optimized
        );
        let n = o.optimized.chars().count();
        assert_eq!(
            o.changes.last(),
            Some(&format!("shortened to {n} characters"))
        );
        assert_eq!(optimize("☕☕☕☕☕☕", None, 3).optimized, "☕☕☕");
        let styled = optimize("a red fox in the snow", style("photorealistic"), 40);
        assert!(styled.optimized.chars().count() <= 40);
    }
}
