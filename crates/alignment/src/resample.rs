//! Area resampling as PyTorch's `interpolate(mode="area")` (adaptive average pooling): output
//! cell `i` averages input cells `floor(i*I/O) .. ceil((i+1)*I/O)` with equal weights.

use rayon::prelude::*;

/// A planar float image: `channels` planes of `height` x `width`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Planar {
    /// Number of planes.
    pub channels: usize,
    /// Rows per plane.
    pub height: usize,
    /// Columns per plane.
    pub width: usize,
    /// `channels * height * width` values.
    pub data: Vec<f32>,
}

impl Planar {
    /// The pixels of an RGB image as three float planes in 0..=255.
    pub fn from_rgb(image: &image::RgbImage) -> Self {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let mut data = vec![0f32; 3 * width * height];
        let plane = width * height;
        for (i, pixel) in image.pixels().enumerate() {
            for c in 0..3 {
                data[c * plane + i] = pixel.0[c] as f32;
            }
        }
        Self {
            channels: 3,
            height,
            width,
            data,
        }
    }

    /// The sub-image of rows `y0..y1` and columns `x0..x1` (all inside the image).
    pub fn crop(&self, y0: usize, y1: usize, x0: usize, x1: usize) -> Self {
        let (h, w) = (y1 - y0, x1 - x0);
        let mut data = Vec::with_capacity(self.channels * h * w);
        for c in 0..self.channels {
            for y in y0..y1 {
                let row = (c * self.height + y) * self.width;
                data.extend_from_slice(&self.data[row + x0..row + x1]);
            }
        }
        Self {
            channels: self.channels,
            height: h,
            width: w,
            data,
        }
    }

    /// Area-resamples to `height` x `width` (both at least 1).
    pub fn resize_area(&self, height: usize, width: usize) -> Self {
        let columns = windows(self.width, width);
        let rows = windows(self.height, height);
        let mut horizontal = vec![0f32; self.channels * self.height * width];
        let band = 64;
        let horizontal_band = |(dst, src): (&mut [f32], &[f32])| {
            for (src, dst) in src
                .chunks_exact(self.width)
                .zip(dst.chunks_exact_mut(width))
            {
                for (out, &(a, b)) in dst.iter_mut().zip(&columns) {
                    *out = src[a..b].iter().sum::<f32>() / (b - a) as f32;
                }
            }
        };
        let mut data = vec![0f32; self.channels * height * width];
        let plane_in = self.height * width;
        let vertical_plane = |horizontal: &[f32], c: usize, dst: &mut [f32]| {
            let src = &horizontal[c * plane_in..(c + 1) * plane_in];
            for (out_row, &(a, b)) in dst.chunks_exact_mut(width).zip(&rows) {
                let scale = 1.0 / (b - a) as f32;
                for y in a..b {
                    for (o, &v) in out_row.iter_mut().zip(&src[y * width..(y + 1) * width]) {
                        *o += v;
                    }
                }
                out_row.iter_mut().for_each(|o| *o *= scale);
            }
        };
        // Small images (crops) in one go: a parallel split would cost more than it saves.
        if self.data.len() >= PARALLEL_VALUES {
            horizontal
                .par_chunks_mut(width * band)
                .zip(self.data.par_chunks(self.width * band))
                .for_each(horizontal_band);
            data.par_chunks_mut(height * width)
                .enumerate()
                .for_each(|(c, dst)| vertical_plane(&horizontal, c, dst));
        } else {
            horizontal
                .chunks_mut(width * band)
                .zip(self.data.chunks(self.width * band))
                .for_each(horizontal_band);
            data.chunks_mut(height * width)
                .enumerate()
                .for_each(|(c, dst)| vertical_plane(&horizontal, c, dst));
        }
        Self {
            channels: self.channels,
            height,
            width,
            data,
        }
    }
}

/// Values from which [`Planar::resize_area`] splits its work over the rayon pool.
const PARALLEL_VALUES: usize = 1 << 18;

/// The input window `[start, end)` of every output cell.
fn windows(input: usize, output: usize) -> Vec<(usize, usize)> {
    (0..output)
        .map(|i| (i * input / output, ((i + 1) * input).div_ceil(output)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_adaptive_average_pooling() {
        let data: Vec<f32> = (0..15).map(|v| v as f32).collect();
        let p = Planar {
            channels: 1,
            height: 3,
            width: 5,
            data,
        };
        let r = p.resize_area(2, 2);
        // rows [0,2) and [1,3); columns [0,3) and [2,5)
        let cell = |rows: [usize; 2], cols: [usize; 3]| {
            let mut s = 0.0;
            for r in rows {
                for c in cols {
                    s += (r * 5 + c) as f32;
                }
            }
            s / 6.0
        };
        let want = [
            cell([0, 1], [0, 1, 2]),
            cell([0, 1], [2, 3, 4]),
            cell([1, 2], [0, 1, 2]),
            cell([1, 2], [2, 3, 4]),
        ];
        for (g, w) in r.data.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
        let up = p.resize_area(6, 10);
        assert_eq!(up.data[0], 0.0);
        assert_eq!(up.data[59], 14.0);
    }
}
