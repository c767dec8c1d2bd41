//! Similarity-transform face alignment to a 5-point template (insightface / ArcFace style).

use image::{Rgb, RgbImage};

use crate::error::{AlignmentError, Result};

/// The ArcFace 112 x 112 template (insightface `arcface_dst`): eyes, nose, mouth corners.
pub const ARCFACE_112: [[f64; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// Where the five landmarks should land in a square crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Template {
    /// Side of the square crop in pixels.
    pub size: u32,
    /// Target landmark positions in crop pixels.
    pub points: [[f64; 2]; 5],
}

impl Template {
    /// The ArcFace template scaled to a `size` crop (112 = the recognition crop; 256 = the
    /// translation crop, of which the 112 crop is an exact resize).
    pub fn arcface(size: u32) -> Self {
        let r = size as f64 / 112.0;
        Self {
            size,
            points: ARCFACE_112.map(|[x, y]| [x * r, y * r]),
        }
    }

    /// insightface's `estimate_norm` template: ratio `size/112` when 112 divides `size`,
    /// otherwise ratio `size/128` with an x-shift of `8 * ratio` (256 -> ratio 2, +16 px).
    pub fn insightface(size: u32) -> Self {
        if size.is_multiple_of(112) {
            return Self::arcface(size);
        }
        let r = size as f64 / 128.0;
        Self {
            size,
            points: ARCFACE_112.map(|[x, y]| [x * r + 8.0 * r, y * r]),
        }
    }
}

/// A 2 x 3 affine matrix mapping image `(x, y)` to crop coordinates.
pub type Affine = [[f64; 3]; 2];

/// The least-squares similarity transform (rotation, uniform scale, translation; Umeyama
/// without reflection) taking `from` points onto `to` points.
pub fn similarity_transform(from: &[[f64; 2]; 5], to: &[[f64; 2]; 5]) -> Result<Affine> {
    let mean = |p: &[[f64; 2]; 5]| {
        let (sx, sy) = p.iter().fold((0.0, 0.0), |(a, b), q| (a + q[0], b + q[1]));
        [sx / 5.0, sy / 5.0]
    };
    let (mf, mt) = (mean(from), mean(to));
    let (mut a, mut b, mut var) = (0.0, 0.0, 0.0);
    for (p, q) in from.iter().zip(to) {
        let (px, py) = (p[0] - mf[0], p[1] - mf[1]);
        let (qx, qy) = (q[0] - mt[0], q[1] - mt[1]);
        a += px * qx + py * qy;
        b += px * qy - py * qx;
        var += px * px + py * py;
    }
    if var <= f64::EPSILON || !(a.is_finite() && b.is_finite()) {
        return Err(AlignmentError::DegenerateLandmarks(format!("{from:?}")));
    }
    let (c, s) = (a / var, b / var);
    Ok([
        [c, -s, mt[0] - (c * mf[0] - s * mf[1])],
        [s, c, mt[1] - (s * mf[0] + c * mf[1])],
    ])
}

/// Warps `image` by the inverse of `m` into a `size` x `size` crop: bilinear interpolation at
/// integer pixel centres, zero outside the image, rounded half up (as skimage `warp`, order 1).
pub fn warp_affine(image: &RgbImage, m: &Affine, size: u32) -> RgbImage {
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    let inv = [
        [m[1][1] / det, -m[0][1] / det],
        [-m[1][0] / det, m[0][0] / det],
    ];
    let (w, h) = (image.width() as i64, image.height() as i64);
    let pixel = |x: i64, y: i64| -> [f64; 3] {
        if x < 0 || y < 0 || x >= w || y >= h {
            [0.0; 3]
        } else {
            image.get_pixel(x as u32, y as u32).0.map(f64::from)
        }
    };
    RgbImage::from_fn(size, size, |u, v| {
        let (du, dv) = (u as f64 - m[0][2], v as f64 - m[1][2]);
        let sx = inv[0][0] * du + inv[0][1] * dv;
        let sy = inv[1][0] * du + inv[1][1] * dv;
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let (p00, p01, p10, p11) = (
            pixel(x0, y0),
            pixel(x0 + 1, y0),
            pixel(x0, y0 + 1),
            pixel(x0 + 1, y0 + 1),
        );
        Rgb(std::array::from_fn(|c| {
            let top = p00[c] * (1.0 - fx) + p01[c] * fx;
            let bottom = p10[c] * (1.0 - fx) + p11[c] * fx;
            let value = top * (1.0 - fy) + bottom * fy;
            (value + 0.5).floor().clamp(0.0, 255.0) as u8
        }))
    })
}

/// Aligns a face: the similarity transform from its landmarks to `template`, then the warp.
pub fn align(image: &RgbImage, landmarks: &[[f32; 2]; 5], template: &Template) -> Result<RgbImage> {
    let from = landmarks.map(|[x, y]| [x as f64, y as f64]);
    let m = similarity_transform(&from, &template.points)?;
    Ok(warp_affine(image, &m, template.size))
}
