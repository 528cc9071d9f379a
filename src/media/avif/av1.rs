//! A safe wrapper over rav1d's dav1d-compatible API, for one still AV1 frame at a time. All of
//! this crate's decoder `unsafe` lives here; each block says what makes it sound.

use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::ptr::{self, NonNull};

use rav1d::Dav1dResult;
use rav1d::include::dav1d::data::Dav1dData;
use rav1d::include::dav1d::dav1d::{Dav1dContext, Dav1dSettings};
use rav1d::include::dav1d::headers::{
    DAV1D_PIXEL_LAYOUT_I400, DAV1D_PIXEL_LAYOUT_I420, DAV1D_PIXEL_LAYOUT_I422,
    DAV1D_PIXEL_LAYOUT_I444, Dav1dMatrixCoefficients,
};
use rav1d::include::dav1d::picture::Dav1dPicture;
use rav1d::src::lib::{
    dav1d_close, dav1d_data_create, dav1d_data_unref, dav1d_default_settings, dav1d_get_picture,
    dav1d_open, dav1d_picture_unref, dav1d_send_data,
};

use crate::error::{Error, Result};

/// How chroma is sampled relative to luma.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Luma only.
    I400,
    I420,
    I422,
    I444,
}

/// One open decoder. Pictures borrow it, so the next frame can only be decoded once the last
/// picture has been dropped.
pub struct Decoder {
    ctx: Option<Dav1dContext>,
}

fn check(res: Dav1dResult, doing: &str) -> Result<()> {
    match res.0 {
        0 => Ok(()),
        // dav1d reports errors as negated errno values.
        e if -e == libc::ENOMEM => Err(Error::ImageTooLarge(format!(
            "{doing}: the AV1 decoder ran out of memory"
        ))),
        e => Err(Error::InvalidImage(format!(
            "cannot decode the AVIF image: {doing} failed ({})",
            std::io::Error::from_raw_os_error(-e)
        ))),
    }
}

impl Decoder {
    /// A decoder that refuses frames of more than `max_pixels`, with up to `threads` threads.
    pub fn new(max_pixels: u64, threads: usize) -> Result<Self> {
        let mut settings = MaybeUninit::<Dav1dSettings>::uninit();
        // SAFETY: `dav1d_default_settings` writes a whole `Dav1dSettings` through the pointer,
        // which points at memory of that type; only then is it read.
        let mut settings = unsafe {
            dav1d_default_settings(NonNull::from(&mut settings).cast());
            settings.assume_init()
        };
        settings.n_threads = threads.clamp(1, 64) as _;
        // A still image is one frame: nothing to pipeline, and the frame is ready at once.
        settings.max_frame_delay = 1;
        // Film grain is part of the picture as encoded; libavif and browsers apply it too.
        settings.apply_grain = 1;
        // Only the highest spatial layer of a layered image: the complete picture.
        settings.all_layers = 0;
        // The decoder's own bomb guard, behind the container's header check.
        settings.frame_size_limit = u32::try_from(max_pixels).unwrap_or(u32::MAX);
        let mut ctx = None;
        // SAFETY: both pointers are to live locals of the types the function expects; on
        // success it stores a context in `ctx`, which `Drop` closes exactly once.
        let res = unsafe {
            dav1d_open(
                Some(NonNull::from(&mut ctx)),
                Some(NonNull::from(&mut settings)),
            )
        };
        check(res, "opening the decoder")?;
        Ok(Self { ctx })
    }

    /// Decodes one AVIF item (one temporal unit) into its picture; of a layered item, the last
    /// layer, which is the whole image.
    pub fn decode(&mut self, av1: &[u8]) -> Result<Picture<'_>> {
        let ctx = self
            .ctx
            .ok_or_else(|| Error::internal("the AV1 decoder is closed"))?;
        let mut data = Dav1dData::default();
        // SAFETY: `data` is a live `Dav1dData`; the buffer it returns holds `av1.len()` bytes,
        // which are filled before it is handed to the decoder.
        let buf = unsafe { dav1d_data_create(Some(NonNull::from(&mut data)), av1.len()) };
        let Some(buf) = NonNull::new(buf) else {
            return Err(Error::ImageTooLarge(
                "no memory for the AV1 data".to_owned(),
            ));
        };
        // SAFETY: `buf` was just allocated with room for `av1.len()` bytes, apart from `av1`.
        unsafe { ptr::copy_nonoverlapping(av1.as_ptr(), buf.as_ptr(), av1.len()) };
        let mut last: Option<Picture<'_>> = None;
        let sent = loop {
            // SAFETY: `ctx` is open and `data` holds the buffer made above; the decoder takes
            // what it consumes and leaves the rest in `data`.
            let res = unsafe { dav1d_send_data(Some(ctx), Some(NonNull::from(&mut data))) };
            if res.0 == 0 {
                break Ok(());
            }
            // EAGAIN: a picture must be taken out before more data is accepted.
            match self.next_picture(ctx) {
                Some(p) => last = Some(p),
                None => break check(res, "sending the AV1 data"),
            }
        };
        // SAFETY: `data` is either empty (all consumed) or still holds our reference.
        unsafe { dav1d_data_unref(Some(NonNull::from(&mut data))) };
        sent?;
        while let Some(p) = self.next_picture(ctx) {
            last = Some(p);
        }
        let pic = last.ok_or_else(|| {
            Error::InvalidImage("cannot decode the AVIF image: it holds no picture".into())
        })?;
        Ok(Picture {
            pic: pic.into_raw(),
            _decoder: PhantomData,
        })
    }

    fn next_picture<'a>(&self, ctx: Dav1dContext) -> Option<Picture<'a>> {
        let mut pic = Dav1dPicture::default();
        // SAFETY: `ctx` is open and `pic` is a default (empty) picture for it to fill.
        let res = unsafe { dav1d_get_picture(Some(ctx), Some(NonNull::from(&mut pic))) };
        (res.0 == 0).then_some(Picture {
            pic: Some(pic),
            _decoder: PhantomData,
        })
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from `dav1d_open` (or is `None`, which is ignored); it is closed
        // once, and no picture outlives `self` (they borrow it).
        unsafe { dav1d_close(Some(NonNull::from(&mut self.ctx))) };
    }
}

/// A decoded picture: planes of 8-bit samples, or of 16-bit words for 10 and 12 bits.
pub struct Picture<'a> {
    pic: Option<Dav1dPicture>,
    _decoder: PhantomData<&'a mut Decoder>,
}

/// One plane's samples, `stride` samples a row.
pub struct Plane<'a, T> {
    pub samples: &'a [T],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

impl Picture<'_> {
    fn into_raw(mut self) -> Option<Dav1dPicture> {
        self.pic.take()
    }

    fn raw(&self) -> &Dav1dPicture {
        // `pic` is only `None` between `into_raw` and drop.
        self.pic.as_ref().unwrap_or_else(|| unreachable!())
    }

    pub fn width(&self) -> usize {
        self.raw().p.w.max(0) as usize
    }

    pub fn height(&self) -> usize {
        self.raw().p.h.max(0) as usize
    }

    /// Bits per sample: 8, 10 or 12.
    pub fn depth(&self) -> u32 {
        self.raw().p.bpc.max(0) as u32
    }

    pub fn layout(&self) -> Result<Layout> {
        Ok(match self.raw().p.layout {
            DAV1D_PIXEL_LAYOUT_I400 => Layout::I400,
            DAV1D_PIXEL_LAYOUT_I420 => Layout::I420,
            DAV1D_PIXEL_LAYOUT_I422 => Layout::I422,
            DAV1D_PIXEL_LAYOUT_I444 => Layout::I444,
            other => {
                return Err(Error::InvalidImage(format!(
                    "unknown AV1 pixel layout {other}"
                )));
            }
        })
    }

    /// The matrix coefficients and whether samples use the full range, from the sequence
    /// header; `None` when the picture carries none.
    pub fn colour(&self) -> Option<(Dav1dMatrixCoefficients, bool)> {
        let hdr = self.raw().seq_hdr?;
        // SAFETY: the sequence header is owned by the picture's reference, alive while `self` is.
        let hdr = unsafe { hdr.as_ref() };
        Some((hdr.mtrx, hdr.color_range != 0))
    }

    /// Plane `n` (0 luma, 1 U, 2 V) as samples of `T`: `u8` at 8 bits, `u16` above.
    pub fn plane<T: Copy>(&self, n: usize) -> Result<Plane<'_, T>> {
        let pic = self.raw();
        let bytes = if pic.p.bpc <= 8 { 1 } else { 2 };
        let bad = |what: &str| Err(Error::internal(format!("AV1 plane {n}: {what}")));
        if bytes != size_of::<T>() || n > 2 {
            return bad("wrong sample size");
        }
        let Some(data) = pic.data[n] else {
            return bad("missing");
        };
        let (w, h) = (self.width(), self.height());
        let (sub_x, sub_y) = match (n, self.layout()?) {
            (0, _) | (_, Layout::I444) => (0, 0),
            (_, Layout::I420) => (1, 1),
            (_, Layout::I422) => (1, 0),
            (_, Layout::I400) => return bad("a monochrome picture has no chroma"),
        };
        let (width, height) = ((w + sub_x) >> sub_x, (h + sub_y) >> sub_y);
        // One stride for luma, one shared by both chroma planes, in bytes.
        let stride_bytes = pic.stride[usize::from(n != 0)];
        if stride_bytes <= 0 || !(stride_bytes as usize).is_multiple_of(bytes) {
            return bad("bad stride");
        }
        let stride = stride_bytes as usize / bytes;
        if width == 0 || stride < width || data.as_ptr().align_offset(align_of::<T>()) != 0 {
            return bad("bad geometry");
        }
        // SAFETY: the picture's planes are whole rows of `stride` samples, `height` of them,
        // aligned for `T` (checked above), and alive while `self` is.
        let samples =
            unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<T>(), stride * height) };
        Ok(Plane {
            samples,
            stride,
            width,
            height,
        })
    }
}

impl Drop for Picture<'_> {
    fn drop(&mut self) {
        if let Some(pic) = &mut self.pic {
            // SAFETY: the picture was filled by `dav1d_get_picture` and is released once.
            unsafe { dav1d_picture_unref(Some(NonNull::from(pic))) };
        }
    }
}
