//! `builtin`: procedural abstract art made here, with no key and no network, so a fresh install
//! can run Glimpse's Path A end to end. Honestly labelled (`aistagram-procedural-1`): soft
//! overlapping discs and waves over a gradient, every choice drawn from the blake3 of the prompt,
//! the style and the seed, so the same request makes the same picture.

use image::{ImageFormat, RgbImage};

/// The model name posts and answers carry.
pub const MODEL: &str = "aistagram-procedural-1";

/// A deterministic stream of numbers from the request's hash (xorshift64*).
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number in `[0, 1)`.
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// HSV (hue in turns) to RGB, each channel 0–1.
fn hsv(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h = h.rem_euclid(1.0) * 6.0;
    let (i, f) = (h.floor(), h.fract());
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match i as u8 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// Renders the picture as a PNG of `width × height`.
pub fn render(prompt: &str, style: Option<&str>, seed: u64, width: u32, height: u32) -> Vec<u8> {
    let mut h = blake3::Hasher::new();
    h.update(prompt.trim().to_lowercase().as_bytes());
    h.update(b"\0");
    h.update(style.unwrap_or("").as_bytes());
    h.update(&seed.to_le_bytes());
    let digest = h.finalize();
    let mut word = [0u8; 8];
    word.copy_from_slice(&digest.as_bytes()[..8]);
    let mut d = Draw(u64::from_le_bytes(word) | 1);

    // A palette of five harmonious colours around one base hue.
    let base = d.unit();
    let palette: Vec<[f32; 3]> = [0.0, 0.08, 0.5, 0.58, 0.25]
        .iter()
        .map(|off| hsv(base + off, 0.45 + 0.4 * d.unit(), 0.55 + 0.4 * d.unit()))
        .collect();
    let (w, hgt) = (width as f32, height as f32);
    let angle = d.unit() * std::f32::consts::TAU;
    let (gx, gy) = (angle.cos(), angle.sin());
    let mut img: Vec<[f32; 3]> = (0..width * height)
        .map(|i| {
            let (x, y) = ((i % width) as f32 / w, (i / width) as f32 / hgt);
            let t = ((x - 0.5) * gx + (y - 0.5) * gy + 0.71) / 1.42;
            let (a, b) = (palette[0], palette[1]);
            [0, 1, 2].map(|c| a[c] + (b[c] - a[c]) * t)
        })
        .collect();

    // Soft discs: each blends its colour in with a smooth falloff, within its bounding box.
    let discs = 6 + (d.next() % 9) as usize;
    for _ in 0..discs {
        let (cx, cy) = (d.unit() * w, d.unit() * hgt);
        let r = (0.08 + 0.3 * d.unit()) * w.min(hgt);
        let colour = palette[(d.next() % 5) as usize];
        let strength = 0.35 + 0.5 * d.unit();
        let (x0, x1) = ((cx - r).max(0.0) as u32, ((cx + r) as u32).min(width));
        let (y0, y1) = ((cy - r).max(0.0) as u32, ((cy + r) as u32).min(height));
        for y in y0..y1 {
            for x in x0..x1 {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let dist = (dx * dx + dy * dy).sqrt() / r;
                if dist < 1.0 {
                    let a = strength * (1.0 - dist * dist).powi(2);
                    let px = &mut img[(y * width + x) as usize];
                    for c in 0..3 {
                        px[c] += (colour[c] - px[c]) * a;
                    }
                }
            }
        }
    }
    // Waves: thin sine bands across the picture.
    let waves = 2 + (d.next() % 3) as usize;
    for _ in 0..waves {
        let (freq, phase, level) = (2.0 + 6.0 * d.unit(), d.unit() * 6.3, d.unit());
        let amp = 0.04 + 0.1 * d.unit();
        let colour = palette[(d.next() % 5) as usize];
        for x in 0..width {
            let fx = x as f32 / w;
            let centre = (level + amp * (fx * freq * std::f32::consts::TAU + phase).sin()) * hgt;
            let half = hgt * 0.012;
            let (y0, y1) = (
                (centre - half).max(0.0) as u32,
                ((centre + half) as u32).min(height),
            );
            for y in y0..y1 {
                let a = 0.6 * (1.0 - ((y as f32 - centre) / half).abs());
                let px = &mut img[(y * width + x) as usize];
                for c in 0..3 {
                    px[c] += (colour[c] - px[c]) * a;
                }
            }
        }
    }
    let rgb = RgbImage::from_fn(width, height, |x, y| {
        let px = img[(y * width + x) as usize];
        image::Rgb(px.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
    });
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding an in-memory RGB buffer as PNG cannot fail but for a writer error, and a Vec
    // does not fail; an empty result is caught by the intake that follows.
    let _ = rgb.write_to(&mut out, ImageFormat::Png);
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_request_makes_the_same_picture_and_another_prompt_another() {
        let a = render("neon city at midnight", None, 0, 128, 96);
        assert_eq!(a, render("neon city at midnight", None, 0, 128, 96));
        assert_ne!(a, render("a quiet forest", None, 0, 128, 96));
        assert_ne!(
            a,
            render("neon city at midnight", Some("watercolor"), 0, 128, 96)
        );
        assert_ne!(a, render("neon city at midnight", None, 1, 128, 96));
        let img = image::load_from_memory(&a).unwrap();
        assert_eq!((img.width(), img.height()), (128, 96));
        // Not a flat fill: the picture has structure.
        let rgb = img.to_rgb8();
        let distinct: std::collections::HashSet<_> = rgb.pixels().map(|p| p.0).collect();
        assert!(distinct.len() > 100, "{} colours", distinct.len());
    }
}
