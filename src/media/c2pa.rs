//! Whether an upload carried an embedded C2PA manifest store, read from the original bytes before
//! metadata is stripped, and the claim generator of its active manifest where it can be read.
//!
//! A store is a JUMBF superbox (ISO/IEC 19566-5) whose description box (`jumd`) carries the label
//! `c2pa` or the C2PA store type UUID. JPEG carries it in APP11 segments (JPEG XT, ISO/IEC
//! 18477-3), PNG in a `caBX` chunk. Nothing is verified: this records a claim, not its validity.

use serde::Serialize;

/// An embedded C2PA manifest store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct C2pa {
    /// The active (last) manifest's `claim_generator` (v1 claims) or, failing that, the `name` in
    /// its `claim_generator_info` map (v2 claims, where that is the only generator field): valid
    /// UTF-8 without control characters, trimmed, cut to [`MAX_GENERATOR_CHARS`] characters.
    /// `None` when the store is truncated or malformed, or the claim has neither.
    pub claim_generator: Option<String>,
}

/// The longest claim generator recorded, in characters.
pub const MAX_GENERATOR_CHARS: usize = 200;

/// A JPEG XT box instance being reassembled: `En`, the next expected `Z`, the box so far.
type Instance = (u64, u64, Vec<u8>);

/// The store in a JPEG: APP11 segments before the first scan (SOS) that start with the JPEG XT
/// identifier `JP`, a 2-byte box instance number `En` and a 4-byte packet sequence number `Z`,
/// then the box. The first segment of an instance holds the start of the box; each continuation
/// (same `En`, `Z` one higher) repeats the box's LBox/TBox (and XLBox), which is dropped before
/// its data is appended. The first instance that is a C2PA store counts. `None` if there is
/// none; a store cut short by a truncated file is reported with no claim generator.
pub fn detect_jpeg(bytes: &[u8]) -> Option<C2pa> {
    bytes.starts_with(&[0xFF, 0xD8]).then_some(())?;
    let mut instances = Vec::new();
    std::iter::successors(Some(2), |&pos| jpeg_segment(bytes, pos, &mut instances)).for_each(drop);
    instances.iter().find_map(|(_, _, jumbf)| read_store(jumbf))
}

/// Reads the marker segment at `pos`, returning where the next starts; `None` at SOS (entropy-
/// coded data follows), EOI, or anything that is not a marker.
fn jpeg_segment(bytes: &[u8], pos: usize, instances: &mut Vec<Instance>) -> Option<usize> {
    // A marker is 0xFF and a code, possibly after more 0xFF fill bytes.
    let fill = bytes.get(pos..)?.iter().take_while(|&&b| b == 0xFF).count();
    let pos = pos + fill + 1;
    match *bytes.get(pos - 1).filter(|_| fill > 0)? {
        0x01 | 0xD0..=0xD8 => Some(pos), // standalone markers have no length
        0xD9 | 0xDA => None,
        marker => {
            let len = be(bytes, pos, 2).filter(|&l| l >= 2)? as usize;
            if marker == 0xEB {
                app11(bytes.get(pos + 2..(pos + len).min(bytes.len()))?, instances);
            }
            Some(pos + len)
        }
    }
}

/// How many JPEG XT box instances are reassembled; a real file has one or two.
const MAX_INSTANCES: usize = 16;

/// Adds one APP11 segment's payload to its JPEG XT box instance.
fn app11(seg: &[u8], instances: &mut Vec<Instance>) -> Option<()> {
    seg.starts_with(b"JP").then_some(())?;
    let (en, z, jumbf) = (be(seg, 2, 2)?, be(seg, 4, 4)?, seg.get(8..)?);
    let room = instances.len() < MAX_INSTANCES;
    match instances.iter_mut().find(|(e, _, _)| *e == en) {
        Some((_, next, buf)) if z == *next => {
            let (_, repeated, _) = box_header(jumbf)?;
            buf.extend_from_slice(jumbf.get(repeated..)?);
            *next += 1;
        }
        // Out of sequence: the instance is corrupt or repeated; ignoring the segment is safest.
        Some(_) => {}
        // At most a few box instances are followed: a file of thousands would make every
        // segment's lookup scan them all.
        None if jumbf.get(4..8)? == b"jumb" && room => instances.push((en, z + 1, jumbf.to_vec())),
        None => {}
    }
    Some(())
}

/// The store in a PNG: the first `caBX` chunk (chunks walked from after the signature to IEND;
/// CRCs are not checked) whose data is a C2PA store.
pub fn detect_png(bytes: &[u8]) -> Option<C2pa> {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n").then_some(())?;
    let mut pos = 8;
    loop {
        let (len, kind) = (be(bytes, pos, 4)? as usize, bytes.get(pos + 4..pos + 8)?);
        let (start, end) = (pos + 8, (pos + 8).saturating_add(len));
        if kind == b"caBX" {
            let found = read_store(bytes.get(start..end.min(bytes.len()))?);
            if found.is_some() {
                return found;
            }
        }
        (kind != b"IEND").then_some(())?;
        pos = end.saturating_add(4); // the CRC
    }
}

/// `Some` if `jumbf` starts with a C2PA store superbox, whose first child must be intact.
fn read_store(jumbf: &[u8]) -> Option<C2pa> {
    let (kind, header, total) = box_header(jumbf)?;
    let (label, uuid, children) = superbox(kind, jumbf.get(header..total.min(jumbf.len()))?)?;
    (label == Some(b"c2pa".as_slice()) || uuid == c2pa_uuid(*b"c2pa")).then_some(())?;
    let intact = total <= jumbf.len();
    let claim_generator = intact.then(|| claim_generator(children)).flatten();
    Some(C2pa { claim_generator })
}

/// The claim generator of the store's last manifest, the active one.
fn claim_generator(store: Boxes) -> Option<String> {
    let (kind, manifest) = store.filter(|(k, _)| k == b"jumb").last()?;
    let is_claim = |label: &[u8]| label == b"c2pa.claim" || label == b"c2pa.claim.v2";
    let mut parts = superbox(kind, manifest)?
        .2
        .filter_map(|(k, c)| superbox(k, c));
    let (_, _, mut claim) = parts.find(|(label, _, _)| label.is_some_and(is_claim))?;
    cbor_generator(claim.find(|(k, _)| k == b"cbor")?.1)
}

/// A C2PA JUMBF type UUID: four ASCII characters, then `0011-0010-8000-00AA00389B71`.
fn c2pa_uuid(tag: [u8; 4]) -> Vec<u8> {
    const TAIL: &[u8] = b"\x00\x11\x00\x10\x80\x00\x00\xAA\x00\x38\x9B\x71";
    [&tag, TAIL].concat()
}

/// A box header: type, header length and declared total length (LBox 0 = to the end, 1 = XLBox).
fn box_header(data: &[u8]) -> Option<([u8; 4], usize, usize)> {
    let kind = data.get(4..8)?.try_into().ok()?;
    let (header, total) = match be(data, 0, 4)? {
        0 => (8, data.len()),
        1 => (16, usize::try_from(be(data, 8, 8)?).ok()?),
        n => (8, n as usize),
    };
    (total >= header).then_some((kind, header, total))
}

/// The boxes packed in a byte run, in order, stopping at the first that is malformed or cut short.
struct Boxes<'a>(&'a [u8]);

impl<'a> Iterator for Boxes<'a> {
    type Item = ([u8; 4], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (kind, header, total) = box_header(self.0)?;
        let content = self.0.get(header..total)?;
        self.0 = &self.0[total..];
        Some((kind, content))
    }
}

/// A superbox's label (if its description has one), its type UUID and its remaining children.
type Superbox<'a> = (Option<&'a [u8]>, &'a [u8], Boxes<'a>);

/// Opens a `jumb` superbox, whose first child must be its description box (`jumd`).
fn superbox(kind: [u8; 4], content: &[u8]) -> Option<Superbox<'_>> {
    let mut children = Boxes(content);
    let (desc_kind, desc) = children.next()?;
    (&kind == b"jumb" && &desc_kind == b"jumd").then_some(())?;
    // Toggle bit 0x02: a NUL-terminated UTF-8 label follows the 16-byte UUID and toggles byte.
    let has_label = desc.get(16)? & 0x02 != 0;
    let label = has_label
        .then(|| desc.get(17..)?.split(|&b| b == 0).next())
        .flatten();
    Some((label, desc.get(..16)?, children))
}

/// The big-endian unsigned number in the `n` (at most 8) bytes at `at`, if there are that many.
fn be(b: &[u8], at: usize, n: usize) -> Option<u64> {
    let bytes = b.get(at..at.checked_add(n)?)?;
    Some(bytes.iter().fold(0, |v, &x| v << 8 | u64::from(x)))
}

/// Reads the generator from a claim's CBOR (RFC 8949): a map with definite-length text keys.
fn cbor_generator(data: &[u8]) -> Option<String> {
    let mut cbor = Cbor { data, pos: 0 };
    let (mut generator, mut info_name) = (None, None);
    let mut left = cbor.open(5)?;
    while cbor.more(&mut left)? {
        match cbor.text()? {
            // Values are read from a copy, so that one of another shape is still skipped.
            "claim_generator" => generator = cbor.clone().text(),
            "claim_generator_info" => info_name = cbor.clone().info_name(),
            _ => {}
        }
        cbor.skip(0)?;
    }
    generator.or(info_name).and_then(clean)
}

/// Valid text without control characters, trimmed, cut to [`MAX_GENERATOR_CHARS`] characters.
fn clean(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && !s.chars().any(char::is_control))
        .then(|| s.chars().take(MAX_GENERATOR_CHARS).collect())
}

/// Just enough CBOR to walk a claim; every read is bounds-checked and nesting is capped.
#[derive(Clone)]
struct Cbor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cbor<'a> {
    /// An item's major type and argument (`None` for indefinite length).
    fn head(&mut self) -> Option<(u8, Option<u64>)> {
        let initial = *self.data.get(self.pos)?;
        self.pos += 1;
        let arg = match initial & 0x1F {
            info @ 0..=23 => Some(u64::from(info)),
            info @ 24..=27 => {
                let size = 1 << (info - 24); // 1, 2, 4 or 8 bytes follow
                let arg = be(self.data, self.pos, size)?;
                self.pos += size;
                Some(arg)
            }
            31 => None,
            _ => return None,
        };
        Some((initial >> 5, arg))
    }

    fn take(&mut self, n: u64) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(usize::try_from(n).ok()?)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    /// Opens an item of the given major type: its length, `None` inside when indefinite.
    fn open(&mut self, major: u8) -> Option<Option<u64>> {
        let (m, len) = self.head()?;
        (m == major).then_some(len)
    }

    /// Whether another entry follows in a container opened with `open`, counting down `left`;
    /// an indefinite-length one ends at a break byte (0xFF).
    fn more(&mut self, left: &mut Option<u64>) -> Option<bool> {
        match left {
            Some(n) => Some(std::mem::replace(n, n.saturating_sub(1)) > 0),
            None => {
                let end = *self.data.get(self.pos)? == 0xFF;
                self.pos += usize::from(end);
                Some(!end)
            }
        }
    }

    /// A definite-length text string.
    fn text(&mut self) -> Option<&'a str> {
        let len = self.open(3)??;
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// The `name` in a generator-info map. (v1 claims, where it is an array of maps, always have
    /// `claim_generator`, so the array form is not read.)
    fn info_name(&mut self) -> Option<&'a str> {
        let mut left = self.open(5)?;
        while self.more(&mut left)? {
            if self.text()? == "name" {
                return self.text();
            }
            self.skip(0)?;
        }
        None
    }

    /// Steps over one whole item.
    fn skip(&mut self, depth: u8) -> Option<()> {
        let (major, arg) = self.head().filter(|_| depth <= 16)?;
        match (major, arg) {
            (0 | 1 | 7, Some(_)) => {}
            (2 | 3, Some(n)) => _ = self.take(n)?,
            (4 | 5, Some(n)) => {
                let items = if major == 5 { n.checked_mul(2)? } else { n };
                // Each item takes at least a byte, so a count beyond the data is malformed.
                (items <= (self.data.len() - self.pos) as u64).then_some(())?;
                for _ in 0..items {
                    self.skip(depth + 1)?;
                }
            }
            (6, Some(_)) => self.skip(depth + 1)?,
            (2..=5, None) => {
                while self.more(&mut None)? {
                    self.skip(depth + 1)?;
                }
            }
            _ => return None,
        }
        Some(())
    }
}

/// Test fixture: a minimal C2PA manifest store, a `c2pa` superbox holding one manifest whose
/// `c2pa.claim` superbox holds a `cbor` box with `{"claim_generator": claim_generator}`. It is
/// not signed and has no assertions; it exists so tests can build uploads that carry a store.
pub fn test_store(claim_generator: &str) -> Vec<u8> {
    let mut cbor = vec![0xA1]; // a map of one pair
    cbor_text(&mut cbor, "claim_generator");
    cbor_text(&mut cbor, claim_generator);
    let claim = superbox_bytes(*b"c2cl", "c2pa.claim", &[box_bytes(*b"cbor", &cbor)]);
    let label = "urn:uuid:00000000-0000-4000-8000-000000000000";
    let manifest = superbox_bytes(*b"c2ma", label, &[claim]);
    superbox_bytes(*b"c2pa", "c2pa", &[manifest])
}

/// Test fixture: `jpeg` (which must start with SOI) with `store` in APP11 segments right after
/// SOI, split into 65 000-byte pieces as JPEG XT prescribes (box instance 1, sequence from 1).
pub fn jpeg_with_store(jpeg: &[u8], store: &[u8]) -> Vec<u8> {
    let repeated = box_header(store).map_or(0, |(_, header, _)| header);
    let mut out = jpeg.get(..2).unwrap_or_default().to_vec();
    for (seq, piece) in (1u32..).zip(store.chunks(65_000)) {
        let header = if seq > 1 { &store[..repeated] } else { &[] };
        let payload = [b"JP".as_slice(), &[0, 1], &seq.to_be_bytes(), header, piece].concat();
        let len = (payload.len() as u16 + 2).to_be_bytes();
        out.extend([&[0xFF, 0xEB], &len, &payload[..]].concat());
    }
    out.extend_from_slice(jpeg.get(2..).unwrap_or_default());
    out
}

/// Test fixture: `png` with `store` in a `caBX` chunk (with its CRC) right after IHDR.
pub fn png_with_store(png: &[u8], store: &[u8]) -> Vec<u8> {
    // Signature (8), then IHDR: length (4), type (4), data, CRC (4).
    let at = be(png, 8, 4).map_or(png.len(), |len| (20 + len as usize).min(png.len()));
    let mut chunk = [&(store.len() as u32).to_be_bytes(), b"caBX", store].concat();
    chunk.extend_from_slice(&crc32(&chunk[4..]).to_be_bytes());
    [&png[..at], &chunk, &png[at..]].concat()
}

/// PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), bit by bit: fixtures are small.
fn crc32(bytes: &[u8]) -> u32 {
    let bit = |crc: u32, _| (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
    !bytes
        .iter()
        .fold(!0, |crc, &b| (0..8).fold(crc ^ u32::from(b), bit))
}

fn box_bytes(kind: [u8; 4], content: &[u8]) -> Vec<u8> {
    [&(content.len() as u32 + 8).to_be_bytes(), &kind, content].concat()
}

fn superbox_bytes(tag: [u8; 4], label: &str, children: &[Vec<u8>]) -> Vec<u8> {
    // Toggles 0x03: requestable, with a label.
    let desc = [&c2pa_uuid(tag), [0x03].as_slice(), label.as_bytes(), &[0]].concat();
    let content = [&[box_bytes(*b"jumd", &desc)], children].concat().concat();
    box_bytes(*b"jumb", &content)
}

/// A CBOR text string: major type 3, the length inline or in the 1, 2 or 8 bytes that follow.
fn cbor_text(out: &mut Vec<u8>, s: &str) {
    let n = s.len();
    match n {
        0..=23 => out.push(0x60 | n as u8),
        24..=0xFF => out.extend([0x78, n as u8]),
        0x100..=0xFFFF => out.extend([[0x79].as_slice(), &(n as u16).to_be_bytes()].concat()),
        _ => out.extend([[0x7B].as_slice(), &(n as u64).to_be_bytes()].concat()),
    }
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, RgbImage};

    fn encoded(format: ImageFormat) -> Vec<u8> {
        let img = RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 16, y as u8 * 32, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn found(generator: Option<&str>) -> Option<C2pa> {
        let claim_generator = generator.map(str::to_owned);
        Some(C2pa { claim_generator })
    }

    #[test]
    fn jpeg_and_png_round_trips() {
        let (jpeg, png) = (encoded(ImageFormat::Jpeg), encoded(ImageFormat::Png));
        assert_eq!((detect_jpeg(&jpeg), detect_png(&png)), (None, None));
        let store = test_store("TestGen/1.0");
        let (jpeg, png) = (jpeg_with_store(&jpeg, &store), png_with_store(&png, &store));
        // Both still decode (the PNG chunk's CRC is right).
        image::load_from_memory(&jpeg).unwrap();
        image::load_from_memory(&png).unwrap();
        assert_eq!(detect_jpeg(&jpeg), found(Some("TestGen/1.0")));
        assert_eq!(detect_png(&png), found(Some("TestGen/1.0")));
        assert_eq!((detect_png(&jpeg), detect_jpeg(&png)), (None, None));
    }

    #[test]
    fn a_store_spanning_app11_segments_is_reassembled() {
        // A generator of 150 000 bytes forces three segments; it is then cut to 200 characters.
        let long = "é".repeat(75_000);
        let signed = jpeg_with_store(&encoded(ImageFormat::Jpeg), &test_store(&long));
        let app11 = signed.windows(2).filter(|w| w == &[0xFF, 0xEB]).count();
        assert_eq!(app11, 3);
        let got = detect_jpeg(&signed).unwrap().claim_generator.unwrap();
        assert_eq!(got, "é".repeat(MAX_GENERATOR_CHARS));
    }

    #[test]
    fn v2_claims_and_odd_generators() {
        // {"claim_generator_info": {"name": "Gen2", "version": "2"}, "x": [1, h'00', -1]}
        let info = b"\xA2\x64name\x64Gen2\x67version\x612";
        let cbor = [
            b"\xA2\x74claim_generator_info",
            &info[..],
            b"\x61x\x83\x01\x41\x00\x20",
        ]
        .concat();
        let claim = superbox_bytes(*b"c2cl", "c2pa.claim.v2", &[box_bytes(*b"cbor", &cbor)]);
        let store = superbox_bytes(*b"c2pa", "c2pa", &[superbox_bytes(*b"c2ma", "m", &[claim])]);
        assert_eq!(read_store(&store), found(Some("Gen2")));
        // The same with indefinite-length maps, as c2pa-rs writes them: 0xBF … 0xFF.
        let cbor = b"\xBF\x74claim_generator_info\xBF\x64name\x64Gen2\xFF\xFF";
        assert_eq!(cbor_generator(cbor).as_deref(), Some("Gen2"));
        assert_eq!(read_store(&test_store("bad\u{7}bell")), found(None));
        assert_eq!(read_store(&test_store("  ")), found(None));
    }

    #[test]
    fn truncated_and_corrupt_input_never_panics() {
        let store = test_store("TestGen/1.0");
        let jpeg = jpeg_with_store(&encoded(ImageFormat::Jpeg), &store);
        let png = png_with_store(&encoded(ImageFormat::Png), &store);
        for cut in 0..jpeg.len().max(png.len()) {
            let _ = detect_jpeg(&jpeg[..cut.min(jpeg.len())]);
            let _ = detect_png(&png[..cut.min(png.len())]);
        }
        // Cut inside the store: still detected, without a generator.
        let cut = jpeg_with_store(&[0xFF, 0xD8], &store[..40]);
        assert_eq!(detect_jpeg(&cut), found(None));
        // Every single-byte corruption of the store.
        for (i, v) in (0..store.len()).flat_map(|i| [0x00, 0x01, 0x7F, 0xFF].map(|v| (i, v))) {
            let mut bad = store.clone();
            bad[i] = v;
            let _ = detect_png(&png_with_store(&png, &bad));
            let _ = detect_jpeg(&jpeg_with_store(&[0xFF, 0xD8], &bad));
        }
        // Hostile CBOR: deep nesting, a huge count, a break out of place, an unclosed map.
        let nested = [b"\xA1\x61a".as_slice(), &[0x81; 1000]].concat();
        let huge = b"\xBB\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF";
        for cbor in [&nested[..], huge, b"\xA1\x61a\xFF", b"\xBF\x61a\x9F\x01"] {
            assert_eq!(cbor_generator(cbor), None);
        }
    }
}
