//! Identifying an upload by its bytes, never by its name or declared type, and reading what can be
//! known before decoding: the format, the dimensions and the number of animation frames.

use std::io::Cursor;

use image::{ImageFormat, ImageReader};

use crate::error::{Error, Result};

/// The formats we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    Webp,
    Avif,
}

pub const ACCEPTED: &str = "JPEG, PNG, WebP, GIF and AVIF";

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::Avif => "image/avif",
        }
    }

    pub fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Gif => ImageFormat::Gif,
            Format::Webp => ImageFormat::WebP,
            Format::Avif => ImageFormat::Avif,
        }
    }
}

/// The format named by the magic bytes; anything else is a 415 that says what was found.
pub fn sniff(bytes: &[u8]) -> Result<Format> {
    let unsupported = |what: &str| {
        Err(Error::UnsupportedMediaType(format!(
            "{what} is not accepted; send {ACCEPTED}"
        )))
    };
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Ok(Format::Jpeg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Ok(Format::Png),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Ok(Format::Gif),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Ok(Format::Webp),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] if is_avif(bytes) => Ok(Format::Avif),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => unsupported("HEIF/ISO media other than AVIF"),
        [] => Err(Error::InvalidImage("the image is empty".into())),
        b if looks_like_text(b) => unsupported("text (SVG, HTML or other markup)"),
        _ => unsupported("this file type"),
    }
}

/// An ISO media file whose `ftyp` names AVIF as its major or a compatible brand.
fn is_avif(b: &[u8]) -> bool {
    let size = b
        .get(..4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize);
    let ftyp = b.get(8..size.min(b.len())).unwrap_or_default();
    // The major brand, the minor version (skipped), then the compatible brands.
    let brands = ftyp.chunks_exact(4).enumerate().filter(|(i, _)| *i != 1);
    brands
        .map(|(_, brand)| brand)
        .any(|brand| brand == b"avif" || brand == b"avis")
}

fn looks_like_text(b: &[u8]) -> bool {
    let head = &b[..b.len().min(512)];
    std::str::from_utf8(head).is_ok_and(|s| s.trim_start().starts_with('<') || !s.contains('\0'))
}

/// Width and height from the header alone; nothing is allocated for the pixels.
pub fn dimensions(bytes: &[u8], format: Format) -> Result<(u32, u32)> {
    if format == Format::Avif {
        return super::avif::dimensions(bytes);
    }
    ImageReader::with_format(Cursor::new(bytes), format.image_format())
        .into_dimensions()
        .map_err(|e| {
            Error::InvalidImage(format!("unreadable {} header: {e}", format.content_type()))
        })
}

/// Frames in an animation, counted by walking the container without decoding any pixels.
/// Still images count 1.
pub fn frame_count(bytes: &[u8], format: Format) -> Result<u32> {
    match format {
        Format::Gif => gif_frames(bytes),
        Format::Webp => Ok(webp_frames(bytes)),
        // A still AVIF; image sequences are refused when decoded.
        Format::Jpeg | Format::Png | Format::Avif => Ok(1),
    }
}

fn truncated() -> Error {
    Error::InvalidImage("the GIF is truncated".into())
}

/// Walks GIF blocks: header, optional global colour table, then extensions and image descriptors.
fn gif_frames(b: &[u8]) -> Result<u32> {
    let byte = |i: usize| b.get(i).copied().ok_or_else(truncated);
    let mut pos = 13usize;
    let packed = byte(10)?;
    if packed & 0x80 != 0 {
        pos += 3 << ((packed & 0x07) + 1);
    }
    let skip_sub_blocks = |mut pos: usize| -> Result<usize> {
        loop {
            let len = usize::from(byte(pos)?);
            pos += 1;
            if len == 0 {
                return Ok(pos);
            }
            pos += len;
        }
    };
    let mut frames = 0u32;
    loop {
        match byte(pos)? {
            0x3B => return Ok(frames.max(1)),
            0x21 => pos = skip_sub_blocks(pos + 2)?,
            0x2C => {
                frames += 1;
                let packed = byte(pos + 9)?;
                pos += 10;
                if packed & 0x80 != 0 {
                    pos += 3 << ((packed & 0x07) + 1);
                }
                pos = skip_sub_blocks(pos + 1)?;
            }
            // Trailing garbage after the last frame: what was counted stands.
            _ if frames > 0 => return Ok(frames),
            _ => return Err(Error::InvalidImage("the GIF has no image".into())),
        }
    }
}

/// Counts `ANMF` chunks of an animated WebP (0 chunks means a still image).
fn webp_frames(b: &[u8]) -> u32 {
    let mut pos = 12usize;
    let mut frames = 0u32;
    while let Some(header) = b.get(pos..pos + 8) {
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if &header[..4] == b"ANMF" {
            frames += 1;
        }
        pos = pos.saturating_add(8).saturating_add(len + (len & 1));
    }
    frames.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_known_by_their_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest").unwrap(), Format::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").unwrap(), Format::Png);
        assert_eq!(sniff(b"GIF89a...").unwrap(), Format::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap(), Format::Webp);
        for bad in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'/>"[..],
            b"<!doctype html><script>alert(1)</script>",
            b"just some text",
            b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
            b"%PDF-1.7",
            b"\x00\x01\x02\x03\x04",
        ] {
            let e = sniff(bad).unwrap_err();
            assert_eq!(e.code(), "UNSUPPORTED_MEDIA_TYPE", "{bad:?}");
        }
        // AVIF by its major brand, or as a compatible brand of another.
        assert_eq!(
            sniff(b"\0\0\0\x14ftypavif\0\0\0\0mif1").unwrap(),
            Format::Avif
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0miafavif").unwrap(),
            Format::Avif
        );
        // A brand past the box's end does not count.
        assert!(sniff(b"\0\0\0\x10ftypmif1\0\0\0\0avif").is_err());
    }

    #[test]
    fn gif_frames_are_counted_without_decoding() {
        let mut gif = Vec::new();
        {
            let mut enc = image::codecs::gif::GifEncoder::new(&mut gif);
            for i in 0..3u8 {
                let px = image::Rgba([i * 80, 0, 0, 255]);
                enc.encode_frame(image::Frame::new(image::RgbaImage::from_pixel(2, 2, px)))
                    .unwrap();
            }
        }
        assert_eq!(frame_count(&gif, Format::Gif).unwrap(), 3);
        assert!(frame_count(&gif[..20], Format::Gif).is_err());
    }
}
