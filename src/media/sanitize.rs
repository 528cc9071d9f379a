//! A metadata-free copy of the original, made losslessly by dropping container segments: EXIF
//! (GPS, camera), XMP, IPTC, comments and text chunks never leave the server, not even in the
//! `original` download. Pixels and colour profiles are kept byte for byte. A JPEG's orientation is
//! kept as a minimal EXIF block holding nothing else, so the original still displays upright.
//! An AVIF keeps its boxes and offsets; its Exif and XMP items are zeroed where they lie.

use image::metadata::Orientation;

use super::sniff::Format;
use crate::error::{Error, Result};

/// The input without its metadata; a structure that cannot be walked is an invalid image.
pub fn strip_metadata(bytes: &[u8], format: Format) -> Result<Vec<u8>> {
    let stripped = match format {
        Format::Jpeg => jpeg(bytes),
        Format::Png => png(bytes),
        Format::Webp => webp(bytes),
        Format::Gif => gif(bytes),
        Format::Avif => super::avif::strip_metadata(bytes),
    };
    stripped.ok_or_else(|| {
        Error::InvalidImage(format!(
            "truncated or malformed {} structure",
            format.content_type()
        ))
    })
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// Keeps APP0 (JFIF), APP2 `ICC_PROFILE`, APP14 `Adobe` and every non-APP, non-comment segment;
/// everything from the first SOS on is copied as is.
fn jpeg(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b.get(..2)?);
    let mut orientation = None;
    let mut pos = 2;
    loop {
        if *b.get(pos)? != 0xFF {
            return None;
        }
        let marker = *b.get(pos + 1)?;
        match marker {
            // Fill bytes between segments.
            0xFF => {
                pos += 1;
                continue;
            }
            // Start of scan: the rest is entropy-coded data and later segments we keep as is.
            0xDA => {
                // Entropy-coded data never holds FF D9 (its FF bytes are stuffed), so a file
                // without an end-of-image marker after the scan was cut short.
                if !b[pos..].windows(2).any(|w| w == [0xFF, 0xD9]) {
                    return None;
                }
                if let Some(o) = orientation.filter(|o| *o != Orientation::NoTransforms) {
                    insert_orientation(&mut out, o);
                }
                out.extend_from_slice(&b[pos..]);
                return Some(out);
            }
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&b[pos..pos + 2]);
                pos += 2;
                continue;
            }
            _ => {}
        }
        let len = be16(b, pos + 2)?;
        let seg = b.get(pos..pos + 2 + len)?;
        let payload = &seg[4..];
        let keep = match marker {
            0xE0 => true,
            0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
            0xEE => payload.starts_with(b"Adobe"),
            0xE1 => {
                if let Some(tiff) = payload.strip_prefix(b"Exif\0\0") {
                    orientation = orientation.or_else(|| Orientation::from_exif_chunk(tiff));
                }
                false
            }
            0xE3..=0xEF | 0xFE => false,
            _ => true,
        };
        if keep {
            out.extend_from_slice(seg);
        }
        pos += 2 + len;
    }
}

/// Inserts `APP1 Exif` holding only the orientation, after SOI and any APP0.
fn insert_orientation(out: &mut Vec<u8>, o: Orientation) {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0*\0\0\0\x08");
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&[0, o.to_exif(), 0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&tiff);
    let mut at = 2;
    if out.get(2..4) == Some(&[0xFF, 0xE0])
        && let Some(len) = be16(out, 4)
    {
        at = 4 + len;
    }
    out.splice(at..at, seg);
}

/// Drops the text, time and EXIF chunks; every other chunk is copied with its CRC.
fn png(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b.get(..8)?);
    let mut pos = 8;
    while pos < b.len() {
        let len = u32::from_be_bytes(b.get(pos..pos + 4)?.try_into().ok()?) as usize;
        let kind = b.get(pos + 4..pos + 8)?;
        let chunk = b.get(pos..pos + 12 + len)?;
        if !matches!(kind, b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME") {
            out.extend_from_slice(chunk);
        }
        pos += 12 + len;
        if kind == b"IEND" {
            break;
        }
    }
    Some(out)
}

/// Drops `EXIF` and `XMP ` chunks, clears their flags in `VP8X`, and fixes the RIFF size.
fn webp(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(b.get(..12)?);
    let mut pos = 12;
    while pos + 8 <= b.len() {
        let kind = &b[pos..pos + 4];
        let len = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().ok()?) as usize;
        let padded = len + (len & 1);
        let chunk = b.get(pos..(pos + 8 + padded).min(b.len()))?;
        match kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let mut c = chunk.to_vec();
                if let Some(flags) = c.get_mut(8) {
                    *flags &= !(0x08 | 0x04);
                }
                out.extend_from_slice(&c);
            }
            _ => out.extend_from_slice(chunk),
        }
        pos += 8 + padded;
    }
    let riff = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    Some(out)
}

/// Drops comment extensions and application extensions other than the looping ones (XMP hides
/// in an application extension).
fn gif(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    let packed = *b.get(10)?;
    let mut pos = 13;
    if packed & 0x80 != 0 {
        pos += 3 << ((packed & 0x07) + 1);
    }
    out.extend_from_slice(b.get(..pos)?);
    let sub_blocks_end = |mut p: usize| -> Option<usize> {
        loop {
            let n = usize::from(*b.get(p)?);
            p += 1 + n;
            if n == 0 {
                return Some(p);
            }
        }
    };
    loop {
        match *b.get(pos)? {
            0x3B => {
                out.push(0x3B);
                return Some(out);
            }
            0x21 => {
                let label = *b.get(pos + 1)?;
                let end = sub_blocks_end(pos + 2)?;
                let keep = match label {
                    0xFE => false,
                    0xFF => {
                        let app = b.get(pos + 3..pos + 14)?;
                        app == b"NETSCAPE2.0" || app == b"ANIMEXTS1.0"
                    }
                    _ => true,
                };
                if keep {
                    out.extend_from_slice(b.get(pos..end)?);
                }
                pos = end;
            }
            0x2C => {
                let packed = *b.get(pos + 9)?;
                let mut data = pos + 10;
                if packed & 0x80 != 0 {
                    data += 3 << ((packed & 0x07) + 1);
                }
                let end = sub_blocks_end(data + 1)?;
                out.extend_from_slice(b.get(pos..end)?);
                pos = end;
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 16, y as u8 * 30, 90]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn png_text_chunks_go_and_the_pixels_stay() {
        let png = encoded(image::ImageFormat::Png);
        // Insert a tEXt chunk after IHDR (8 + 25 bytes).
        let mut with_text = png[..33].to_vec();
        let data = b"GPS\0SECRET";
        with_text.extend_from_slice(&(data.len() as u32).to_be_bytes());
        with_text.extend_from_slice(b"tEXt");
        with_text.extend_from_slice(data);
        with_text.extend_from_slice(&[0, 0, 0, 0]);
        with_text.extend_from_slice(&png[33..]);
        let clean = strip_metadata(&with_text, Format::Png).unwrap();
        assert!(!contains(&clean, b"SECRET"));
        assert_eq!(clean, png);
    }

    #[test]
    fn jpeg_comments_and_exif_go_but_orientation_stays() {
        let jpeg = encoded(image::ImageFormat::Jpeg);
        let mut marked = jpeg[..2].to_vec();
        marked.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x08]);
        marked.extend_from_slice(b"SECRET");
        marked.extend_from_slice(&jpeg[2..]);
        let clean = strip_metadata(&marked, Format::Jpeg).unwrap();
        assert!(!contains(&clean, b"SECRET"));
        let mut rotated = jpeg[..2].to_vec();
        let mut out = rotated.clone();
        insert_orientation(&mut out, Orientation::Rotate90);
        rotated = [out, b"\xFF\xFE\x00\x08SECRET".to_vec(), jpeg[2..].to_vec()].concat();
        let clean = strip_metadata(&rotated, Format::Jpeg).unwrap();
        assert!(!contains(&clean, b"SECRET"));
        let mut decoder =
            image::ImageReader::with_format(Cursor::new(&clean), image::ImageFormat::Jpeg)
                .into_decoder()
                .unwrap();
        use image::ImageDecoder;
        assert_eq!(decoder.orientation().unwrap(), Orientation::Rotate90);
    }

    #[test]
    fn truncated_structures_are_invalid_images() {
        let png = encoded(image::ImageFormat::Png);
        assert!(strip_metadata(&png[..20], Format::Png).is_err());
        let jpeg = encoded(image::ImageFormat::Jpeg);
        assert!(strip_metadata(&jpeg[..30], Format::Jpeg).is_err());
        assert!(strip_metadata(b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x99", Format::Gif).is_err());
    }
}
