//! The Fréchet distance between two sets of embeddings, each summarised by a Gaussian (mean and
//! sample covariance): `|mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))`, the formula of FID
//! computed here in any embedding space (the pipeline uses MobileFaceNet's, not Inception's).

use crate::error::{MetricsError, Result};

/// Mean and sample covariance (divisor n - 1) of `n` rows of `dim` values.
fn moments(rows: &[f32], dim: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    if dim == 0 || !rows.len().is_multiple_of(dim) || rows.len() / dim < 2 {
        return Err(MetricsError::EmbeddingShape(format!(
            "{} values are not at least two rows of {dim}",
            rows.len()
        )));
    }
    let n = rows.len() / dim;
    let mut mean = vec![0.0; dim];
    for row in rows.chunks(dim) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut cov = vec![0.0; dim * dim];
    for row in rows.chunks(dim) {
        let centred: Vec<f64> = row.iter().zip(&mean).map(|(&v, m)| v as f64 - m).collect();
        for i in 0..dim {
            for j in i..dim {
                cov[i * dim + j] += centred[i] * centred[j];
            }
        }
    }
    for i in 0..dim {
        for j in i..dim {
            let v = cov[i * dim + j] / (n - 1) as f64;
            cov[i * dim + j] = v;
            cov[j * dim + i] = v;
        }
    }
    Ok((mean, cov))
}

/// Eigenvalues and eigenvectors (columns of the returned matrix) of a symmetric matrix, by
/// cyclic Jacobi rotations.
fn symmetric_eigen(matrix: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = matrix.to_vec();
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    let scale: f64 = a
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum::<f64>()
            .sqrt();
        if off <= 1e-15 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let t = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// `tr((S1 S2)^(1/2))` as the sum of the square roots of the eigenvalues of the symmetric
/// `S1^(1/2) S2 S1^(1/2)` (negative rounding residues count as 0).
fn trace_sqrt_product(s1: &[f64], s2: &[f64], n: usize) -> f64 {
    let (values, vectors) = symmetric_eigen(s1, n);
    let roots: Vec<f64> = values.iter().map(|v| v.max(0.0).sqrt()).collect();
    let mut half = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            half[i * n + j] = (0..n)
                .map(|k| vectors[i * n + k] * roots[k] * vectors[j * n + k])
                .sum();
        }
    }
    let mut tmp = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            tmp[i * n + j] = (0..n).map(|k| half[i * n + k] * s2[k * n + j]).sum();
        }
    }
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            m[i * n + j] = (0..n).map(|k| tmp[i * n + k] * half[k * n + j]).sum();
        }
    }
    for i in 0..n {
        for j in i + 1..n {
            let avg = 0.5 * (m[i * n + j] + m[j * n + i]);
            m[i * n + j] = avg;
            m[j * n + i] = avg;
        }
    }
    symmetric_eigen(&m, n)
        .0
        .iter()
        .map(|v| v.max(0.0).sqrt())
        .sum()
}

/// The Fréchet distance between the Gaussians fitted to two embedding sets (rows of `dim`).
pub fn frechet_distance(a: &[f32], b: &[f32], dim: usize) -> Result<f64> {
    let (mu1, s1) = moments(a, dim)?;
    let (mu2, s2) = moments(b, dim)?;
    let mean_term: f64 = mu1.iter().zip(&mu2).map(|(x, y)| (x - y) * (x - y)).sum();
    let trace = |s: &[f64]| (0..dim).map(|i| s[i * dim + i]).sum::<f64>();
    Ok(mean_term + trace(&s1) + trace(&s2) - 2.0 * trace_sqrt_product(&s1, &s2, dim))
}
