//! AVIF intake: files made by libavif's own encoder (`avifenc`, Debian's libavif-bin, which
//! `.ci/test` installs) from pictures the test draws, in each chroma layout, depth, matrix and
//! range, with alpha, rotation and mirroring, and with metadata that must not be kept.

use std::path::Path;
use std::process::Command;

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::fixtures;
use crate::harness::TestApp;

const RED: [u8; 3] = [220, 30, 30];
const BLUE: [u8; 3] = [30, 40, 220];

/// Left half red, right half blue.
fn halves(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, _| Rgb(if x < w / 2 { RED } else { BLUE }))
}

/// Encodes `png` with `avifenc` and the given options; the encoder's failure fails the test.
fn avifenc(png: &[u8], args: &[&str]) -> Vec<u8> {
    avifenc_with(png, args, |_| {})
}

fn avifenc_with(png: &[u8], args: &[&str], files: impl FnOnce(&Path)) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.png"), dir.path().join("out.avif"));
    std::fs::write(&input, png).unwrap();
    files(dir.path());
    let out = Command::new("avifenc")
        .current_dir(dir.path())
        .args(["-s", "10", "-j", "1"])
        .args(args)
        .arg(&input)
        .arg(&output)
        .output()
        .expect("avifenc (Debian's libavif-bin; `bash .ci/test` installs it)");
    assert!(
        out.status.success(),
        "avifenc {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(output).unwrap()
}

fn png(img: &RgbImage) -> Vec<u8> {
    fixtures::encode(img, ImageFormat::Png)
}

fn near(px: &[u8], want: [u8; 3], tolerance: i32) -> bool {
    px.iter()
        .zip(want)
        .all(|(&a, b)| (i32::from(a) - i32::from(b)).abs() <= tolerance)
}

async fn fetch(app: &TestApp, url: &str) -> (String, Vec<u8>) {
    let r = app.client.get(url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{url}");
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    (ct, r.bytes().await.unwrap().to_vec())
}

/// The post's feed variant, decoded.
async fn feed_pixels(app: &TestApp, post: &serde_json::Value) -> RgbaImage {
    let (ct, webp) = fetch(app, post["image_url"].as_str().unwrap()).await;
    assert_eq!(ct, "image/webp");
    image::load_from_memory_with_format(&webp, ImageFormat::WebP)
        .unwrap()
        .to_rgba8()
}

#[tokio::test]
async fn avif_in_every_layout_depth_matrix_and_range_is_decoded_to_the_right_colours() {
    let app = TestApp::spawn().await;
    let key = app.native.register("avif-painter").await;
    let src = png(&halves(96, 64));
    // The luma of RED and BLUE under BT.601, for the monochrome encoding.
    let grey = |c: [u8; 3]| {
        let y = 0.299 * f64::from(c[0]) + 0.587 * f64::from(c[1]) + 0.114 * f64::from(c[2]);
        let y = y.round() as u8;
        [y, y, y]
    };
    // (what, avifenc options, colour of the left half, of the right half)
    type Case<'a> = (&'a str, &'a [&'a str], [u8; 3], [u8; 3]);
    let cases: &[Case] = &[
        ("4:2:0, 8 bits", &["-y", "420"], RED, BLUE),
        ("4:2:2, 10 bits", &["-y", "422", "-d", "10"], RED, BLUE),
        ("4:4:4, 12 bits", &["-y", "444", "-d", "12"], RED, BLUE),
        (
            "BT.709, limited range",
            &["-y", "420", "--cicp", "1/13/1", "-r", "limited"],
            RED,
            BLUE,
        ),
        (
            "BT.2020, 10 bits",
            &["-y", "444", "-d", "10", "--cicp", "9/16/9"],
            RED,
            BLUE,
        ),
        ("lossless (identity matrix)", &["-l"], RED, BLUE),
        ("monochrome", &["-y", "400"], grey(RED), grey(BLUE)),
    ];
    for (what, args, left, right) in cases {
        let avif = avifenc(&src, args);
        assert_eq!(&avif[4..8], b"ftyp", "{what}");
        let r = app.native.post_image(&key, &avif, what).await;
        let p = r.data(201).clone();
        assert_eq!(
            (p["width"].clone(), p["height"].clone()),
            (json!(96), json!(64)),
            "{what}"
        );
        let img = feed_pixels(&app, &p).await;
        assert_eq!(img.dimensions(), (96, 64), "{what}");
        let (l, rt) = (img.get_pixel(20, 32), img.get_pixel(76, 32));
        assert!(
            near(&l.0[..3], *left, 14),
            "{what}: left {l:?}, want {left:?}"
        );
        assert!(
            near(&rt.0[..3], *right, 14),
            "{what}: right {rt:?}, want {right:?}"
        );
        assert_eq!(l[3], 255, "{what}: opaque");
        // The original is served as the AVIF it was.
        let (ct, original) = fetch(&app, p["original_url"].as_str().unwrap()).await;
        assert_eq!(ct, "image/avif", "{what}");
        assert_eq!(original.len(), avif.len(), "{what}");
    }
}

#[tokio::test]
async fn avif_alpha_straight_and_premultiplied_reaches_the_variants() {
    let app = TestApp::spawn().await;
    let key = app.native.register("avif-glass").await;
    // Opaque red on the left, fully transparent on the right, half-transparent blue below.
    let img = RgbaImage::from_fn(64, 64, |x, y| match (x < 32, y < 32) {
        (true, true) => Rgba([RED[0], RED[1], RED[2], 255]),
        (false, true) => Rgba([0, 0, 0, 0]),
        (_, false) => Rgba([BLUE[0], BLUE[1], BLUE[2], 128]),
    });
    let mut src = std::io::Cursor::new(Vec::new());
    img.write_to(&mut src, ImageFormat::Png).unwrap();
    for args in [&["-y", "444"][..], &["-y", "444", "--premultiply"]] {
        let avif = avifenc(src.get_ref(), args);
        let p = app
            .native
            .post_image(&key, &avif, "glass")
            .await
            .data(201)
            .clone();
        let out = feed_pixels(&app, &p).await;
        let (opaque, clear, half) = (
            out.get_pixel(10, 10),
            out.get_pixel(50, 10),
            out.get_pixel(32, 50),
        );
        assert!(
            near(&opaque.0[..3], RED, 14) && opaque[3] == 255,
            "{args:?}: {opaque:?}"
        );
        assert!(clear[3] <= 2, "{args:?}: {clear:?}");
        assert!((i32::from(half[3]) - 128).abs() <= 6, "{args:?}: {half:?}");
        assert!(near(&half.0[..3], BLUE, 24), "{args:?}: {half:?}");
    }
}

#[tokio::test]
async fn avif_rotation_and_mirroring_are_applied_to_the_pixels() {
    let app = TestApp::spawn().await;
    let key = app.native.register("avif-turner").await;
    let src = png(&halves(90, 60));
    // (options, size, where red ends up, where blue ends up)
    type Point = (u32, u32);
    let cases: &[(&[&str], Point, Point, Point)] = &[
        // A quarter turn anti-clockwise: the left edge becomes the bottom.
        (&["--irot", "1"], (60, 90), (30, 80), (30, 10)),
        (&["--irot", "2"], (90, 60), (80, 30), (10, 30)),
        (&["--irot", "3"], (60, 90), (30, 10), (30, 80)),
        // Mirrored about the vertical axis (imir axis 0): left and right swap.
        (&["--imir", "0"], (90, 60), (80, 30), (10, 30)),
        (&["--imir", "1"], (90, 60), (10, 30), (80, 30)),
    ];
    for (args, size, red_at, blue_at) in cases {
        let avif = avifenc(&src, args);
        let p = app
            .native
            .post_image(&key, &avif, "turned")
            .await
            .data(201)
            .clone();
        assert_eq!(
            (p["width"].clone(), p["height"].clone()),
            (json!(size.0), json!(size.1)),
            "{args:?}"
        );
        let img = feed_pixels(&app, &p).await;
        let red = img.get_pixel(red_at.0, red_at.1);
        let blue = img.get_pixel(blue_at.0, blue_at.1);
        assert!(
            near(&red.0[..3], RED, 14),
            "{args:?}: {red:?} at {red_at:?}"
        );
        assert!(
            near(&blue.0[..3], BLUE, 14),
            "{args:?}: {blue:?} at {blue_at:?}"
        );
    }
}

#[tokio::test]
async fn avif_exif_and_xmp_never_leave_the_server_and_the_original_still_decodes() {
    let app = TestApp::spawn().await;
    let key = app.native.register("avif-camera").await;
    let gps: &[u8] = b"GPS 48.8584N 2.2945E SECRET-AVIF";
    let xmp: &[u8] = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>OWNER-HOME-ADDRESS</x:xmpmeta>";
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0".to_vec();
    exif.extend_from_slice(gps);
    let avif = avifenc_with(
        &png(&halves(64, 48)),
        &["--exif", "exif.bin", "--xmp", "xmp.xml"],
        |dir| {
            std::fs::write(dir.join("exif.bin"), &exif).unwrap();
            std::fs::write(dir.join("xmp.xml"), xmp).unwrap();
        },
    );
    let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(has(&avif, gps) && has(&avif, b"OWNER-HOME-ADDRESS"));
    let p = app
        .native
        .post_image(&key, &avif, "where I live")
        .await
        .data(201)
        .clone();
    for url in [
        "original_url",
        "image_url",
        "full_image_url",
        "thumbnail_url",
    ] {
        let Some(url) = p[url].as_str() else { continue };
        let (_, body) = fetch(&app, url).await;
        assert!(
            !has(&body, gps) && !has(&body, b"OWNER-HOME-ADDRESS"),
            "{url} leaks metadata"
        );
    }
    // The stored original is still an AVIF that libavif decodes to the same picture.
    let (_, original) = fetch(&app, p["original_url"].as_str().unwrap()).await;
    assert_eq!(original.len(), avif.len());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("o.avif"), &original).unwrap();
    let out = Command::new("avifdec")
        .current_dir(dir.path())
        .args(["o.avif", "o.png"])
        .output()
        .expect("avifdec");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = image::open(dir.path().join("o.png")).unwrap().to_rgb8();
    assert_eq!(back.dimensions(), (64, 48));
    assert!(near(&back.get_pixel(5, 5).0, RED, 14));
    // The same picture without its metadata is the same image.
    let bare = avifenc(&png(&halves(64, 48)), &[]);
    assert_ne!(bare, avif);
}

#[tokio::test]
async fn broken_oversized_and_unsupported_avif_is_refused_and_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let key = app.native.register("avif-breaker").await;
    let good = avifenc(&png(&halves(64, 64)), &[]);
    // Cut inside the AV1 data, and inside the boxes.
    for cut in [good.len() - 40, 60] {
        app.native
            .post_image(&key, &good[..cut], "cut")
            .await
            .err(422, "INVALID_IMAGE");
    }
    // Over the side limit (8192), refused from the sequence header before decoding.
    let wide = avifenc(&png(&halves(9000, 8)), &["-y", "420"]);
    let r = app.native.post_image(&key, &wide, "wide").await;
    let msg = r.err(422, "IMAGE_TOO_LARGE")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.contains("9000×8"), "{msg}");
    // A grid (a collage of tiles) is a valid AVIF this server does not take.
    let grid = avifenc(&png(&halves(128, 64)), &["-g", "2x1"]);
    let r = app.native.post_image(&key, &grid, "grid").await;
    let msg = r.err(415, "UNSUPPORTED_MEDIA_TYPE")["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.contains("AVIF"), "{msg}");
    // HEIC shares the container but not the codec.
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08meta";
    app.native
        .post_image(&key, heic, "heic")
        .await
        .err(415, "UNSUPPORTED_MEDIA_TYPE");

    let media = app.dir.as_ref().unwrap().path().join("media");
    let leftovers = crate::harness::files_under(&media);
    assert!(leftovers.is_empty(), "files left behind: {leftovers:?}");
}

#[tokio::test]
async fn glimpse_and_aispace_agents_post_avif_too() {
    let app = TestApp::spawn().await;
    let avif = avifenc(&png(&halves(80, 40)), &[]);
    let key = app.glimpse.register("glm-avif").await;
    let r = app
        .glimpse
        .create_post(
            &key,
            json!({"image_b64": fixtures::b64(&avif), "caption": "#avif"}),
        )
        .await;
    let p = r.ok(201);
    assert_eq!(
        (p["width"].clone(), p["height"].clone()),
        (json!(80), json!(40))
    );
    let img = feed_pixels(&app, p).await;
    assert!(near(&img.get_pixel(10, 20).0[..3], RED, 14));

    let key = app.native.register("aispace-avif").await;
    let form = Form::new()
        .part("file", Part::bytes(avif).file_name("art.avif"))
        .text("caption", "from AIspace");
    let post = app.aispace.post_form(&key, form).await;
    let media = post.ok(201)["mediaUrl"].as_str().unwrap().to_owned();
    let (ct, _) = fetch(&app, &media).await;
    assert_eq!(ct, "image/webp");
}
