//! Images and tensors: the one place where photos are decoded and where 8-bit RGB pixels
//! become planar floats and back.

use std::io::Cursor;
use std::path::Path;

use candle_core::{Device, Result, Tensor};
use image::{ImageFormat, ImageReader, Limits, RgbImage};

use crate::error::NnError;

/// Largest width or height decoded (a 16384 x 16384 RGB image is 768 MiB).
pub const MAX_SIDE: u32 = 16384;

/// Default largest pixel count decoded (40 megapixels: any camera photo; 120 MB as RGB).
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

/// Largest weight or checkpoint file read (bytes).
pub const MAX_WEIGHT_FILE_BYTES: u64 = 4 << 30;

/// Largest image file read (bytes).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// The environment variable that raises (or lowers) [`DEFAULT_MAX_PIXELS`].
pub const MAX_PIXELS_VAR: &str = "VISNIR_MAX_PIXELS";

/// The pixel budget of one decoded image: `VISNIR_MAX_PIXELS` if set to a number, else
/// [`DEFAULT_MAX_PIXELS`].
pub fn max_pixels() -> u64 {
    std::env::var(MAX_PIXELS_VAR)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_MAX_PIXELS)
}

/// Reads a whole user-given file of at most `limit` bytes, refusing what is not a regular file
/// (a directory, a FIFO, a device: reading those can hang or never end). The error message
/// says why, without the path (callers name the file in their own error type).
pub fn read_regular_file(path: &Path, limit: u64) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(if meta.is_dir() {
            "is a directory, not a file".into()
        } else {
            "is not a regular file (a FIFO, socket or device)".into()
        });
    }
    let too_big = || {
        format!(
            "is larger than {} MiB, the most visnir reads here",
            limit >> 20
        )
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Reads a file that is meant to hold an image: [`read_regular_file`] with [`MAX_FILE_BYTES`].
/// Errors name the file.
pub fn read_image_file(path: &Path) -> crate::Result<Vec<u8>> {
    read_regular_file(path, MAX_FILE_BYTES).map_err(|message| NnError::Image {
        path: path.to_path_buf(),
        message,
    })
}

/// Decodes an image file into 8-bit RGB: grayscale is replicated, alpha dropped, 16-bit scaled.
///
/// Errors name the file: missing, not a regular file, not an image, truncated, empty, or over
/// the size budget ([`MAX_SIDE`] per side, [`max_pixels`] in all; refused from the header,
/// before decoding).
pub fn load_rgb(path: &Path) -> crate::Result<RgbImage> {
    decode_rgb(&read_image_file(path)?, path)
}

/// [`load_rgb`] of bytes already read from `path` (named in errors).
pub fn decode_rgb(bytes: &[u8], path: &Path) -> crate::Result<RgbImage> {
    let fail = |message: String| NnError::Image {
        path: path.to_path_buf(),
        message,
    };
    let reader = || ImageReader::new(Cursor::new(bytes)).with_guessed_format();
    let format = reader()
        .map_err(|e| fail(e.to_string()))?
        .format()
        .ok_or_else(|| fail("not a recognised image format".into()))?;
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(fail(
            "truncated JPEG: no end-of-image marker after the last scan".into(),
        ));
    }
    let (width, height) = reader()
        .map_err(|e| fail(e.to_string()))?
        .into_dimensions()
        .map_err(|e| fail(format!("cannot read the image header: {e}")))?;
    let budget = max_pixels();
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > budget {
        return Err(NnError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            max_side: MAX_SIDE,
            max_pixels: budget,
        });
    }
    if width == 0 || height == 0 {
        return Err(fail(format!("image has no pixels ({width} x {height})")));
    }
    let mut reader = reader().map_err(|e| fail(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // 16-bit RGBA is the widest layout a decoder produces: 8 bytes a pixel, plus its buffers.
    limits.max_alloc = Some((u64::from(width) * u64::from(height) * 8).max(64 << 20));
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
