//! Images and tensors: the one place where photos are decoded and where 8-bit RGB pixels
//! become planar floats and back.

use std::io::Cursor;
use std::path::Path;

use candle_core::{Device, Result, Tensor};
use image::{ImageFormat, ImageReader, Limits, RgbImage};

use crate::error::NnError;

/// Largest width or height this crate decodes (a 16384 x 16384 RGB image is 768 MiB).
pub const MAX_SIDE: u32 = 16384;

/// Decodes an image file into 8-bit RGB: grayscale is replicated, alpha dropped, 16-bit scaled.
///
/// Errors name the file: missing, a directory, not an image, truncated, empty, or larger than
/// [`MAX_SIDE`] on a side (refused from the header, before decoding).
pub fn load_rgb(path: &Path) -> crate::Result<RgbImage> {
    let fail = |message: String| NnError::Image {
        path: path.to_path_buf(),
        message,
    };
    if path.is_dir() {
        return Err(fail("is a directory, not an image".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let reader = || ImageReader::new(Cursor::new(&bytes[..])).with_guessed_format();
    let format = reader()
        .map_err(|e| fail(e.to_string()))?
        .format()
        .ok_or_else(|| fail("not a recognised image format".into()))?;
    if format == ImageFormat::Jpeg && !jpeg_is_complete(&bytes) {
        return Err(fail(
            "truncated JPEG: no end-of-image marker after the last scan".into(),
        ));
    }
    let (width, height) = reader()
        .map_err(|e| fail(e.to_string()))?
        .into_dimensions()
        .map_err(|e| fail(format!("cannot read the image header: {e}")))?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(NnError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            limit: MAX_SIDE,
        });
    }
    if width == 0 || height == 0 {
        return Err(fail(format!("image has no pixels ({width} x {height})")));
    }
    let mut reader = reader().map_err(|e| fail(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(4 << 30);
    reader.limits(limits);
    let decoded = reader
        .decode()
        .map_err(|e| fail(format!("cannot decode: {e}")))?;
    Ok(decoded.to_rgb8())
}

/// True when an end-of-image marker (`FF D9`) follows the last start-of-scan (`FF DA`); entropy
/// coded data stuffs every `FF`, so a cut file has none there (lenient decoders fill the rest grey).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w == [0xff, marker]);
    match (last(0xda), last(0xd9)) {
        (Some(scan), Some(end)) => end > scan,
        (None, Some(_)) => true,
        _ => false,
    }
}

/// An RGB image as CHW floats, each 8-bit value mapped by `f`.
pub fn planar(image: &RgbImage, f: impl Fn(u8) -> f32) -> Vec<f32> {
    let mut out = vec![0f32; 3 * image.width() as usize * image.height() as usize];
    planar_into(image, &mut out, f);
    out
}

/// [`planar`] written into `out`, which holds exactly `3 * width * height` values (a batch
/// buffer's slot).
pub fn planar_into(image: &RgbImage, out: &mut [f32], f: impl Fn(u8) -> f32) {
    let plane = out.len() / 3;
    for (i, p) in image.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = f(p[c]);
        }
    }
}

/// An RGB image as CHW floats in `[-1, 1]` (the GAN's input convention).
pub fn to_signed_planar(image: &RgbImage) -> Vec<f32> {
    planar(image, |v| v as f32 / 127.5 - 1.0)
}

/// The inverse of [`to_signed_planar`], rounding and clamping to 8 bits; `None` when `data`
/// does not hold `3 * width * height` values.
pub fn from_signed_planar(data: &[f32], width: u32, height: u32) -> Option<RgbImage> {
    let n = (width * height) as usize;
    if data.len() != 3 * n {
        return None;
    }
    Some(RgbImage::from_fn(width, height, |x, y| {
        let i = (y * width + x) as usize;
        image::Rgb(std::array::from_fn(|c| {
            ((data[c * n + i] + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
        }))
    }))
}

/// An RGB image as a `(1, 3, H, W)` tensor in `[-1, 1]`.
pub fn to_tensor(image: &RgbImage, device: &Device) -> Result<Tensor> {
    let (w, h) = (image.width() as usize, image.height() as usize);
    Tensor::from_vec(to_signed_planar(image), (1, 3, h, w), device)
}

/// A `(1, C, H, W)` tensor in `[-1, 1]` as an RGB image (rounded, clamped); one channel is
/// repeated as grey.
pub fn to_image(tensor: &Tensor) -> Result<RgbImage> {
    let (_, c, h, w) = tensor.dims4()?;
    let rgb = match c {
        3 => tensor.clone(),
        1 => tensor.repeat((1, 3, 1, 1))?,
        _ => candle_core::bail!("to_image: {c} channels, expected 1 or 3"),
    };
    let data: Vec<f32> = rgb.flatten_all()?.to_vec1()?;
    from_signed_planar(&data, w as u32, h as u32).ok_or_else(|| {
        candle_core::Error::Msg(format!("to_image: {} values for {w}x{h}", data.len()))
    })
}
