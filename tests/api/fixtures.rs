//! Images made by the tests themselves, and a loopback HTTP server that serves them.

use std::io::Cursor;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine;
use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// A seed-dependent scene of overlapping coloured rectangles on a gradient: structure at many
/// scales, like a photo, so perceptual hashes behave as they do on real pictures.
pub fn picture(w: u32, h: u32, seed: u32) -> RgbImage {
    let mut state = u64::from(seed.wrapping_mul(2_654_435_761).wrapping_add(12_345)) | 1;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32
    };
    let shapes: Vec<(f32, f32, f32, f32, [u8; 3])> = (0..24)
        .map(|_| {
            let c = [
                (rnd() * 255.0) as u8,
                (rnd() * 255.0) as u8,
                (rnd() * 255.0) as u8,
            ];
            (rnd(), rnd(), rnd() * 0.4 + 0.05, rnd() * 0.4 + 0.05, c)
        })
        .collect();
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let mut px = [(fx * 120.0) as u8, (fy * 120.0) as u8, 90];
        for (cx, cy, rw, rh, c) in &shapes {
            if (fx - cx).abs() < rw / 2.0 && (fy - cy).abs() < rh / 2.0 {
                px = *c;
            }
        }
        Rgb(px)
    })
}

pub fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode fixture");
    out.into_inner()
}

pub fn png(w: u32, h: u32, seed: u32) -> Vec<u8> {
    encode(&picture(w, h, seed), ImageFormat::Png)
}

pub fn jpeg(w: u32, h: u32, seed: u32) -> Vec<u8> {
    encode(&picture(w, h, seed), ImageFormat::Jpeg)
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A PNG with an alpha channel.
pub fn transparent_png(w: u32, h: u32) -> Vec<u8> {
    let img = RgbaImage::from_fn(w, h, |x, _| Rgba([200, 50, 50, (x * 255 / w.max(1)) as u8]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).expect("encode");
    out.into_inner()
}

/// A JPEG whose left half is red and right half blue, carrying an EXIF APP1 segment with
/// Orientation = 6 (display rotated 90° clockwise), a camera model and GPS coordinates.
pub fn jpeg_with_exif(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([230, 20, 20])
        } else {
            Rgb([20, 20, 230])
        }
    });
    let plain = encode(&img, ImageFormat::Jpeg);
    let exif = exif_segment();
    let mut out = Vec::with_capacity(plain.len() + exif.len());
    out.extend_from_slice(&plain[..2]); // SOI
    out.extend_from_slice(&exif);
    out.extend_from_slice(&plain[2..]);
    out
}

/// Marker strings a leak of the metadata would carry.
pub const GPS_MARKER: &[u8] = b"SECRET-GPS-PLACE";
pub const CAMERA_MARKER: &[u8] = b"SpyCam 3000";

fn exif_segment() -> Vec<u8> {
    // Little-endian TIFF: IFD0 {Orientation, Model, GPSInfo}, GPS IFD {GPSLatitudeRef, GPSAreaInformation}.
    let mut t: Vec<u8> = Vec::new();
    t.extend_from_slice(b"II*\0");
    t.extend_from_slice(&8u32.to_le_bytes());
    let ifd0_entries = 3u16;
    let ifd0_len = 2 + 12 * u32::from(ifd0_entries) + 4;
    let model_off = 8 + ifd0_len;
    let model = [CAMERA_MARKER, b"\0"].concat();
    let gps_off = model_off + model.len() as u32;
    let gps_entries = 2u16;
    let gps_len = 2 + 12 * u32::from(gps_entries) + 4;
    let area_off = gps_off + gps_len;
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&typ.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    t.extend_from_slice(&ifd0_entries.to_le_bytes());
    entry(&mut t, 0x0110, 2, model.len() as u32, model_off); // Model
    entry(&mut t, 0x0112, 3, 1, 6); // Orientation = 6
    entry(&mut t, 0x8825, 4, 1, gps_off); // GPSInfo
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&model);
    t.extend_from_slice(&gps_entries.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from_le_bytes(*b"N\0\0\0")); // GPSLatitudeRef
    entry(&mut t, 0x001C, 7, GPS_MARKER.len() as u32, area_off); // GPSAreaInformation
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(GPS_MARKER);
    let mut seg = vec![0xFF, 0xE1];
    let len = (2 + 6 + t.len()) as u16;
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&t);
    seg
}

/// A PNG whose header declares `w × h` but that carries almost no data: a decompression bomb.
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let real = png(1, 1, 0);
    // IHDR data starts at byte 16: width, height (big-endian); its CRC follows at 29.
    let mut out = real.clone();
    out[16..20].copy_from_slice(&w.to_be_bytes());
    out[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&out[12..29]);
    out[29..33].copy_from_slice(&crc.to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// What a route of the image server answers.
#[derive(Clone)]
pub enum Serve {
    Bytes(&'static str, Vec<u8>),
    /// Bytes after a delay, to keep a request in flight; the `Notify` says it has begun.
    Slow(Duration, Vec<u8>, std::sync::Arc<tokio::sync::Notify>),
    Redirect(String),
    Status(u16),
}

/// A loopback HTTP server for fetch tests; it stops when the test's runtime ends.
#[expect(
    clippy::disallowed_methods,
    reason = "an image host the test runs, not the API"
)]
pub async fn image_server(ip: [u8; 4], routes: Vec<(&'static str, Serve)>) -> String {
    let mut app = Router::new();
    for (path, what) in routes {
        app = app.route(
            path,
            get(move || {
                let what = what.clone();
                async move {
                    match what {
                        Serve::Bytes(ct, b) => ([(header::CONTENT_TYPE, ct)], b).into_response(),
                        Serve::Redirect(to) => {
                            (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
                        }
                        Serve::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
                        Serve::Slow(d, b, started) => {
                            started.notify_one();
                            tokio::time::sleep(d).await;
                            ([(header::CONTENT_TYPE, "image/png")], b).into_response()
                        }
                    }
                }
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((ip, 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
