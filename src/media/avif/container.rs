//! What aistagram reads of an AVIF's HEIF boxes itself, because avif-parse does not expose it:
//! the byte ranges of its metadata (Exif and XMP items, top-level `uuid` boxes such as a C2PA
//! store), to blank them in the stored original, and
//! the primary image's rotation (`irot`) and mirroring (`imir`), to apply to the pixels.

use std::ops::Range;

/// A transformation of the primary image, in the order its properties list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Quarter turns anti-clockwise (1–3).
    Rotate(u8),
    /// About a vertical axis: left and right swap (ISO/IEC 23008-12 `imir` axis 0).
    MirrorLeftRight,
    /// About a horizontal axis: top and bottom swap (axis 1).
    MirrorTopBottom,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct Container {
    /// Where the bytes of Exif and XMP items lie in the file.
    pub metadata: Vec<Range<usize>>,
    pub transforms: Vec<Transform>,
}

/// A big-endian reader over one box's payload; every read is bounds-checked.
struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Self { b, pos: 0 }
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    /// An unsigned integer of `n` bytes (0 to 8; 0 reads as 0).
    fn uint(&mut self, n: usize) -> Option<u64> {
        (n <= 8).then_some(())?;
        Some(self.bytes(n)?.iter().fold(0, |v, &b| v << 8 | u64::from(b)))
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Option<u64> {
        self.uint(2)
    }
    fn u32(&mut self) -> Option<u64> {
        self.uint(4)
    }
    /// A full box's version and flags.
    fn full(&mut self) -> Option<(u8, u32)> {
        let v = self.u32()? as u32;
        Some(((v >> 24) as u8, v & 0x00FF_FFFF))
    }
    fn rest(&self) -> usize {
        self.b.len() - self.pos.min(self.b.len())
    }
}

/// The child boxes of `payload` (which starts at `base` in the file): type and payload range.
fn boxes(payload: &[u8], base: usize) -> Option<Vec<([u8; 4], Range<usize>)>> {
    let mut out = Vec::new();
    let mut r = Reader::new(payload);
    while r.rest() > 0 {
        let start = r.pos;
        let size = r.u32()?;
        let kind: [u8; 4] = r.bytes(4)?.try_into().ok()?;
        let size = match size {
            0 => (payload.len() - start) as u64,
            1 => r.uint(8)?,
            s => s,
        };
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        if end > payload.len() || end < r.pos {
            return None;
        }
        out.push((kind, base + r.pos..base + end));
        r.pos = end;
    }
    Some(out)
}

fn find<'b>(list: &'b [([u8; 4], Range<usize>)], kind: &[u8; 4]) -> Option<&'b Range<usize>> {
    list.iter().find(|(k, _)| k == kind).map(|(_, r)| r)
}

/// Walks `ftyp`/`meta`; `None` when the structure is malformed or uses what this walk cannot
/// follow (metadata stored by item offset, or of unknown length).
pub fn walk(file: &[u8]) -> Option<Container> {
    let top = boxes(file, 0)?;
    let meta = find(&top, b"meta")?.clone();
    // `meta` is a full box: its children follow the version and flags.
    let children = boxes(file.get(meta.start + 4..meta.end)?, meta.start + 4)?;
    let at = |r: &Range<usize>| file.get(r.clone());

    let primary = match find(&children, b"pitm") {
        Some(r) => {
            let mut p = Reader::new(at(r)?);
            let (v, _) = p.full()?;
            if v == 0 { p.u16()? } else { p.u32()? }
        }
        None => return None,
    };

    // Item types, from `iinf`'s `infe` entries.
    let mut metadata_items = Vec::new();
    if let Some(r) = find(&children, b"iinf") {
        let mut p = Reader::new(at(r)?);
        let (v, _) = p.full()?;
        let _count = if v == 0 { p.u16()? } else { p.u32()? };
        let base = r.start + p.pos;
        for (kind, e) in boxes(&at(r)?[p.pos..], base)? {
            if &kind != b"infe" {
                continue;
            }
            let mut q = Reader::new(at(&e)?);
            let (v, _) = q.full()?;
            if v < 2 {
                continue; // Versions 0 and 1 name no item type.
            }
            let id = if v == 2 { q.u16()? } else { q.u32()? };
            let _protection = q.u16()?;
            let kind = q.bytes(4)?;
            if kind == b"Exif" || kind == b"mime" || kind == b"uri " {
                metadata_items.push(id);
            }
        }
    }

    let idat = find(&children, b"idat").cloned();
    let mut metadata = Vec::new();
    if !metadata_items.is_empty() {
        let r = find(&children, b"iloc")?;
        let mut p = Reader::new(at(r)?);
        let iloc = Iloc::read(&mut p)?;
        for _ in 0..iloc.count {
            let Item {
                id,
                method,
                base,
                extents,
            } = iloc.item(&mut p)?;
            for _ in 0..extents {
                let _index = p.uint(iloc.index_size)?;
                let offset = p.uint(iloc.offset_size)?;
                let length = p.uint(iloc.length_size)?;
                if !metadata_items.contains(&id) {
                    continue;
                }
                let origin = match method {
                    0 => 0u64,
                    1 => idat.as_ref()?.start as u64,
                    _ => return None,
                };
                let start = usize::try_from(origin.checked_add(base)?.checked_add(offset)?).ok()?;
                let end = start.checked_add(usize::try_from(length).ok()?)?;
                // A zero length ("to the end") is never what a metadata item needs.
                let limit = if method == 1 {
                    idat.as_ref()?.end
                } else {
                    file.len()
                };
                if length == 0 || end > limit {
                    return None;
                }
                metadata.push(start..end);
            }
        }
    }

    // Top-level `uuid` boxes: how ISO BMFF files carry a C2PA manifest store (which may hold
    // Exif and GPS assertions) and other vendors' data; no decoder needs them.
    metadata.extend(
        top.iter()
            .filter(|(kind, _)| kind == b"uuid")
            .map(|(_, r)| r.clone()),
    );
    let transforms = find(&children, b"iprp")
        .and_then(|r| transforms(file, r, primary))
        .unwrap_or_default();
    Some(Container {
        metadata,
        transforms,
    })
}

/// How many item extents `iloc` declares in all, or `None` when there is no `iloc` to read. An
/// extent may take no bytes of the file (zero-size fields) yet cost a parser memory, so the
/// count is checked before avif-parse reads the file.
pub fn extent_count(file: &[u8]) -> Option<u64> {
    let top = boxes(file, 0)?;
    let meta = find(&top, b"meta")?.clone();
    let children = boxes(file.get(meta.start + 4..meta.end)?, meta.start + 4)?;
    let r = find(&children, b"iloc")?;
    let mut p = Reader::new(file.get(r.clone())?);
    let iloc = Iloc::read(&mut p)?;
    let mut total = 0u64;
    for _ in 0..iloc.count {
        let extents = iloc.item(&mut p)?.extents as usize;
        total += extents as u64;
        // Each extent's fields, read only to find the next item.
        p.bytes((iloc.index_size + iloc.offset_size + iloc.length_size) * extents)?;
    }
    Some(total)
}

/// The fixed part of an `iloc` box (ISO/IEC 14496-12 §8.11.3): its version, the byte sizes of
/// its fields, and how many items it locates.
struct Iloc {
    version: u8,
    offset_size: usize,
    length_size: usize,
    base_offset_size: usize,
    index_size: usize,
    count: u64,
}

/// One `iloc` item's header; its `extents` follow it.
struct Item {
    id: u64,
    /// The construction method: 0 file offsets, 1 offsets into `idat` (0 in version 0).
    method: u64,
    base: u64,
    extents: u64,
}

impl Iloc {
    fn read(p: &mut Reader) -> Option<Iloc> {
        let (version, _) = p.full()?;
        let sizes = p.u8()?;
        let (offset_size, length_size) = (usize::from(sizes >> 4), usize::from(sizes & 15));
        let sizes = p.u8()?;
        let base_offset_size = usize::from(sizes >> 4);
        let index_size = if version == 0 {
            0
        } else {
            usize::from(sizes & 15)
        };
        let count = if version < 2 { p.u16()? } else { p.u32()? };
        Some(Iloc {
            version,
            offset_size,
            length_size,
            base_offset_size,
            index_size,
            count,
        })
    }

    fn item(&self, p: &mut Reader) -> Option<Item> {
        let id = if self.version < 2 { p.u16()? } else { p.u32()? };
        let method = if self.version == 0 { 0 } else { p.u16()? & 15 };
        let _data_ref = p.u16()?;
        let base = p.uint(self.base_offset_size)?;
        let extents = p.u16()?;
        Some(Item {
            id,
            method,
            base,
            extents,
        })
    }
}

/// The primary item's `irot` and `imir`, in the order `ipma` associates them.
fn transforms(file: &[u8], iprp: &Range<usize>, primary: u64) -> Option<Vec<Transform>> {
    let children = boxes(file.get(iprp.clone())?, iprp.start)?;
    let ipco = boxes(
        file.get(find(&children, b"ipco")?.clone())?,
        find(&children, b"ipco")?.start,
    )?;
    let mut out = Vec::new();
    for (kind, r) in &children {
        if kind != b"ipma" {
            continue;
        }
        let mut p = Reader::new(file.get(r.clone())?);
        let (v, flags) = p.full()?;
        for _ in 0..p.u32()? {
            let id = if v < 1 { p.u16()? } else { p.u32()? };
            let n = p.u8()?;
            for _ in 0..n {
                // Property indexes are 1-based; the top bit marks an essential property.
                let index = if flags & 1 == 1 {
                    p.u16()? & 0x7FFF
                } else {
                    u64::from(p.u8()? & 0x7F)
                };
                if id != primary || index == 0 {
                    continue;
                }
                let Some((kind, prop)) = ipco.get(usize::try_from(index - 1).ok()?) else {
                    continue;
                };
                let first = file.get(prop.start).copied();
                match (kind, first) {
                    (b"irot", Some(a)) if a & 3 != 0 => out.push(Transform::Rotate(a & 3)),
                    (b"imir", Some(a)) if a & 1 == 0 => out.push(Transform::MirrorLeftRight),
                    (b"imir", Some(_)) => out.push(Transform::MirrorTopBottom),
                    _ => {}
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A boxed payload: `size`, `kind`, `body`.
    pub(in crate::media::avif) fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn top_level_uuid_boxes_are_metadata_to_blank() {
        let mut file = boxed(b"ftyp", b"avif\0\0\0\0mif1");
        let uuid_at = file.len() + 8;
        file.extend(boxed(b"uuid", b"c2pa-store-with-GPS-1234"));
        // meta (a full box) holding pitm v0 naming item 1.
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(boxed(b"pitm", &[0, 0, 0, 0, 0, 1]));
        file.extend(boxed(b"meta", &meta));
        let found = walk(&file).unwrap();
        assert_eq!(found.metadata, vec![uuid_at..uuid_at + 24]);
        assert!(found.transforms.is_empty());
    }
}
