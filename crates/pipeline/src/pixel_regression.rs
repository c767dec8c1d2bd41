//! The simplest learned translators, as baselines for `cargo xtask bounds`: the mean training
//! NIR face, and a per-pixel linear colour map (each position's NIR colour as an affine
//! function of the VIS colour at that position) fitted by least squares on the training twins.
//! They say what pixel error a translator gets without modelling any face.

use image::{Rgb, RgbImage};

use crate::split::SubjectPair;

/// Ridge added to each position's normal equations (pixel values in 0..1), so that a position
/// whose colour never varies over the training set still has a unique solution.
const RIDGE: f64 = 1e-3;

/// The per-position mean of the training NIR crops; `None` without pairs or when their sizes
/// differ.
pub fn mean_nir_face(train: &[SubjectPair]) -> Option<RgbImage> {
    let (w, h) = train.first()?.nir.dimensions();
    if train.iter().any(|p| p.nir.dimensions() != (w, h)) {
        return None;
    }
    let mut sum = vec![0f64; (w * h * 3) as usize];
    for pair in train {
        for (s, &v) in sum.iter_mut().zip(pair.nir.as_raw()) {
            *s += v as f64;
        }
    }
    let n = train.len() as f64;
    let raw = sum.iter().map(|s| (s / n).round() as u8).collect();
    RgbImage::from_raw(w, h, raw)
}

/// A per-position affine colour map `nir = W_p [r, g, b, 1]`, fitted on training twins.
pub struct PixelRegression {
    side: u32,
    /// Per position, the 4 x 3 coefficients (row-major: input r, g, b, 1; output r, g, b).
    coefficients: Vec<[[f64; 3]; 4]>,
}

impl PixelRegression {
    /// Least squares (with a small ridge) at every position over the square `train` twins;
    /// `None` without pairs or when their sizes differ.
    pub fn fit(train: &[SubjectPair]) -> Option<Self> {
        let side = train.first()?.vis.width();
        let square = |im: &RgbImage| im.dimensions() == (side, side);
        if !train.iter().all(|p| square(&p.vis) && square(&p.nir)) {
            return None;
        }
        let positions = (side * side) as usize;
        let mut xtx = vec![[[0f64; 4]; 4]; positions];
        let mut xty = vec![[[0f64; 3]; 4]; positions];
        for pair in train {
            let (vis, nir) = (pair.vis.as_raw(), pair.nir.as_raw());
            for p in 0..positions {
                let x = features(&vis[3 * p..3 * p + 3]);
                for i in 0..4 {
                    for j in 0..4 {
                        xtx[p][i][j] += x[i] * x[j];
                    }
                    for c in 0..3 {
                        xty[p][i][c] += x[i] * nir[3 * p + c] as f64 / 255.0;
                    }
                }
            }
        }
        let coefficients = xtx
            .into_iter()
            .zip(xty)
            .map(|(mut a, b)| {
                (0..4).for_each(|i| a[i][i] += RIDGE);
                solve(a, b)
            })
            .collect();
        Some(Self { side, coefficients })
    }

    /// The map applied to a VIS crop of the fitted size (`None` for another size).
    pub fn apply(&self, vis: &RgbImage) -> Option<RgbImage> {
        if vis.dimensions() != (self.side, self.side) {
            return None;
        }
        Some(RgbImage::from_fn(self.side, self.side, |x, y| {
            let p = (y * self.side + x) as usize;
            let f = features(&vis.get_pixel(x, y).0);
            let w = &self.coefficients[p];
            Rgb(std::array::from_fn(|c| {
                let v: f64 = (0..4).map(|i| f[i] * w[i][c]).sum();
                (v.clamp(0.0, 1.0) * 255.0).round() as u8
            }))
        }))
    }
}

/// `[r, g, b, 1]` on 0..1.
fn features(rgb: &[u8]) -> [f64; 4] {
    [
        rgb[0] as f64 / 255.0,
        rgb[1] as f64 / 255.0,
        rgb[2] as f64 / 255.0,
        1.0,
    ]
}

/// Solves the symmetric positive definite `a x = b` (4 x 4, three right-hand sides) by
/// Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; 4]; 4], mut b: [[f64; 3]; 4]) -> [[f64; 3]; 4] {
    for k in 0..4 {
        let pivot = (k..4)
            .max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))
            .unwrap_or(k);
        a.swap(k, pivot);
        b.swap(k, pivot);
        let (row_a, row_b) = (a[k], b[k]);
        for i in k + 1..4 {
            let f = a[i][k] / row_a[k];
            for (v, p) in a[i].iter_mut().zip(row_a).skip(k) {
                *v -= f * p;
            }
            for (v, p) in b[i].iter_mut().zip(row_b) {
                *v -= f * p;
            }
        }
    }
    let mut x = [[0f64; 3]; 4];
    for k in (0..4).rev() {
        for c in 0..3 {
            let s: f64 = (k + 1..4).map(|j| a[k][j] * x[j][c]).sum();
            x[k][c] = (b[k][c] - s) / a[k][k];
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(vis: RgbImage, nir: RgbImage) -> SubjectPair {
        SubjectPair {
            subject: "s".into(),
            vis,
            nir,
        }
    }

    #[test]
    fn the_regression_recovers_a_per_position_affine_map() {
        // NIR = 0.2 r + 0.5 g + 0.1 b + 0.1 + (x / 20) in every channel: affine at each
        // position with a position-dependent offset, which the fit must recover exactly.
        let side = 4;
        let truth = |x: u32, c: [u8; 3]| -> f64 {
            0.2 * c[0] as f64 / 255.0
                + 0.5 * c[1] as f64 / 255.0
                + 0.1 * c[2] as f64 / 255.0
                + 0.1
                + x as f64 / 20.0
        };
        let train: Vec<SubjectPair> = (0..12u32)
            .map(|k| {
                let vis = RgbImage::from_fn(side, side, |x, y| {
                    Rgb([
                        ((k * 37 + x * 11 + y * 5) % 256) as u8,
                        ((k * 91 + y * 13) % 256) as u8,
                        ((k * k * 7 + x) % 256) as u8,
                    ])
                });
                let nir = RgbImage::from_fn(side, side, |x, y| {
                    let g = (truth(x, vis.get_pixel(x, y).0) * 255.0).round() as u8;
                    Rgb([g, g, g])
                });
                pair(vis, nir)
            })
            .collect();
        let fit = PixelRegression::fit(&train).unwrap();
        let probe = RgbImage::from_fn(side, side, |x, y| Rgb([(x * 60) as u8, (y * 50) as u8, 77]));
        let out = fit.apply(&probe).unwrap();
        for (x, y, p) in out.enumerate_pixels() {
            let want = truth(x, probe.get_pixel(x, y).0) * 255.0;
            for c in p.0 {
                assert!((c as f64 - want).abs() <= 1.5, "({x}, {y}): {c} vs {want}");
            }
        }
        assert!(fit.apply(&RgbImage::new(5, 5)).is_none());
    }

    #[test]
    fn the_mean_face_averages_every_position() {
        let a = RgbImage::from_pixel(2, 2, Rgb([10, 20, 30]));
        let b = RgbImage::from_pixel(2, 2, Rgb([30, 40, 51]));
        let mean = mean_nir_face(&[pair(a.clone(), a), pair(b.clone(), b)]).unwrap();
        assert_eq!(mean.get_pixel(1, 1).0, [20, 30, 41]);
        assert!(mean_nir_face(&[]).is_none());
        let (big, small) = (RgbImage::new(2, 2), RgbImage::new(1, 1));
        assert!(mean_nir_face(&[pair(big.clone(), big), pair(small.clone(), small)]).is_none());
    }
}
