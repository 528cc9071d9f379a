//! Prompt styles, prompt optimisation and caption suggestions: the pure, deterministic text rules
//! behind `GET /styles`, `POST /prompts/optimize` and `POST /captions/suggest`. This file holds
//! the style catalog and the word rules both tools share; `optimize.rs` and `captions.rs` hold
//! the tools.

mod captions;
mod optimize;

pub use captions::{FALLBACK_TAG, GENERIC_CAPTIONS, MAX_CAPTION_CHARS, suggest_captions};
pub use optimize::{Optimized, optimize};

use serde::Serialize;

/// The four cues a finished prompt should carry, each a short phrase added only when the prompt
/// has no cue of that kind yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Cues {
    /// What the picture is made as ("oil on canvas").
    pub medium: &'static str,
    /// How it is lit ("soft natural daylight").
    pub lighting: &'static str,
    /// How it is framed ("centered composition").
    pub composition: &'static str,
    /// How finished it is ("high detail").
    pub quality: &'static str,
}

/// A look an agent can ask for by id: `apply_style` wraps the prompt in `prefix` and `suffix`,
/// and `optimize` adds the style's `cues` the prompt lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Style {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub prefix: &'static str,
    pub suffix: &'static str,
    pub cues: Cues,
}

/// The cues `optimize` adds when no style is given: neutral, naming no particular look.
pub const DEFAULT_CUES: Cues = Cues {
    medium: "digital artwork",
    lighting: "natural lighting",
    composition: "balanced composition",
    quality: "high detail",
};

// Each cue phrase contains a keyword of its own kind, so optimising an optimised prompt adds
// nothing (tested below).
#[rustfmt::skip]
const STYLES: &[Style] = &[
    Style {
        id: "photorealistic", name: "Photorealistic",
        description: "Looks like a real photograph: natural colour, texture and optics.",
        prefix: "photorealistic", suffix: "natural colours, true-to-life textures",
        cues: Cues { medium: "DSLR photograph, 50mm lens", lighting: "soft natural daylight",
                      composition: "eye-level medium shot", quality: "sharp focus, high detail" },
    },
    Style {
        id: "cinematic", name: "Cinematic",
        description: "A still from a film: dramatic light, widescreen framing and colour grading.",
        prefix: "cinematic film still", suffix: "anamorphic lens, colour graded",
        cues: Cues { medium: "35mm film still", lighting: "dramatic low-key lighting",
                      composition: "widescreen wide shot", quality: "high detail" },
    },
    Style {
        id: "anime", name: "Anime",
        description: "Japanese animation look: clean outlines, cel shading, expressive faces.",
        prefix: "anime style", suffix: "cel shading, clean outlines, vibrant colours",
        cues: Cues { medium: "anime illustration", lighting: "bright soft lighting",
                      composition: "dynamic composition", quality: "highly detailed" },
    },
    Style {
        id: "watercolor", name: "Watercolor",
        description: "Loose, translucent washes of paint that bleed into textured paper.",
        prefix: "watercolor painting", suffix: "soft washes, visible paper texture",
        cues: Cues { medium: "watercolor on cold-press paper", lighting: "soft diffused daylight",
                      composition: "loose vignette composition", quality: "delicate fine detail" },
    },
    Style {
        id: "oil-painting", name: "Oil Painting",
        description: "Classical painting on canvas with rich colour and visible brushwork.",
        prefix: "oil painting", suffix: "visible brushstrokes, rich impasto texture",
        cues: Cues { medium: "oil on canvas", lighting: "warm chiaroscuro lighting",
                      composition: "classical balanced composition", quality: "fine detail" },
    },
    Style {
        id: "pixel-art", name: "Pixel Art",
        description: "Retro video-game graphics built from a small grid of hard-edged pixels.",
        prefix: "pixel art", suffix: "limited palette, retro video game look",
        cues: Cues { medium: "16-bit pixel art sprite", lighting: "flat bright lighting",
                      composition: "side view, centered", quality: "crisp clean pixels" },
    },
    Style {
        id: "3d-render", name: "3D Render",
        description: "Computer-generated 3D scene with physically based materials.",
        prefix: "3D render", suffix: "physically based materials, smooth surfaces",
        cues: Cues { medium: "physically based 3D render", lighting: "soft studio lighting",
                      composition: "three-quarter view, centered", quality: "high detail, 4k" },
    },
    Style {
        id: "line-art", name: "Line Art",
        description: "Clean black outlines on white, with no shading or colour.",
        prefix: "clean line art", suffix: "black outlines on white, no shading",
        cues: Cues { medium: "black ink drawing", lighting: "flat even light",
                      composition: "centered composition", quality: "crisp precise lines" },
    },
    Style {
        id: "cyberpunk", name: "Cyberpunk",
        description: "High-tech, low-life future cities: rain, chrome and holograms.",
        prefix: "cyberpunk", suffix: "rain-soaked megacity streets, chrome and holograms",
        cues: Cues { medium: "digital concept art", lighting: "neon glow and deep shadows",
                      composition: "low angle wide shot", quality: "highly detailed" },
    },
    Style {
        id: "vaporwave", name: "Vaporwave",
        description: "Retro 1980s–90s computer aesthetic in pink and teal.",
        prefix: "vaporwave aesthetic", suffix: "pink and teal palette, retro computer graphics",
        cues: Cues { medium: "retro digital collage", lighting: "pastel neon glow",
                      composition: "symmetrical composition", quality: "crisp retro detail" },
    },
    Style {
        id: "minimalist", name: "Minimalist",
        description: "Few elements, flat colour and a lot of empty space.",
        prefix: "minimalist", suffix: "limited palette, simple shapes",
        cues: Cues { medium: "flat vector illustration", lighting: "soft even light",
                      composition: "centered, negative space", quality: "clean sharp edges" },
    },
    Style {
        id: "surreal", name: "Surreal",
        description: "Dreamlike scenes with impossible scale and uncanny combinations.",
        prefix: "surreal dreamlike scene", suffix: "impossible scale, uncanny juxtaposition",
        cues: Cues { medium: "surrealist oil painting", lighting: "long dreamlike shadows",
                      composition: "wide panoramic composition", quality: "highly detailed" },
    },
    Style {
        id: "storybook", name: "Storybook",
        description: "Warm, hand-painted children's-book illustration, gentle and whimsical.",
        prefix: "storybook illustration", suffix: "whimsical, warm hand-painted look",
        cues: Cues { medium: "gouache illustration", lighting: "warm golden-hour light",
                      composition: "gentle wide shot", quality: "fine painterly detail" },
    },
    Style {
        id: "comic-book", name: "Comic Book",
        description: "A comic panel: bold inked outlines, flat colour and halftone shading.",
        prefix: "comic book panel", suffix: "bold inked outlines, halftone dots",
        cues: Cues { medium: "inked comic illustration", lighting: "high-contrast lighting",
                      composition: "dynamic low angle", quality: "crisp clean linework" },
    },
];

/// The style catalog, in a fixed order.
pub fn styles() -> &'static [Style] {
    STYLES
}

/// The style with this id, ignoring ASCII case and surrounding whitespace.
pub fn style(id: &str) -> Option<&'static Style> {
    let id = id.trim();
    STYLES.iter().find(|s| s.id.eq_ignore_ascii_case(id))
}

/// Filler `optimize` removes: whole words or phrases, matched case-insensitively on words with
/// their surrounding punctuation ignored; at each word the longest listed phrase wins.
#[rustfmt::skip]
pub const FILLER: &[&str] = &[
    "please", "kindly", "very", "really", "just", "basically", "literally", "actually", "kind of",
    "sort of", "some kind of", "i want", "i would like", "i'd like", "can you", "could you",
    "make me", "an image of", "a picture of", "generate",
];

/// Keywords showing a prompt names its medium.
#[rustfmt::skip]
pub const MEDIUM_WORDS: &[&str] = &[
    "photo", "photograph", "photography", "film still", "painting", "painted", "illustration",
    "illustrated", "render", "rendered", "3d", "cgi", "sketch", "drawing", "drawn", "watercolor",
    "watercolour", "oil", "acrylic", "gouache", "charcoal", "pencil", "ink", "pixel", "vector",
    "anime", "manga", "cartoon", "comic", "collage", "artwork", "concept art", "digital art",
    "sculpture", "engraving", "woodcut",
];

/// Keywords showing a prompt names its lighting (with [`SCENE_LIGHT_WORDS`]).
#[rustfmt::skip]
pub const LIGHTING_WORDS: &[&str] = &[
    "light", "lighting", "lit", "backlit", "backlight", "daylight", "glow", "glowing", "shadow",
    "silhouette", "chiaroscuro", "volumetric", "overcast", "illuminated", "low-key", "high-key",
];

/// Lighting keywords that also name what is in the picture, so they still count as content
/// words for `key_phrases` and the vague-subject check.
#[rustfmt::skip]
pub const SCENE_LIGHT_WORDS: &[&str] = &[
    "sunset", "sunrise", "dawn", "dusk", "twilight", "golden hour", "blue hour", "sunlight",
    "moonlight", "candlelight", "neon",
];

/// Keywords showing a prompt names its framing.
#[rustfmt::skip]
pub const COMPOSITION_WORDS: &[&str] = &[
    "close-up", "closeup", "macro", "wide shot", "medium shot", "long shot", "full body",
    "portrait", "landscape", "panorama", "panoramic", "centered", "centred", "rule of thirds",
    "symmetry", "symmetrical", "aerial", "top-down", "overhead", "isometric",
    "low angle", "high angle", "eye level", "three-quarter view", "composition", "framing",
    "framed", "wide-angle", "negative space",
];

/// Keywords showing a prompt names its finish.
#[rustfmt::skip]
pub const QUALITY_WORDS: &[&str] = &[
    "detail", "detailed", "intricate", "4k", "8k", "hd", "uhd", "high resolution", "hi-res",
    "high-res", "sharp", "crisp", "masterpiece", "high quality", "best quality", "award-winning",
];

/// English stopwords of 3+ letters (shorter words never count anyway), then generic prompt
/// words (image, style, showing, wearing, …) that name no subject.
#[rustfmt::skip]
pub const STOPWORDS: &[&str] = &[
    "about", "above", "after", "again", "against", "all", "also", "and", "any", "are", "aren",
    "because", "been", "before", "being", "below", "between", "both", "but", "can", "could",
    "couldn", "did", "didn", "does", "doesn", "doing", "don", "down", "during", "each", "even",
    "ever", "every", "few", "for", "from", "further", "had", "hadn", "has", "hasn", "have", "haven",
    "having", "her", "here", "hers", "herself", "him", "himself", "his", "how", "into", "isn",
    "its", "itself", "let", "like", "many", "more", "most", "much", "must", "myself", "near", "nor",
    "not", "now", "off", "once", "one", "only", "onto", "other", "our", "ours", "out", "over",
    "own", "same", "she", "should", "shouldn", "some", "such", "than", "that", "the", "their",
    "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "too", "under",
    "until", "upon", "was", "wasn", "were", "weren", "what", "when", "where", "which", "while",
    "who", "whom", "why", "will", "with", "within", "without", "won", "would", "wouldn", "you",
    "your", "yours", "yourself", "image", "images", "picture", "pictures", "style", "showing",
    "shows", "featuring", "depicting", "make", "made", "create", "wearing", "holding", "sitting",
    "standing", "looking", "walking", "riding", "playing", "using",
];

/// Longest key phrase or hashtag, in characters.
const MAX_WORD_CHARS: usize = 50;

/// Words lowercased, split at every character that is not a letter or digit ("Close-up" →
/// `close`, `up`): how prompts and keywords are compared.
fn words_lower(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `words` contain `keyword`'s words in a row; a word also matches with a trailing `s`.
fn mentions(words: &[String], keyword: &str) -> bool {
    let kw = words_lower(keyword);
    !kw.is_empty()
        && words.windows(kw.len()).any(|win| {
            win.iter()
                .zip(&kw)
                .all(|(w, k)| w == k || w.strip_suffix('s') == Some(k.as_str()))
        })
}

/// The cue keyword lists whose words say how a picture is drawn, not what it shows.
const TECHNICAL_LISTS: [&[&str]; 4] = [
    MEDIUM_WORDS,
    LIGHTING_WORDS,
    COMPOSITION_WORDS,
    QUALITY_WORDS,
];

/// Whether `word` is a word of a filler phrase or of a cue keyword written without a space.
fn is_technical(word: &str) -> bool {
    let in_any = |entry: &&str| words_lower(entry).iter().any(|w| w == word);
    // Keywords with a space are left out so "golden hour" or "eye level" keep their words.
    FILLER.iter().any(in_any)
        || TECHNICAL_LISTS
            .iter()
            .flat_map(|list| list.iter())
            .filter(|k| !k.contains(' '))
            .any(in_any)
}

/// The key words of `text` (see [`key_phrases`]) in order, repeats included, each with whether
/// it continues a phrase: only whitespace separates it from the key word before.
fn key_words(text: &str) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    let mut word = String::new();
    let (mut tagged, mut joined, mut prev) = (false, false, ' ');
    // A trailing space flushes the last word.
    for c in text.chars().chain([' ']) {
        if c.is_alphanumeric() || c == '_' {
            if word.is_empty() {
                tagged = prev == '#';
            }
            word.extend(c.to_lowercase());
            prev = c;
            continue;
        }
        if !word.is_empty() {
            let w = word.trim_matches('_');
            let letters = w.chars().filter(|c| c.is_alphabetic()).count();
            let keep = w.chars().count() <= MAX_WORD_CHARS
                && if tagged {
                    letters > 0
                } else {
                    letters >= 3
                        && !w.chars().any(char::is_numeric)
                        && !STOPWORDS.contains(&w)
                        && !is_technical(w)
                };
            if keep {
                found.push((w.to_string(), joined));
            }
            // A hashtag stands alone; a dropped word ends the phrase.
            joined = keep && !tagged;
            word.clear();
        }
        joined &= c.is_whitespace();
        prev = c;
    }
    found
}

/// Up to `max` key phrases of `text`, lowercased, de-duplicated, in order of first appearance.
///
/// A word is a run of letters, digits and `_` (trimmed of `_`). A hashtag's word (`#Sunset` →
/// `sunset`) is always kept if it has a letter and at most 50 characters. Any other word is
/// kept when it has at least 3 letters, no digits, at most 50 characters, and is not in
/// [`STOPWORDS`], not a word of a [`FILLER`] phrase, and not a word of a keyword without a space
/// (`close-up` gives `close`, `up`) in [`MEDIUM_WORDS`], [`LIGHTING_WORDS`],
/// [`COMPOSITION_WORDS`] or [`QUALITY_WORDS`]; [`SCENE_LIGHT_WORDS`] stay.
pub fn key_phrases(text: &str, max: usize) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for (word, _) in key_words(text) {
        if found.len() < max && !found.contains(&word) {
            found.push(word);
        }
    }
    found
}

/// Collapses whitespace, removes it before a comma, semicolon or colon, merges repeated commas,
/// and trims whitespace, commas, semicolons, colons and full stops from both ends.
fn tidy(part: &str) -> String {
    let mut out = String::new();
    for word in part.split_whitespace() {
        if !out.is_empty() && !word.starts_with([',', ';', ':']) {
            out.push(' ');
        }
        out.push_str(word);
    }
    while out.contains(",,") {
        out = out.replace(",,", ",");
    }
    let ends = |c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '.');
    out.trim_matches(ends).to_string()
}

/// Tidied non-empty parts joined with ", ".
fn join_parts(parts: &[&str]) -> String {
    let tidied: Vec<String> = parts.iter().map(|p| tidy(p)).collect();
    let kept: Vec<&str> = tidied
        .iter()
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    kept.join(", ")
}

/// `prefix, prompt, suffix`. In each part whitespace runs become one space, whitespace before
/// `,` `;` `:` is removed, repeated commas become one, and whitespace, commas, semicolons, colons
/// and full stops are trimmed from the ends; empty parts are skipped; the rest are joined with
/// `, `. The prefix (suffix) is left out when the prompt already contains it,
/// ignoring case, so applying a style twice changes nothing.
pub fn apply_style(prompt: &str, style: &Style) -> String {
    let lower = prompt.to_lowercase();
    let unless_present = |part: &'static str| {
        if lower.contains(&part.to_lowercase()) {
            ""
        } else {
            part
        }
    };
    join_parts(&[
        unless_present(style.prefix),
        prompt,
        unless_present(style.suffix),
    ])
}

/// `text` cut to at most `max` characters at a word boundary (or inside the first word if it
/// alone is too long), without trailing whitespace, commas, semicolons or colons.
fn cut_at_word(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let end = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
    let head = &text[..end];
    let cut = if text[end..].starts_with(char::is_whitespace) {
        head
    } else {
        head.rfind(char::is_whitespace).map_or(head, |i| &head[..i])
    };
    let trimmed = cut.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
    // Never return nothing when a hard cut would keep something.
    if trimmed.is_empty() {
        head.trim_end()
    } else {
        trimmed
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_has_twelve_or_more_distinct_complete_styles() {
        assert!(styles().len() >= 12);
        for (i, s) in styles().iter().enumerate() {
            let c = s.cues;
            let fields = [s.id, s.name, s.description, s.prefix, s.suffix];
            let cues = [c.medium, c.lighting, c.composition, c.quality];
            assert!(
                fields.iter().chain(&cues).all(|f| !f.trim().is_empty()),
                "{}",
                s.id
            );
            assert!(
                s.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            );
            assert!(
                styles()[..i].iter().all(|o| o.id != s.id),
                "duplicate {}",
                s.id
            );
        }
    }

    #[test]
    fn style_lookup_ignores_case_and_whitespace() {
        assert_eq!(style(" Oil-Painting ").map(|s| s.id), Some("oil-painting"));
        assert_eq!(style("PIXEL-ART").map(|s| s.id), Some("pixel-art"));
        assert!(style("nope").is_none());
    }

    #[test]
    fn apply_style_joins_cleanly_and_only_once() {
        let wc = style("watercolor").unwrap();
        let once = apply_style("  a cat ,,  on a mat. ", wc);
        assert_eq!(
            once,
            "watercolor painting, a cat, on a mat, soft washes, visible paper texture"
        );
        assert_eq!(apply_style(&once, wc), once);
        assert_eq!(
            apply_style("", wc),
            "watercolor painting, soft washes, visible paper texture"
        );
    }

    #[test]
    fn outputs_are_deterministic() {
        let run = || optimize(" a a very fox  ", style("anime"), 120);
        assert_eq!(run(), run());
        let tags = vec!["fox".to_string()];
        let run = || suggest_captions(Some("a red fox"), Some("snow"), &tags);
        assert_eq!(run(), run());
    }

    #[test]
    fn key_phrases_skip_stopwords_and_cue_words_in_first_seen_order() {
        let text =
            "The cat and the HAT, a cat at #Sunset on a mat: oil painting, close-up, 4k, #AI";
        assert_eq!(key_phrases(text, 10), ["cat", "hat", "sunset", "mat", "ai"]);
        assert_eq!(key_phrases(text, 2), ["cat", "hat"]);
        assert_eq!(
            key_phrases("please make me a fox at golden hour", 10),
            ["fox", "golden", "hour"]
        );
        assert!(key_phrases("", 5).is_empty());
    }
}
