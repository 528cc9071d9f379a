//! The whole image pipeline (sniff, strip metadata, hash, decode, three WebP variants, blurhash,
//! perceptual hash) against libvips' `vipsthumbnail` making the same three WebP files, in CPU time
//! per image, side by side in one run.
//!
//! Run: `cargo bench --bench image_pipeline` (needs `vipsthumbnail`: Debian `libvips-tools`, and
//! `avifenc`: `libavif-bin`). Fixtures are generated: a 4000×3000 photo-like JPEG, a 1024×1024 PNG
//! (a typical AI image), and both as AVIF (libavif's encoder, speed 6). CPU time of every thread
//! is the unit (vips runs with `--vips-concurrency=1`; the AV1 decoders may use more threads, and
//! their time counts); the medians and their ratio are printed at the end.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use aistagram::media::process::{self, Encoding};
use aistagram::media::{sanitize, sniff};
use aistagram::store::MediaHash;
use std::hint::black_box;

use criterion::Criterion;

/// CPU time (user + system) of this thread, or of all reaped children.
fn cpu(who: libc::c_int) -> Duration {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(who, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn photo(w: u32, h: u32) -> Vec<u8> {
    // Overlapping shapes, gradients and sensor-like noise: JPEG and WebP work as on a photo.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let shapes: Vec<(u32, u32, u32, u32, [u8; 3])> = (0..60)
        .map(|_| {
            let r = rnd();
            (
                (r % u64::from(w)) as u32,
                ((r >> 16) % u64::from(h)) as u32,
                ((r >> 32) % 900 + 50) as u32,
                ((r >> 42) % 700 + 50) as u32,
                [(r >> 8) as u8, (r >> 24) as u8, (r >> 40) as u8],
            )
        })
        .collect();
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let mut px = [(x * 200 / w) as u8, (y * 180 / h) as u8, 120];
        for &(cx, cy, rw, rh, c) in &shapes {
            if x.abs_diff(cx) < rw / 2 && y.abs_diff(cy) < rh / 2 {
                px = c;
            }
        }
        let n = (rnd() % 24) as u8;
        image::Rgb(px.map(|v| v.saturating_add(n).saturating_sub(12)))
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .expect("jpeg");
    out.into_inner()
}

fn ai_png(side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        let (fx, fy) = (x as f32 / side as f32, y as f32 / side as f32);
        let r = ((fx * 9.0).sin() * (fy * 7.0).cos() * 100.0 + 128.0) as u8;
        let g = (((fx + fy) * 12.0).sin() * 90.0 + 120.0) as u8;
        let b = ((fx * fy * 40.0).cos() * 80.0 + 140.0) as u8;
        image::Rgb([r, g, b])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// `source` as AVIF, made by libavif's `avifenc` at its default speed and quality.
fn avif(dir: &Path, source: &[u8], ext: &str) -> Vec<u8> {
    let (input, output) = (dir.join(format!("source.{ext}")), dir.join("out.avif"));
    std::fs::write(&input, source).expect("source");
    let status = Command::new("avifenc")
        .args(["-j", "2"])
        .arg(&input)
        .arg(&output)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("avifenc runs (apt-get install libavif-bin)");
    assert!(status.success());
    std::fs::read(output).expect("avif")
}

/// What ingest does to a new image, minus the disk writes.
fn pipeline(bytes: &[u8], enc: Encoding) -> process::Processed {
    let format = sniff::sniff(bytes).expect("sniff");
    let clean = sanitize::strip_metadata(bytes, format).expect("strip");
    black_box(MediaHash::of(&clean));
    process::process(bytes, format, process::decode_limits(8192, 40_000_000), enc).expect("process")
}

fn vips(input: &Path, out: &Path) {
    let run = |size: &str, extra: &[&str], name: &str| {
        let status = Command::new("vipsthumbnail")
            .arg(input)
            .args(["--vips-concurrency=1", "-s", size])
            .args(extra)
            .arg("-o")
            .arg(format!("{}/{name}.webp[Q=80,strip]", out.display()))
            .status()
            .expect("vipsthumbnail runs (apt-get install libvips-tools)");
        assert!(status.success());
    };
    run("150x150", &["-m", "centre"], "thumb");
    run("1080x1080>", &[], "feed");
    run("2048x2048>", &[], "full");
}

static SAMPLES: Mutex<Vec<(String, Vec<Duration>)>> = Mutex::new(Vec::new());

fn record(name: &str, d: Duration) {
    let mut s = SAMPLES.lock().expect("samples");
    match s.iter_mut().find(|(n, _)| n == name) {
        Some((_, v)) => v.push(d),
        None => s.push((name.to_owned(), vec![d])),
    }
}

fn median(v: &[Duration]) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-images");
    std::fs::create_dir_all(&dir).expect("dir");
    let method = std::env::var("WEBP_METHOD")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(4);
    let enc = Encoding {
        quality: 80.0,
        method,
    };
    let (photo, ai) = (photo(4000, 3000), ai_png(1024));
    let fixtures = [
        ("photo_4000x3000.avif", avif(&dir, &photo, "jpg")),
        ("ai_1024x1024.avif", avif(&dir, &ai, "png")),
        ("photo_4000x3000.jpg", photo),
        ("ai_1024x1024.png", ai),
    ];
    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(15))
        .warm_up_time(Duration::from_secs(2))
        .configure_from_args();
    for (name, bytes) in &fixtures {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("fixture");
        let mut g = c.benchmark_group(*name);
        let ours = format!("aistagram/{name}");
        g.bench_function("aistagram (CPU time)", |b| {
            b.iter_custom(|iters| {
                let start = cpu(libc::RUSAGE_SELF);
                for _ in 0..iters {
                    black_box(pipeline(bytes, enc));
                }
                let spent = cpu(libc::RUSAGE_SELF) - start;
                record(&ours, spent / iters as u32);
                spent
            })
        });
        let theirs = format!("vipsthumbnail/{name}");
        g.bench_function("vipsthumbnail x3 (CPU time)", |b| {
            b.iter_custom(|iters| {
                let start = cpu(libc::RUSAGE_CHILDREN);
                for _ in 0..iters {
                    vips(&path, &dir);
                }
                let spent = cpu(libc::RUSAGE_CHILDREN) - start;
                record(&theirs, spent / iters as u32);
                spent
            })
        });
        g.finish();
        let p = pipeline(bytes, enc);
        let size = |f: &str| std::fs::metadata(dir.join(f)).map(|m| m.len()).unwrap_or(0);
        println!(
            "{name}: output bytes thumb/feed/full: aistagram {}/{}/{}  vips {}/{}/{}",
            p.thumb.webp.len(),
            p.feed.webp.len(),
            p.full.as_ref().map_or(p.feed.webp.len(), |f| f.webp.len()),
            size("thumb.webp"),
            size("feed.webp"),
            size("full.webp"),
        );
    }
    // What three vipsthumbnail processes cost before any real work: start-up on an 8×8 image.
    let tiny = dir.join("tiny.png");
    let mut t = Cursor::new(Vec::new());
    image::RgbImage::new(8, 8)
        .write_to(&mut t, image::ImageFormat::Png)
        .expect("png");
    std::fs::write(&tiny, t.into_inner()).expect("tiny");
    c.bench_function("vipsthumbnail x3 start-up, 8x8 PNG (CPU time)", |b| {
        b.iter_custom(|iters| {
            let start = cpu(libc::RUSAGE_CHILDREN);
            for _ in 0..iters {
                vips(&tiny, &dir);
            }
            let spent = cpu(libc::RUSAGE_CHILDREN) - start;
            record("startup", spent / iters as u32);
            spent
        })
    });
    c.final_summary();
    println!("\nCPU time per image, medians over all samples (webp method {method}):");
    let s = SAMPLES.lock().expect("samples");
    let startup = s
        .iter()
        .find(|(n, _)| n == "startup")
        .map_or(Duration::ZERO, |(_, v)| median(v));
    println!(
        "  vipsthumbnail start-up x3: {:.1} ms",
        startup.as_secs_f64() * 1e3
    );
    for (name, _) in &fixtures {
        let get = |k: String| s.iter().find(|(n, _)| *n == k).map(|(_, v)| median(v));
        if let (Some(a), Some(v)) = (
            get(format!("aistagram/{name}")),
            get(format!("vipsthumbnail/{name}")),
        ) {
            let work = v.saturating_sub(startup);
            println!(
                "  {name}: aistagram {:.1} ms, vipsthumbnail {:.1} ms, ratio {:.2}x \
                 ({:.2}x against vips without its start-up)",
                a.as_secs_f64() * 1e3,
                v.as_secs_f64() * 1e3,
                a.as_secs_f64() / v.as_secs_f64(),
                a.as_secs_f64() / work.as_secs_f64()
            );
        }
    }
}
