//! A 0–100 image quality score with its parts, measured once at intake from the decoded pixels.
//!
//! Every part is a documented formula over the real pixels (or, for resolution and bytes per
//! pixel, over the uploaded file), mapped to a 0–100 sub-score by a documented saturating ramp;
//! the score is the weighted sum of the sub-scores with the weights in [`WEIGHTS`].

use serde::{Deserialize, Serialize};

/// One measurement: its raw `value` and the 0–100 `score` it maps to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Part {
    pub value: f64,
    pub score: u8,
}

/// The six measurements behind [`Quality::score`].
///
/// Luma is BT.601, `Y = 0.299 R + 0.587 G + 0.114 B` on 8-bit channels (0–255), not rounded.
/// `ramp(x, ref) = round(100 × min(1, max(0, x / ref)))`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Parts {
    /// Variance of the 4-neighbour Laplacian `4·Y(x,y) − Y(x−1,y) − Y(x+1,y) − Y(x,y−1) −
    /// Y(x,y+1)` over the interior pixels (images narrower or shorter than 3 px have none: 0).
    /// Score `round(100 × min(1, log10(1 + var) / log10(1 + SHARPNESS_REF)))`. It is measured on
    /// the pixels as passed, which may be a downscaled copy.
    pub sharpness: Part,
    /// Clipped share: the share of pixels with `Y ≤ 5` plus the share with `Y ≥ 250`.
    /// Score `100 − ramp(clipped, CLIPPED_REF)`.
    pub exposure: Part,
    /// RMS contrast: the standard deviation of luma divided by 255. Score `ramp(c, CONTRAST_REF)`.
    pub contrast: Part,
    /// Hasler & Süsstrunk (2003): with `rg = R − G` and `yb = (R + G) / 2 − B` per pixel,
    /// `M = sqrt(σ_rg² + σ_yb²) + 0.3 · sqrt(μ_rg² + μ_yb²)` (population σ). Their scale runs
    /// from 0 (not colourful) through 33 (moderately) and 59 (quite) to 109 (extremely).
    /// Score `ramp(M, COLOURFULNESS_REF)`.
    pub colourfulness: Part,
    /// Megapixels of the uploaded image, `width × height / 10⁶`.
    /// Score `ramp(MP, RESOLUTION_REF_MP)`.
    pub resolution: Part,
    /// Size of the uploaded file over its pixel count, `bytes / (width × height)`; few bytes a
    /// pixel means heavy compression. Score `ramp(bpp, BYTES_PER_PIXEL_REF)`.
    pub bytes_per_pixel: Part,
}

impl Parts {
    /// The parts in [`WEIGHTS`] order.
    pub fn to_array(&self) -> [Part; 6] {
        [
            self.sharpness,
            self.exposure,
            self.contrast,
            self.colourfulness,
            self.resolution,
            self.bytes_per_pixel,
        ]
    }
}

/// The quality of one image: `score` is `round(Σ weight × sub-score)` over [`WEIGHTS`], halves
/// rounding up, computed exactly from the integer sub-scores in `parts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Quality {
    pub score: u8,
    pub parts: Parts,
}

/// The weight of each part in the score, in [`Parts`] order; they sum to 1.
pub const WEIGHTS: [(&str, f64); 6] = [
    ("sharpness", 0.30),
    ("exposure", 0.20),
    ("contrast", 0.15),
    ("colourfulness", 0.10),
    ("resolution", 0.15),
    ("bytes_per_pixel", 0.10),
];

/// Laplacian variance that earns full sharpness marks; 100, a blur threshold often used with
/// this measure, scores 67.
pub const SHARPNESS_REF: f64 = 1000.0;
/// Luma at or below this is a clipped shadow.
pub const SHADOW_CLIP: f64 = 5.0;
/// Luma at or above this is a clipped highlight.
pub const HIGHLIGHT_CLIP: f64 = 250.0;
/// Clipped share at which the exposure score reaches 0.
pub const CLIPPED_REF: f64 = 0.5;
/// RMS contrast that earns full marks: a luma σ of 51 grey levels.
pub const CONTRAST_REF: f64 = 0.20;
/// Hasler–Süsstrunk "extremely colourful".
pub const COLOURFULNESS_REF: f64 = 109.0;
/// Megapixels that earn full resolution marks.
pub const RESOLUTION_REF_MP: f64 = 4.0;
/// Bytes per pixel that earn full marks: 4 bits a pixel, a lightly compressed JPEG photograph.
pub const BYTES_PER_PIXEL_REF: f64 = 0.5;

// The clipping thresholds in the thousandths of luma that `pixel_parts` works in.
const SHADOW_CLIP_MILLI: i32 = (SHADOW_CLIP * 1000.0) as i32;
const HIGHLIGHT_CLIP_MILLI: i32 = (HIGHLIGHT_CLIP * 1000.0) as i32;

/// Pixels summed into u64 before joining the u128 totals: 4096 × 255 000² < 2^48, so no overflow,
/// while the inner loops stay free of 128-bit arithmetic.
const BLOCK: usize = 4096;

/// Measures `rgb`, packed 8-bit RGB (3 bytes a pixel, rows top to bottom) of `width × height`
/// pixels as decoded, possibly a downscaled copy; `original_*` describe the uploaded file.
///
/// Only complete rows present in `rgb` are measured: `min(height, rgb.len() / (3 × width))` of
/// them, so a short buffer never panics. With no complete row the four pixel parts are
/// `{ value: 0, score: 0 }`; with a zero original pixel count, so are resolution and bytes per
/// pixel.
pub fn assess(
    rgb: &[u8],
    width: u32,
    height: u32,
    original_width: u32,
    original_height: u32,
    original_bytes: u64,
) -> Quality {
    let mut parts = pixel_parts(rgb, width, height);
    let pixels = u64::from(original_width) * u64::from(original_height);
    if pixels > 0 {
        parts.resolution = ramped(pixels as f64 / 1e6, RESOLUTION_REF_MP);
        parts.bytes_per_pixel = ramped(original_bytes as f64 / pixels as f64, BYTES_PER_PIXEL_REF);
    }
    // In hundredths of a point and integers, so the rounding is exact and reproducible by anyone
    // holding the published sub-scores.
    let hundredths: u32 = (WEIGHTS.iter().zip(parts.to_array()))
        .map(|((_, w), p)| (w * 100.0).round() as u32 * u32::from(p.score))
        .sum();
    let score = ((hundredths + 50) / 100).min(100) as u8;
    Quality { score, parts }
}

const fn part(value: f64, score: u8) -> Part {
    Part { value, score }
}

/// `value` with the sub-score `ramp(value, reference)`.
fn ramped(value: f64, reference: f64) -> Part {
    part(value, ramp(value, reference))
}

/// `round(100 × clamp(x / reference, 0, 1))`.
fn ramp(x: f64, reference: f64) -> u8 {
    (100.0 * (x / reference).clamp(0.0, 1.0)).round() as u8
}

/// Population variance from exact integer sums: `(n·Σx² − (Σx)²) / n²`.
fn variance(n: u128, sum: i128, sum_sq: u128) -> f64 {
    let numerator = (n * sum_sq).saturating_sub(sum.unsigned_abs().pow(2));
    numerator as f64 / (n * n) as f64
}

/// Sharpness, exposure, contrast and colourfulness (the rest left at zero) in two passes: one
/// over `rgb` building the luma plane and the colour sums, one over the plane for the Laplacian.
fn pixel_parts(rgb: &[u8], width: u32, height: u32) -> Parts {
    let w = width as usize;
    let rows = match w.checked_mul(3) {
        Some(stride) if stride > 0 => (height as usize).min(rgb.len() / stride),
        _ => 0,
    };
    let n = w * rows;
    if n == 0 {
        return Parts::default();
    }
    // Luma is kept in exact thousandths (299 R + 587 G + 114 B) and every sum is an integer, so
    // the result does not depend on summation order or floating-point error.
    let mut luma = vec![0i32; n];
    let (mut sum_y, mut sum_y2, mut clipped) = (0u64, 0u128, 0u64);
    // rg = R − G; yb2 = R + G − 2B is 2·yb, which keeps yb an integer.
    let (mut sum_rg, mut sum_rg2, mut sum_yb2, mut sum_yb2_sq) = (0i64, 0u64, 0i64, 0u64);
    for (out, block) in luma.chunks_mut(BLOCK).zip(rgb[..n * 3].chunks(3 * BLOCK)) {
        let (mut rg1, mut rg2, mut yb1, mut yb2) = (0i64, 0u64, 0i64, 0u64);
        for (o, &[r, g, b]) in out.iter_mut().zip(block.as_chunks::<3>().0) {
            let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
            *o = 299 * r + 587 * g + 114 * b;
            let (rg, yb) = (r - g, r + g - 2 * b);
            (rg1, rg2) = (rg1 + i64::from(rg), rg2 + (rg * rg) as u64);
            (yb1, yb2) = (yb1 + i64::from(yb), yb2 + (yb * yb) as u64);
        }
        // A separate loop over the block's luma, still in L1, which the compiler can vectorise.
        let (mut y1, mut y2, mut clip) = (0u64, 0u64, 0u64);
        for &y in out.iter() {
            (y1, y2) = (y1 + y as u64, y2 + (y as u64) * (y as u64));
            clip += u64::from(y <= SHADOW_CLIP_MILLI || y >= HIGHLIGHT_CLIP_MILLI);
        }
        (sum_y, sum_y2, clipped) = (sum_y + y1, sum_y2 + u128::from(y2), clipped + clip);
        (sum_rg, sum_rg2, sum_yb2, sum_yb2_sq) =
            (sum_rg + rg1, sum_rg2 + rg2, sum_yb2 + yb1, sum_yb2_sq + yb2);
    }
    let count = n as u128;

    let clipped_share = clipped as f64 / n as f64;
    let exposure = part(clipped_share, 100 - ramp(clipped_share, CLIPPED_REF));
    let rms = variance(count, i128::from(sum_y), sum_y2).sqrt() / 1000.0 / 255.0;

    let var_rg = variance(count, i128::from(sum_rg), u128::from(sum_rg2));
    let var_yb = variance(count, i128::from(sum_yb2), u128::from(sum_yb2_sq)) / 4.0;
    let mean_rg = sum_rg as f64 / n as f64;
    let mean_yb = sum_yb2 as f64 / n as f64 / 2.0;
    let m = (var_rg + var_yb).sqrt() + 0.3 * (mean_rg * mean_rg + mean_yb * mean_yb).sqrt();

    let var = laplacian_variance(&luma, w, rows);
    let sharpness = (1.0 + var).log10() / (1.0 + SHARPNESS_REF).log10();
    Parts {
        sharpness: part(var, (100.0 * sharpness.clamp(0.0, 1.0)).round() as u8),
        exposure,
        contrast: ramped(rms, CONTRAST_REF),
        colourfulness: ramped(m, COLOURFULNESS_REF),
        ..Parts::default()
    }
}

/// Variance of the 4-neighbour Laplacian of luma over interior pixels, in luma units²; 0 when
/// there are none.
fn laplacian_variance(luma: &[i32], w: usize, h: usize) -> f64 {
    if w < 3 || h < 3 {
        return 0.0;
    }
    let (mut sum, mut sum_sq) = (0i128, 0u128);
    let rows = luma.chunks_exact(w);
    for ((up, mid), down) in rows.clone().zip(rows.clone().skip(1)).zip(rows.skip(2)) {
        for x0 in (1..w - 1).step_by(BLOCK) {
            let x1 = (x0 + BLOCK).min(w - 1);
            let (above, below) = (&up[x0..x1], &down[x0..x1]);
            let (mut s1, mut s2) = (0i64, 0u64);
            for ((m, a), b) in mid[x0 - 1..x1 + 1].windows(3).zip(above).zip(below) {
                // |lap| ≤ 4 × 255 000, well inside i32; its square needs 64 bits.
                let lap = i64::from(4 * m[1] - m[0] - m[2] - a - b);
                (s1, s2) = (s1 + lap, s2 + (lap * lap) as u64);
            }
            sum += i128::from(s1);
            sum_sq += u128::from(s2);
        }
    }
    let interior = ((w - 2) * (h - 2)) as u128;
    // Thousandths of luma squared → luma squared.
    variance(interior, sum, sum_sq) / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZERO: Part = part(0.0, 0);

    /// Deterministic noise (a multiplicative hash of the index), sharp at every pixel.
    fn noise(w: usize, h: usize) -> Vec<u8> {
        let byte = |i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8;
        (0..(w * h * 3) as u32).map(byte).collect()
    }

    /// A 3×3 box blur, edges clamped, written here rather than trusted from the code under test.
    fn box_blur(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
        let mut out = rgb.to_vec();
        for (y, i) in (0..h).flat_map(|y| (0..3 * w).map(move |i| (y, i))) {
            let (x, c) = (i / 3, i % 3);
            let at = |k: usize| {
                let (yy, xx) = ((y + k / 3).clamp(1, h) - 1, (x + k % 3).clamp(1, w) - 1);
                u32::from(rgb[(yy * w + xx) * 3 + c])
            };
            out[y * 3 * w + i] = ((0..9).map(at).sum::<u32>() / 9) as u8;
        }
        out
    }

    fn uniform(w: usize, h: usize, px: [u8; 3]) -> Vec<u8> {
        px.repeat(w * h)
    }

    #[test]
    fn weights_sum_to_one_and_name_the_parts() {
        assert!((WEIGHTS.iter().map(|(_, w)| w).sum::<f64>() - 1.0).abs() < 1e-12);
        let names = "sharpness,exposure,contrast,colourfulness,resolution,bytes_per_pixel";
        assert_eq!(WEIGHTS.map(|(n, _)| n).join(","), names);
    }

    #[test]
    fn sharp_noise_beats_its_blurred_copy() {
        let sharp = noise(96, 64);
        let a = assess(&sharp, 96, 64, 96, 64, 10_000).parts.sharpness;
        let blurred = box_blur(&sharp, 96, 64);
        let b = assess(&blurred, 96, 64, 96, 64, 10_000).parts.sharpness;
        assert!(a.value > 10.0 * b.value && a.score > b.score, "{a:?} {b:?}");
        // A one-pixel checkerboard of 0 and 255: the Laplacian is ±1020 everywhere inside, mean 0.
        let cell = |i: usize| ((i / 3 + i / 288) % 2 * 255) as u8;
        let cb: Vec<u8> = (0..96 * 64 * 3).map(cell).collect();
        let q = assess(&cb, 96, 64, 96, 64, 10_000);
        assert_eq!(q.parts.sharpness, part(1020.0 * 1020.0, 100));
    }

    #[test]
    fn black_is_worse_exposed_than_a_grey_gradient() {
        let black = assess(&uniform(256, 16, [0; 3]), 256, 16, 256, 16, 1000);
        assert_eq!(black.parts.exposure, part(1.0, 0));
        assert_eq!(black.parts.contrast, ZERO);
        let ramp_of = |i: usize| (64 + i / 3 % 256 / 2) as u8;
        let gradient: Vec<u8> = (0..256 * 16 * 3).map(ramp_of).collect();
        let grey = assess(&gradient, 256, 16, 256, 16, 1000);
        assert_eq!(grey.parts.exposure, part(0.0, 100));
        assert!(grey.parts.contrast.value > 0.1 && grey.parts.contrast.value < 0.2);
        assert!(grey.score > black.score);
    }

    #[test]
    fn grey_is_colourless_and_primaries_are_colourful() {
        let grey = assess(&uniform(8, 8, [128; 3]), 8, 8, 8, 8, 100);
        assert_eq!(grey.parts.colourfulness, ZERO);
        // Solid red: σ = 0, μ_rg = 255, μ_yb = 127.5, so M = 0.3 · sqrt(255² + 127.5²).
        let red = assess(&uniform(8, 8, [255, 0, 0]), 8, 8, 8, 8, 100);
        let expected = 0.3 * (255.0f64.powi(2) + 127.5f64.powi(2)).sqrt();
        assert!((red.parts.colourfulness.value - expected).abs() < 1e-9);
        let primaries = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
        let stripes: Vec<u8> = (0..30 * 9).flat_map(|i| primaries[i % 3]).collect();
        let rgb = assess(&stripes, 30, 9, 30, 9, 100).parts.colourfulness;
        assert!(rgb.value > COLOURFULNESS_REF && rgb.score == 100);
    }

    #[test]
    fn file_parts_and_the_weighted_score() {
        let q = assess(&uniform(4, 4, [128; 3]), 4, 4, 2000, 1000, 250_000);
        let file = (q.parts.resolution, q.parts.bytes_per_pixel);
        assert_eq!(file, (part(2.0, 50), part(0.125, 25)));
        // Flat grey: sharpness 0, exposure 100, contrast 0, colourfulness 0.
        // 0.30·0 + 0.20·100 + 0.15·0 + 0.10·0 + 0.15·50 + 0.10·25 = 30.
        assert_eq!(q.score, 30);
        assert_eq!(assess(&[], 0, 0, 0, 0, 0), Quality::default());
    }

    #[test]
    fn deterministic_and_safe_on_tiny_or_mismatched_buffers() {
        let img = noise(123, 77);
        let run = || assess(&img, 123, 77, 1230, 770, 123_456);
        assert_eq!(run(), run());
        for (w, h) in [(0, 0), (1, 1), (2, 2), (1, 5), (5, 2)] {
            let q = assess(&noise(w, h), w as u32, h as u32, 1, 1, 1);
            assert_eq!(q.parts.sharpness, ZERO, "{w}×{h}");
        }
        // A short buffer: only the complete rows are measured.
        let whole = assess(&img[..10 * 4 * 3], 10, 4, 10, 10, 100);
        assert_eq!(assess(&img[..10 * 4 * 3 + 7], 10, 10, 10, 10, 100), whole);
        // A buffer too short for one row, and absurd dimensions.
        let q = assess(&img[..5], 10, 10, 10, 10, 100);
        assert_eq!((q.parts.exposure, q.parts.sharpness), (ZERO, ZERO));
        let q = assess(&img, u32::MAX, u32::MAX, u32::MAX, u32::MAX, u64::MAX);
        assert_eq!((q.parts.exposure, q.parts.resolution.score), (ZERO, 100));
    }
}
