//! AVIF intake in pure Rust, so a fresh machine needs only cargo: avif-parse reads the HEIF
//! container, rav1d decodes the AV1 frames, and yuv turns YUV into RGB. The result is 8-bit RGB
//! or RGBA, which is all the variants are made of.

mod av1;
mod container;

use image::{DynamicImage, RgbImage, RgbaImage};
use rav1d::include::dav1d::headers::{
    DAV1D_MC_BT470BG, DAV1D_MC_BT601, DAV1D_MC_BT709, DAV1D_MC_BT2020_CL, DAV1D_MC_BT2020_NCL,
    DAV1D_MC_FCC, DAV1D_MC_IDENTITY, DAV1D_MC_SMPTE240, DAV1D_MC_UNKNOWN,
};
use yuv::{YuvPlanarImage, YuvRange, YuvStandardMatrix};

use self::av1::{Decoder, Layout, Picture, Plane};
use self::container::Transform;
use crate::error::{Error, Result};

/// Item extents a still image needs are few (one for the colour, one for alpha, a handful for
/// metadata); thousands are a file made to exhaust a parser.
const MAX_EXTENTS: u64 = 1024;

fn parse(bytes: &[u8]) -> Result<avif_parse::AvifData> {
    if container::extent_count(bytes).is_some_and(|n| n > MAX_EXTENTS) {
        return Err(Error::InvalidImage(format!(
            "the AVIF declares more than {MAX_EXTENTS} item extents"
        )));
    }
    avif_parse::read_avif(&mut &bytes[..]).map_err(|e| match e {
        // Grids (collages of tiles) and image sequences are valid files we cannot take.
        avif_parse::Error::Unsupported(what) => {
            Error::UnsupportedMediaType(format!("this AVIF is not accepted: {what}"))
        }
        avif_parse::Error::OutOfMemory => Error::ImageTooLarge("the AVIF is too large".into()),
        other => Error::InvalidImage(format!("cannot read the AVIF container: {other}")),
    })
}

/// Width and height before any rotation, from the AV1 sequence header's largest frame size: no
/// frame of the file can be larger, so the limits hold before any pixel is decoded.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32)> {
    let meta = parse(bytes)?
        .primary_item_metadata()
        .map_err(|e| Error::InvalidImage(format!("unreadable AV1 sequence header: {e}")))?;
    Ok((meta.max_frame_width.get(), meta.max_frame_height.get()))
}

/// The file with its Exif and XMP items blanked (zeroed where they lie): every offset in the
/// file stays valid, and the pixels and colour information are kept byte for byte.
pub fn strip_metadata(bytes: &[u8]) -> Option<Vec<u8>> {
    let found = container::walk(bytes)?;
    let mut out = bytes.to_vec();
    for r in found.metadata {
        out.get_mut(r)?.fill(0);
    }
    Some(out)
}

/// Decodes the primary image with its alpha, and applies its rotation and mirroring.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage> {
    let avif = parse(bytes)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut decoder = Decoder::new(max_pixels, threads)?;
    let alpha = avif.alpha_item.is_some();
    let color = decoder.decode(&avif.primary_item)?;
    let mut rgba = to_rgb(&color, alpha)?;
    drop(color);
    if let (Some(item), DynamicImage::ImageRgba8(img)) = (&avif.alpha_item, &mut rgba) {
        let a = decoder.decode(item)?;
        write_alpha(img, &a, avif.premultiplied_alpha)?;
    }
    let transforms = container::walk(bytes)
        .map(|c| c.transforms)
        .unwrap_or_default();
    for t in transforms {
        rgba = match t {
            Transform::Rotate(1) => rgba.rotate270(),
            Transform::Rotate(2) => rgba.rotate180(),
            Transform::Rotate(_) => rgba.rotate90(),
            Transform::MirrorLeftRight => rgba.fliph(),
            Transform::MirrorTopBottom => rgba.flipv(),
        };
    }
    Ok(rgba)
}

/// How a picture's samples become RGB.
#[derive(Clone, Copy)]
enum Matrix {
    /// The planes are G, B and R.
    Identity,
    YCbCr(YuvStandardMatrix),
}

fn matrix(pic: &Picture) -> Result<(Matrix, YuvRange)> {
    // No colour information: libavif's and the browsers' default, BT.601, full range.
    let (mc, full) = pic.colour().unwrap_or((DAV1D_MC_BT601, true));
    let range = if full {
        YuvRange::Full
    } else {
        YuvRange::Limited
    };
    let m = match mc {
        DAV1D_MC_IDENTITY => Matrix::Identity,
        DAV1D_MC_BT709 => Matrix::YCbCr(YuvStandardMatrix::Bt709),
        DAV1D_MC_FCC => Matrix::YCbCr(YuvStandardMatrix::Fcc),
        // BT.470 B/G and unspecified use the BT.601 matrix (ITU-T H.273 table 4).
        DAV1D_MC_BT470BG | DAV1D_MC_BT601 | DAV1D_MC_UNKNOWN => {
            Matrix::YCbCr(YuvStandardMatrix::Bt601)
        }
        DAV1D_MC_SMPTE240 => Matrix::YCbCr(YuvStandardMatrix::Smpte240),
        DAV1D_MC_BT2020_NCL | DAV1D_MC_BT2020_CL => Matrix::YCbCr(YuvStandardMatrix::Bt2020),
        other => {
            return Err(Error::UnsupportedMediaType(format!(
                "this AVIF's colour matrix ({other}, ITU-T H.273) is not accepted; use BT.601, BT.709 or BT.2020"
            )));
        }
    };
    Ok((m, range))
}

fn yuv_failed(e: yuv::YuvError) -> Error {
    Error::InvalidImage(format!("cannot convert the AVIF's colours: {e}"))
}

/// The colour picture as 8-bit RGB, or RGBA with opaque alpha when an alpha plane follows.
fn to_rgb(pic: &Picture, alpha: bool) -> Result<DynamicImage> {
    let (w, h) = (pic.width(), pic.height());
    let channels = if alpha { 4 } else { 3 };
    let mut out = vec![0u8; w * h * channels];
    let layout = pic.layout()?;
    let depth = pic.depth();
    if layout == Layout::I400 {
        // Luma only: grey, expanded from its range.
        let full = pic.colour().is_none_or(|(_, full)| full);
        if depth == 8 {
            grey(&pic.plane::<u8>(0)?, &mut out, channels, |v| {
                expand(v.into(), 8, full)
            });
        } else {
            grey(&pic.plane::<u16>(0)?, &mut out, channels, |v| {
                expand(v, depth, full)
            });
        }
    } else {
        let (m, range) = matrix(pic)?;
        let stride = (w * channels) as u32;
        if depth == 8 {
            let img = planar::<u8>(pic)?;
            convert8(&img, &mut out, stride, layout, m, range, alpha)?;
        } else {
            let img = planar::<u16>(pic)?;
            let mut wide = vec![0u16; w * h * channels];
            convert16(&img, &mut wide, stride, layout, depth, m, range, alpha)?;
            let max = (1u32 << depth) - 1;
            for (o, v) in out.iter_mut().zip(wide) {
                *o = ((u32::from(v).min(max) * 255 + max / 2) / max) as u8;
            }
        }
    }
    let (w, h) = (w as u32, h as u32);
    let img = if alpha {
        RgbaImage::from_raw(w, h, out).map(DynamicImage::ImageRgba8)
    } else {
        RgbImage::from_raw(w, h, out).map(DynamicImage::ImageRgb8)
    };
    img.ok_or_else(|| Error::internal("AVIF buffer size"))
}

fn planar<'a, T: Copy + std::fmt::Debug>(pic: &'a Picture) -> Result<YuvPlanarImage<'a, T>> {
    let (y, u, v): (Plane<T>, Plane<T>, Plane<T>) = (pic.plane(0)?, pic.plane(1)?, pic.plane(2)?);
    Ok(YuvPlanarImage {
        y_plane: y.samples,
        y_stride: y.stride as u32,
        u_plane: u.samples,
        u_stride: u.stride as u32,
        v_plane: v.samples,
        v_stride: v.stride as u32,
        width: y.width as u32,
        height: y.height as u32,
    })
}

/// A luma sample of `depth` bits as 8 bits, from the limited (16–235) or the full range.
fn expand(v: u16, depth: u32, full: bool) -> u8 {
    let (min, span) = if full {
        (0, (1u32 << depth) - 1)
    } else {
        (16 << (depth - 8), 219 << (depth - 8))
    };
    let v = u32::from(v).saturating_sub(min).min(span);
    ((v * 255 + span / 2) / span) as u8
}

fn grey<T: Copy>(y: &Plane<T>, out: &mut [u8], channels: usize, to8: impl Fn(T) -> u8) {
    for (row, out) in y
        .samples
        .chunks(y.stride)
        .zip(out.chunks_mut(y.width * channels))
    {
        for (&v, px) in row.iter().zip(out.chunks_mut(channels)) {
            let g = to8(v);
            px[..3].fill(g);
            if channels == 4 {
                px[3] = 255;
            }
        }
    }
}

type Conv<T> =
    fn(&YuvPlanarImage<T>, &mut [T], u32, YuvRange, YuvStandardMatrix) -> Result<(), yuv::YuvError>;

fn convert8(
    img: &YuvPlanarImage<u8>,
    out: &mut [u8],
    stride: u32,
    layout: Layout,
    m: Matrix,
    range: YuvRange,
    alpha: bool,
) -> Result<()> {
    use Layout::*;
    let f: Conv<u8> = match (m, layout, alpha) {
        (Matrix::Identity, I444, false) => |i, o, s, r, _| yuv::gbr_to_rgb(i, o, s, r),
        (Matrix::Identity, I444, true) => |i, o, s, r, _| yuv::gbr_to_rgba(i, o, s, r),
        (Matrix::Identity, ..) => return Err(identity_subsampled()),
        (_, I420, false) => yuv::yuv420_to_rgb,
        (_, I420, true) => yuv::yuv420_to_rgba,
        (_, I422, false) => yuv::yuv422_to_rgb,
        (_, I422, true) => yuv::yuv422_to_rgba,
        (_, I444, false) => yuv::yuv444_to_rgb,
        (_, I444, true) => yuv::yuv444_to_rgba,
        (_, I400, _) => return Err(Error::internal("monochrome in a colour conversion")),
    };
    let m = match m {
        Matrix::YCbCr(m) => m,
        Matrix::Identity => YuvStandardMatrix::Bt601,
    };
    f(img, out, stride, range, m).map_err(yuv_failed)
}

#[allow(clippy::too_many_arguments)]
fn convert16(
    img: &YuvPlanarImage<u16>,
    out: &mut [u16],
    stride: u32,
    layout: Layout,
    depth: u32,
    m: Matrix,
    range: YuvRange,
    alpha: bool,
) -> Result<()> {
    use Layout::*;
    let f: Conv<u16> = match (m, layout, depth, alpha) {
        (Matrix::Identity, I444, 10, false) => |i, o, s, r, _| yuv::gb10_to_rgb10(i, o, s, r),
        (Matrix::Identity, I444, 10, true) => |i, o, s, r, _| yuv::gb10_to_rgba10(i, o, s, r),
        (Matrix::Identity, I444, 12, false) => |i, o, s, r, _| yuv::gb12_to_rgb12(i, o, s, r),
        (Matrix::Identity, I444, 12, true) => |i, o, s, r, _| yuv::gb12_to_rgba12(i, o, s, r),
        (Matrix::Identity, I444, ..) => return Err(odd_depth(depth)),
        (Matrix::Identity, ..) => return Err(identity_subsampled()),
        (_, I420, 10, false) => yuv::i010_to_rgb10,
        (_, I420, 10, true) => yuv::i010_to_rgba10,
        (_, I420, 12, false) => yuv::i012_to_rgb12,
        (_, I420, 12, true) => yuv::i012_to_rgba12,
        (_, I422, 10, false) => yuv::i210_to_rgb10,
        (_, I422, 10, true) => yuv::i210_to_rgba10,
        (_, I422, 12, false) => yuv::i212_to_rgb12,
        (_, I422, 12, true) => yuv::i212_to_rgba12,
        (_, I444, 10, false) => yuv::i410_to_rgb10,
        (_, I444, 10, true) => yuv::i410_to_rgba10,
        (_, I444, 12, false) => yuv::i412_to_rgb12,
        (_, I444, 12, true) => yuv::i412_to_rgba12,
        (_, I400, ..) => return Err(Error::internal("monochrome in a colour conversion")),
        _ => return Err(odd_depth(depth)),
    };
    let m = match m {
        Matrix::YCbCr(m) => m,
        Matrix::Identity => YuvStandardMatrix::Bt601,
    };
    f(img, out, stride, range, m).map_err(yuv_failed)
}

fn identity_subsampled() -> Error {
    Error::InvalidImage("an AVIF with the identity matrix cannot subsample chroma".into())
}

fn odd_depth(depth: u32) -> Error {
    Error::InvalidImage(format!("AV1 samples of {depth} bits"))
}

/// Fills the alpha channel from the alpha item's luma, and undoes premultiplication.
fn write_alpha(img: &mut RgbaImage, a: &Picture, premultiplied: bool) -> Result<()> {
    if (a.width(), a.height()) != (img.width() as usize, img.height() as usize) {
        return Err(Error::InvalidImage(
            "the AVIF's alpha plane is not the size of its picture".into(),
        ));
    }
    let full = a.colour().is_none_or(|(_, full)| full);
    let depth = a.depth();
    let width = img.width() as usize;
    let rows = img.chunks_mut(width * 4);
    if depth == 8 {
        let p = a.plane::<u8>(0)?;
        fill_alpha(rows, &p, |v| expand(v.into(), 8, full), premultiplied);
    } else {
        let p = a.plane::<u16>(0)?;
        fill_alpha(rows, &p, |v| expand(v, depth, full), premultiplied);
    }
    Ok(())
}

fn fill_alpha<'a, T: Copy>(
    rows: impl Iterator<Item = &'a mut [u8]>,
    a: &Plane<T>,
    to8: impl Fn(T) -> u8,
    premultiplied: bool,
) {
    for (out, src) in rows.zip(a.samples.chunks(a.stride)) {
        for (px, &v) in out.chunks_mut(4).zip(src) {
            let alpha = to8(v);
            px[3] = alpha;
            if premultiplied && alpha != 0 && alpha != 255 {
                for c in &mut px[..3] {
                    *c = (u16::from(*c) * 255 / u16::from(alpha)).min(255) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::container::tests::boxed;
    use super::*;

    #[test]
    fn luma_ranges_expand_to_full_bytes() {
        assert_eq!(expand(16, 8, false), 0);
        assert_eq!(expand(235, 8, false), 255);
        assert_eq!(expand(0, 8, false), 0);
        assert_eq!(expand(250, 8, false), 255);
        assert_eq!(expand(128, 8, true), 128);
        assert_eq!(expand(1023, 10, true), 255);
        assert_eq!(expand(64, 10, false), 0);
        assert_eq!(expand(940, 10, false), 255);
        assert_eq!(expand(2048, 12, true), 128);
    }

    #[test]
    fn a_file_declaring_thousands_of_empty_extents_is_refused_before_parsing() {
        // iloc v1, zero-size offsets and lengths: 2000 extents in 14 bytes of item.
        let mut iloc = vec![1, 0, 0, 0, 0x00, 0x00, 0, 1];
        iloc.extend_from_slice(&[0, 1, 0, 0, 0, 0]);
        iloc.extend_from_slice(&2000u16.to_be_bytes());
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(boxed(b"iloc", &iloc));
        let mut file = boxed(b"ftyp", b"avif\0\0\0\0mif1");
        file.extend(boxed(b"meta", &meta));
        assert_eq!(container::extent_count(&file), Some(2000));
        let e = dimensions(&file).unwrap_err().to_string();
        assert!(e.contains("item extents"), "{e}");
    }

    #[test]
    fn files_that_are_not_avif_are_refused_without_panicking() {
        for bad in [
            &b""[..],
            b"\0\0\0\x1cftypavif\0\0\0\0avifmif1",
            b"\0\0\0\x10ftypavif\0\0\0\0\xff\xff\xff\xffmeta",
        ] {
            assert!(dimensions(bad).is_err());
            assert!(decode(bad, 1 << 20).is_err());
            assert!(strip_metadata(bad).is_none());
        }
    }
}
