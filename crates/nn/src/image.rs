//! Images and tensors: the one place where 8-bit RGB pixels become planar floats and back.

use candle_core::{Device, Result, Tensor};
use image::RgbImage;

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
