//! Loading photos from disk as 8-bit RGB, whatever their pixel format.

use std::path::Path;

use image::{ImageReader, Limits, RgbImage};

use crate::error::{AlignmentError, Result};

/// Largest width or height this crate decodes (a 16384 x 16384 RGB image is 768 MiB).
pub const MAX_SIDE: u32 = 16384;

/// Decodes an image file into 8-bit RGB: grayscale is replicated, alpha dropped, 16-bit scaled.
///
/// Errors name the file: missing, a directory, not an image, truncated, empty, or larger than
/// [`MAX_SIDE`] on a side (refused before decoding).
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    let fail = |message: String| AlignmentError::Image {
        path: path.to_path_buf(),
        message,
    };
    if path.is_dir() {
        return Err(fail("is a directory, not an image".into()));
    }
    let reader = ImageReader::open(path)
        .map_err(|e| fail(e.to_string()))?
        .with_guessed_format()
        .map_err(|e| fail(e.to_string()))?;
    if reader.format().is_none() {
        return Err(fail("not a recognised image format".into()));
    }
    let (width, height) = ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| fail(e.to_string()))?
        .into_dimensions()
        .map_err(|e| fail(format!("cannot read the image header: {e}")))?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(AlignmentError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            limit: MAX_SIDE,
        });
    }
    if width == 0 || height == 0 {
        return Err(fail(format!("image has no pixels ({width} x {height})")));
    }
    let mut reader = reader;
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
