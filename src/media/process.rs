//! The image pipeline: decode once (with limits), apply EXIF orientation, drop all metadata, and
//! produce the `thumb`, `feed` and `full` lossy WebP variants plus a blurhash and a perceptual hash.
//! Pure CPU work: callers run it on a blocking thread behind a semaphore.

use std::io::Cursor;

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageReader};

use super::sniff::Format;
use crate::error::{Error, Result};

/// Longest side of the `feed` variant.
pub const FEED_SIDE: u32 = 1080;
/// Longest side of the `full` variant.
pub const FULL_SIDE: u32 = 2048;
/// Side of the square `thumb` variant.
pub const THUMB_SIDE: u32 = 150;

/// How the variants are encoded.
#[derive(Debug, Clone, Copy)]
pub struct Encoding {
    /// libwebp quality, 0–100.
    pub quality: f32,
    /// libwebp method, 0 (fastest) – 6 (smallest).
    pub method: i32,
}

/// The decode limit: the pixel budget of the largest accepted image, 4 bytes a pixel, plus slack.
pub fn decode_limits(max_side: u32, max_pixels: u64) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(max_side);
    l.max_image_height = Some(max_side);
    l.max_alloc = Some(max_pixels * 4 + 64 * 1024 * 1024);
    l
}

/// One encoded variant.
#[derive(Debug, Clone)]
pub struct Variant {
    pub webp: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Everything the pipeline makes of one image.
#[derive(Debug, Clone)]
pub struct Processed {
    /// Dimensions after orientation.
    pub width: u32,
    pub height: u32,
    pub thumb: Variant,
    pub feed: Variant,
    /// `None` when it would equal `feed` (images no larger than the feed size).
    pub full: Option<Variant>,
    pub blurhash: String,
    pub phash: u64,
    /// The quality score, measured on the feed-size picture (≤ 1080 px) and the uploaded file.
    pub quality: super::quality::Quality,
}

pub fn process(
    bytes: &[u8],
    format: Format,
    limits: image::Limits,
    enc: Encoding,
) -> Result<Processed> {
    let img = decode(bytes, format, limits)?;
    let has_alpha = img.color().has_alpha();
    let (width, height) = (img.width(), img.height());
    // `into_*` moves the decoded buffer when it already has the wanted layout (a JPEG decodes
    // to RGB8): copying 36 MB of a 12 MP photo, and faulting in the pages, cost ~5% of an upload.
    let (pixel_type, raw) = if has_alpha {
        (PixelType::U8x4, img.into_rgba8().into_raw())
    } else {
        (PixelType::U8x3, img.into_rgb8().into_raw())
    };
    let src = Image::from_vec_u8(width, height, raw, pixel_type).map_err(Error::internal)?;
    let mut resizer = Resizer::new();

    // Largest first; each smaller variant is made from the one before, which is cheaper and,
    // with a Lanczos filter, indistinguishable.
    let full_img = shrink(&mut resizer, &src, fit(width, height, FULL_SIDE))?;
    let full_src = full_img.as_ref().unwrap_or(&src);
    let feed_img = shrink(&mut resizer, full_src, fit(width, height, FEED_SIDE))?;
    let feed_src = feed_img.as_ref().unwrap_or(full_src);
    let thumb_img = square(&mut resizer, feed_src)?;

    let full = match &full_img {
        // Only worth a separate file when it differs from the feed variant.
        Some(f) if feed_img.is_some() => Some(encode(f, has_alpha, enc)?),
        None if feed_img.is_some() => Some(encode(&src, has_alpha, enc)?),
        _ => None,
    };
    let feed = encode(feed_src, has_alpha, enc)?;
    let thumb = encode(&thumb_img, has_alpha, enc)?;
    let rgba = to_rgba(&thumb_img);
    let blurhash = blurhash::encode(4, 3, thumb_img.width(), thumb_img.height(), &rgba)
        .map_err(|e| Error::internal(format!("blurhash: {e:?}")))?;
    let phash = perceptual_hash(&mut resizer, feed_src)?;
    let quality = {
        let px = feed_src.buffer();
        // The score reads RGB; an alpha channel is left out.
        let rgb: std::borrow::Cow<[u8]> = match has_alpha {
            true => px
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect(),
            false => px.into(),
        };
        let (w, h) = (feed_src.width(), feed_src.height());
        super::quality::assess(&rgb, w, h, width, height, bytes.len() as u64)
    };
    Ok(Processed {
        width,
        height,
        thumb,
        feed,
        full,
        blurhash,
        phash,
        quality,
    })
}

/// Decodes the first frame with limits and applies the EXIF orientation. Metadata is not carried
/// into the pixels, so nothing of it reaches the variants.
fn decode(bytes: &[u8], format: Format, limits: image::Limits) -> Result<DynamicImage> {
    let corrupt = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => {
            Error::ImageTooLarge(format!("decoding needs too much memory: {l}"))
        }
        other => Error::InvalidImage(format!("cannot decode the image: {other}")),
    };
    if format == Format::Avif {
        // The pixels the allocation budget allows; the header check has already held the
        // configured limits, so this is the decoder's own guard behind it.
        let max_pixels = limits.max_alloc.unwrap_or(u64::MAX) / 4;
        return super::avif::decode(bytes, max_pixels);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let orientation = decoder.orientation().map_err(corrupt)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// The size that fits `w × h` within `side × side` without upscaling.
pub fn fit(w: u32, h: u32, side: u32) -> (u32, u32) {
    let long = w.max(h);
    if long <= side {
        return (w, h);
    }
    let scale = f64::from(side) / f64::from(long);
    let sw = ((f64::from(w) * scale).round() as u32).clamp(1, side);
    let sh = ((f64::from(h) * scale).round() as u32).clamp(1, side);
    (sw, sh)
}

fn lanczos() -> ResizeOptions {
    ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
}

/// A resized copy, or `None` when the target is the source size.
fn shrink(r: &mut Resizer, src: &Image, (w, h): (u32, u32)) -> Result<Option<Image<'static>>> {
    if (w, h) == (src.width(), src.height()) {
        return Ok(None);
    }
    let mut dst = Image::new(w, h, src.pixel_type());
    r.resize(src, &mut dst, &lanczos())
        .map_err(Error::internal)?;
    Ok(Some(dst))
}

/// The centred square crop, scaled to at most [`THUMB_SIDE`].
fn square(r: &mut Resizer, src: &Image) -> Result<Image<'static>> {
    let (w, h) = (src.width(), src.height());
    let side = w.min(h);
    let out = side.min(THUMB_SIDE);
    let mut dst = Image::new(out, out, src.pixel_type());
    let opts = lanczos().crop(
        f64::from((w - side) / 2),
        f64::from((h - side) / 2),
        f64::from(side),
        f64::from(side),
    );
    r.resize(src, &mut dst, &opts).map_err(Error::internal)?;
    Ok(dst)
}

fn encode(img: &Image, has_alpha: bool, enc: Encoding) -> Result<Variant> {
    let (w, h) = (img.width(), img.height());
    let encoder = if has_alpha {
        webp::Encoder::from_rgba(img.buffer(), w, h)
    } else {
        webp::Encoder::from_rgb(img.buffer(), w, h)
    };
    let mut config =
        webp::WebPConfig::new().map_err(|()| Error::internal("libwebp config version mismatch"))?;
    config.quality = enc.quality;
    config.method = enc.method;
    let out = encoder
        .encode_advanced(&config)
        .map_err(|e| Error::internal(format!("webp encode: {e:?}")))?;
    Ok(Variant {
        webp: out.to_vec(),
        width: w,
        height: h,
    })
}

fn to_rgba(img: &Image) -> Vec<u8> {
    match img.pixel_type() {
        PixelType::U8x4 => img.buffer().to_vec(),
        _ => img
            .buffer()
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
    }
}

/// A 64-bit DCT perceptual hash (pHash): 32×32 luma, 2-D DCT, the 8×8 lowest frequencies without
/// the DC term, each bit set when its coefficient is above their median. Re-encoding and resizing
/// change few bits; different pictures differ in about half.
fn perceptual_hash(r: &mut Resizer, src: &Image) -> Result<u64> {
    const N: usize = 32;
    let rgba = to_rgba(src);
    let luma: Vec<u8> = rgba
        .chunks_exact(4)
        .map(|p| {
            ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8
        })
        .collect();
    let gray = Image::from_vec_u8(src.width(), src.height(), luma, PixelType::U8)
        .map_err(Error::internal)?;
    let mut small = Image::new(N as u32, N as u32, PixelType::U8);
    let area = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Box));
    r.resize(&gray, &mut small, &area)
        .map_err(Error::internal)?;
    let px: Vec<f64> = small.buffer().iter().map(|&v| f64::from(v)).collect();
    Ok(phash_from_pixels(&px, N))
}

/// The hash bits of an `n × n` grayscale block (exposed for tests).
pub fn phash_from_pixels(px: &[f64], n: usize) -> u64 {
    let cos: Vec<f64> = (0..8 * n)
        .map(|i| {
            let (k, x) = (i / n, i % n);
            (std::f64::consts::PI * (2 * x + 1) as f64 * k as f64 / (2 * n) as f64).cos()
        })
        .collect();
    // Only the 8×8 lowest frequencies are needed: rows first, then columns.
    let mut rows = vec![0f64; n * 8];
    for y in 0..n {
        for k in 0..8 {
            rows[y * 8 + k] = (0..n).map(|x| px[y * n + x] * cos[k * n + x]).sum();
        }
    }
    let mut coeffs = [0f64; 64];
    for v in 0..8 {
        for u in 0..8 {
            coeffs[v * 8 + u] = (0..n).map(|y| rows[y * 8 + u] * cos[v * n + y]).sum();
        }
    }
    let ac = &coeffs[1..];
    let mut sorted = ac.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    ac.iter()
        .enumerate()
        .fold(0u64, |h, (i, &c)| if c > median { h | (1 << i) } else { h })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_never_upscales_and_keeps_the_aspect() {
        assert_eq!(fit(4000, 3000, 2048), (2048, 1536));
        assert_eq!(fit(3000, 4000, 1080), (810, 1080));
        assert_eq!(fit(800, 600, 1080), (800, 600));
        assert_eq!(fit(10000, 1, 1080), (1080, 1));
    }

    #[test]
    fn perceptual_hashes_separate_different_pictures() {
        let n = 32;
        let gradient: Vec<f64> = (0..n * n)
            .map(|i| {
                let (x, y) = ((i % n) as f64, (i / n) as f64);
                128.0 + 60.0 * (x / 5.0).sin() * (y / 7.0).cos() + 30.0 * ((x + y) / 9.0).cos()
            })
            .collect();
        let brighter: Vec<f64> = gradient.iter().map(|v| v * 0.9 + 10.0).collect();
        let checks: Vec<f64> = (0..n * n)
            .map(|i| {
                if ((i / n) / 4 + (i % n) / 4) % 2 == 0 {
                    255.0
                } else {
                    0.0
                }
            })
            .collect();
        let (a, b, c) = (
            phash_from_pixels(&gradient, n),
            phash_from_pixels(&brighter, n),
            phash_from_pixels(&checks, n),
        );
        assert!((a ^ b).count_ones() <= 4, "{:064b} vs {:064b}", a, b);
        assert!((a ^ c).count_ones() >= 16, "{:064b} vs {:064b}", a, c);
    }
}
