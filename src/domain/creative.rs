//! Prompt styles, prompt optimisation and caption suggestions: the pure, deterministic text rules
//! behind `GET /styles`, `POST /prompts/optimize` and `POST /captions/suggest`.

use serde::Serialize;

/// The four cues a finished prompt should carry, each a short phrase added only when the prompt
/// has no cue of that kind yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What `optimize` returns; `changes` says, in order, what was done and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

    fn added(o: &Optimized) -> Vec<&str> {
        let cues = o.changes.iter().filter_map(|c| c.strip_prefix("added "));
        cues.map(|c| c.split(' ').next().unwrap()).collect()
    }

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
