//! How close a translated image is to the true one: PSNR and SSIM as scikit-image computes
//! them (`peak_signal_noise_ratio`; `structural_similarity` with Wang et al.'s 2004 settings:
//! 11 x 11 Gaussian window of sigma 1.5, K1 0.01, K2 0.03, population covariances).

use crate::error::{MetricsError, Result};

/// An image as planes of `f64` samples: `channels` planes of `width * height`, row-major.
#[derive(Debug, Clone, Copy)]
pub struct Planes<'a> {
    /// The samples, plane after plane.
    pub data: &'a [f64],
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Planes (1 for grey, 3 for RGB).
    pub channels: usize,
}

impl Planes<'_> {
    fn check(&self, other: &Planes<'_>) -> Result<()> {
        let same =
            (self.width, self.height, self.channels) == (other.width, other.height, other.channels);
        let whole = self.data.len() == self.width * self.height * self.channels
            && other.data.len() == self.data.len();
        if !same || !whole || self.data.is_empty() {
            return Err(MetricsError::EmbeddingShape(format!(
                "images of {}x{}x{} ({} samples) and {}x{}x{} ({} samples) cannot be compared",
                self.width,
                self.height,
                self.channels,
                self.data.len(),
                other.width,
                other.height,
                other.channels,
                other.data.len()
            )));
        }
        Ok(())
    }

    fn plane(&self, c: usize) -> &[f64] {
        let n = self.width * self.height;
        &self.data[c * n..(c + 1) * n]
    }
}

/// Peak signal-to-noise ratio in dB over every sample (`inf` for identical images).
pub fn psnr(truth: Planes<'_>, test: Planes<'_>, data_range: f64) -> Result<f64> {
    truth.check(&test)?;
    let mse = truth
        .data
        .iter()
        .zip(test.data)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        / truth.data.len() as f64;
    Ok(10.0 * (data_range * data_range / mse).log10())
}

/// The window's weights: a Gaussian of sigma 1.5 truncated at 3.5 sigma (radius 5), as
/// `scipy.ndimage.gaussian_filter` builds it.
fn gaussian_weights() -> Vec<f64> {
    let sigma = 1.5f64;
    let radius = (3.5 * sigma + 0.5) as i64;
    let w: Vec<f64> = (-radius..=radius)
        .map(|x| (-0.5 * (x * x) as f64 / (sigma * sigma)).exp())
        .collect();
    let total: f64 = w.iter().sum();
    w.into_iter().map(|v| v / total).collect()
}

/// scipy's `reflect` mode: the edge sample is repeated (`d c b a | a b c d`).
fn reflect(i: i64, n: i64) -> usize {
    let period = 2 * n;
    let mut i = i.rem_euclid(period);
    if i >= n {
        i = period - 1 - i;
    }
    i as usize
}

/// Separable Gaussian filtering of one plane.
fn filter(plane: &[f64], width: usize, height: usize, w: &[f64]) -> Vec<f64> {
    let r = (w.len() / 2) as i64;
    let mut rows = vec![0.0; plane.len()];
    for y in 0..height {
        for x in 0..width {
            rows[y * width + x] = w
                .iter()
                .enumerate()
                .map(|(k, wk)| {
                    wk * plane[y * width + reflect(x as i64 + k as i64 - r, width as i64)]
                })
                .sum();
        }
    }
    let mut out = vec![0.0; plane.len()];
    for y in 0..height {
        for x in 0..width {
            out[y * width + x] = w
                .iter()
                .enumerate()
                .map(|(k, wk)| {
                    wk * rows[reflect(y as i64 + k as i64 - r, height as i64) * width + x]
                })
                .sum();
        }
    }
    out
}

/// Mean structural similarity, averaged over channels, over the pixels at least 5 from the
/// border (scikit-image crops the window's reach); images must be at least 11 x 11.
pub fn ssim(truth: Planes<'_>, test: Planes<'_>, data_range: f64) -> Result<f64> {
    truth.check(&test)?;
    let (width, height) = (truth.width, truth.height);
    if width < 11 || height < 11 {
        return Err(MetricsError::EmbeddingShape(format!(
            "SSIM needs images of at least 11 x 11, got {width} x {height}"
        )));
    }
    let w = gaussian_weights();
    let (c1, c2) = ((0.01 * data_range).powi(2), (0.03 * data_range).powi(2));
    let pad = 5;
    let mut total = 0.0;
    for c in 0..truth.channels {
        let (x, y) = (truth.plane(c), test.plane(c));
        let product =
            |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(p, q)| p * q).collect() };
        let ux = filter(x, width, height, &w);
        let uy = filter(y, width, height, &w);
        let uxx = filter(&product(x, x), width, height, &w);
        let uyy = filter(&product(y, y), width, height, &w);
        let uxy = filter(&product(x, y), width, height, &w);
        let mut sum = 0.0;
        let mut count = 0usize;
        for row in pad..height - pad {
            for col in pad..width - pad {
                let i = row * width + col;
                let (mx, my) = (ux[i], uy[i]);
                let vx = uxx[i] - mx * mx;
                let vy = uyy[i] - my * my;
                let vxy = uxy[i] - mx * my;
                let a = (2.0 * mx * my + c1) * (2.0 * vxy + c2);
                let b = (mx * mx + my * my + c1) * (vx + vy + c2);
                sum += a / b;
                count += 1;
            }
        }
        total += sum / count as f64;
    }
    Ok(total / truth.channels as f64)
}
