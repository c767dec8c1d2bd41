//! Loading photos from disk as 8-bit RGB, whatever their pixel format.

use std::io::Cursor;
use std::path::Path;

use image::{ImageFormat, ImageReader, Limits, RgbImage};

use crate::error::{AlignmentError, Result};

/// Largest width or height this crate decodes (a 16384 x 16384 RGB image is 768 MiB).
pub const MAX_SIDE: u32 = 16384;

/// Decodes an image file into 8-bit RGB: grayscale is replicated, alpha dropped, 16-bit scaled.
///
/// Errors name the file: missing, a directory, not an image, truncated, empty, or larger than
/// [`MAX_SIDE`] on a side (refused from the header, before decoding).
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    let fail = |message: String| AlignmentError::Image {
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
