//! How far apart twin crops are. MTCNN aligns a VIS photo and its NIR twin independently, so
//! their crops can be off by a few pixels; a pixel loss against such a target rewards a blurred
//! average. The offset is the whole-pixel shift that best lines the NIR crop's detail up with
//! the VIS crop's (normalised correlation of high-passed grey levels).

use image::{imageops, ImageBuffer, Luma, RgbImage};

/// A grey float image.
pub(crate) type Plane = ImageBuffer<Luma<f32>, Vec<f32>>;

/// Largest shift searched, as a fraction of the crop side (10 px at 256).
const MAX_SHIFT_FRACTION: f32 = 0.04;

/// The grey levels of `image` minus their blur: what is left is detail (edges, features), which
/// the two sensors share even where their brightness differs.
fn detail(image: &RgbImage) -> Plane {
    let (w, h) = image.dimensions();
    let grey = grey_plane(image);
    let low = imageops::blur(&grey, w as f32 / 56.0);
    Plane::from_fn(w, h, |x, y| {
        Luma([grey.get_pixel(x, y)[0] - low.get_pixel(x, y)[0]])
    })
}

/// The grey levels (ITU-R BT.601 luma, 0..1) of `image` as a float plane.
pub(crate) fn grey_plane(image: &RgbImage) -> Plane {
    let (w, h) = image.dimensions();
    Plane::from_fn(w, h, |x, y| {
        let p = image.get_pixel(x, y);
        Luma([(0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32) / 255.0])
    })
}

/// The shift `(dx, dy)` such that `nir(x + dx, y + dy)` best matches `vis(x, y)`.
pub fn twin_shift(vis: &RgbImage, nir: &RgbImage) -> (i64, i64) {
    let (w, h) = vis.dimensions();
    if nir.dimensions() != (w, h) {
        return (0, 0);
    }
    let m = (w.min(h) as f32 * MAX_SHIFT_FRACTION).round() as i64;
    let (w, h) = (w as i64, h as i64);
    if m == 0 || w <= 2 * m || h <= 2 * m {
        return (0, 0);
    }
    let (a, b) = (detail(vis), detail(nir));
    let (a, b) = (a.as_raw(), b.as_raw());
    let at = |p: &[f32], x: i64, y: i64| p[(y * w + x) as usize] as f64;
    let correlation = |dx: i64, dy: i64| {
        let (mut ab, mut aa, mut bb) = (0f64, 0f64, 0f64);
        for y in m..h - m {
            for x in m..w - m {
                let (u, v) = (at(a, x, y), at(b, x + dx, y + dy));
                ab += u * v;
                aa += u * u;
                bb += v * v;
            }
        }
        ab / (aa * bb).sqrt().max(1e-12)
    };
    let mut best = ((0, 0), correlation(0, 0));
    for dy in -m..=m {
        for dx in -m..=m {
            let c = correlation(dx, dy);
            if c > best.1 {
                best = ((dx, dy), c);
            }
        }
    }
    best.0
}

/// `image` moved so that its pixel `(x + dx, y + dy)` lands on `(x, y)`, edges repeated.
pub fn shifted(image: &RgbImage, (dx, dy): (i64, i64)) -> RgbImage {
    let (w, h) = image.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let sx = (x as i64 + dx).clamp(0, w as i64 - 1) as u32;
        let sy = (y as i64 + dy).clamp(0, h as i64 - 1) as u32;
        *image.get_pixel(sx, sy)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face-sized pattern of blobs and edges, recoverable after a shift.
    fn pattern(side: u32) -> RgbImage {
        RgbImage::from_fn(side, side, |x, y| {
            let (u, v) = (x as f32 / side as f32, y as f32 / side as f32);
            let g = 0.5 + 0.25 * (u * 23.0).sin() * (v * 17.0).cos() + 0.2 * ((u + v) * 41.0).sin();
            let g = (g.clamp(0.0, 1.0) * 255.0) as u8;
            image::Rgb([g, g / 2, 255 - g])
        })
    }

    #[test]
    fn the_shift_between_twins_is_found_and_undone() {
        let vis = pattern(112);
        for shift in [(0, 0), (2, -1), (-3, 3), (4, 0)] {
            let nir = shifted(&vis, (-shift.0, -shift.1));
            assert_eq!(twin_shift(&vis, &nir), shift);
        }
        assert_eq!(twin_shift(&vis, &pattern(64)), (0, 0), "sizes differ");
    }
}
