//! The camera: maps every pixel back through the head pose into the canonical face, shades it
//! under visible key light or the NIR camera's frontal illuminator, and adds the sensor's blur,
//! gain and noise.

use image::{GrayImage, RgbImage};

use super::face::{Face, Material};
use super::identity::Identity;
use super::noise::{fbm, lattice};
use super::scene::{Pose, Scene};

/// Which sensor an image is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sensor {
    Vis,
    Nir,
}

/// A shaded sample: RGB for VIS (NIR uses the first channel).
type Sample = [f32; 3];

struct View<'a> {
    face: Face<'a>,
    pose: Pose,
    scene: &'a Scene,
    width: u32,
    height: u32,
}

impl View<'_> {
    /// Canonical `(u, v)` seen at pixel `(px, py)`, solving the depth-dependent pose shift.
    fn canonical(&self, px: f32, py: f32) -> (f32, f32) {
        let p = self.pose;
        let (x0, y0) = ((px - p.centre.0) / p.scale, (py - p.centre.1) / p.scale);
        let (sr, cr) = p.roll.sin_cos();
        let (x, y) = (x0 * cr + y0 * sr, -x0 * sr + y0 * cr);
        let (sy, cy) = p.yaw.sin_cos();
        let (sp, cp) = p.pitch.sin_cos();
        let (mut u, mut v) = (x / cy, y / cp);
        for it in 0..5 {
            let z = self.face.height(u, v);
            if it == 0 && z == 0.0 {
                // Flat there: (u, v) is already the fixed point.
                break;
            }
            let (un, vn) = ((x - z * sy) / cy, (y + z * sp) / cp);
            let damp = if it == 0 { 1.0 } else { 0.6 };
            u += damp * (un - u);
            v += damp * (vn - v);
        }
        (u, v)
    }

    /// Surface normal in camera space at canonical `(u, v)`.
    fn normal(&self, u: f32, v: f32) -> [f32; 3] {
        let e = 0.01;
        let z = self.face.height(u, v);
        let zu = (self.face.height(u + e, v) - z) / e;
        let zv = (self.face.height(u, v + e) - z) / e;
        let len = (zu * zu + zv * zv + 1.0).sqrt();
        let (nx, ny, nz) = (-zu / len, -zv / len, 1.0 / len);
        let p = self.pose;
        let (sy, cy) = p.yaw.sin_cos();
        let (sp, cp) = p.pitch.sin_cos();
        let (sr, cr) = p.roll.sin_cos();
        let (nx, nz) = (nx * cy + nz * sy, -nx * sy + nz * cy);
        let (ny, nz) = (ny * cp - nz * sp, ny * sp + nz * cp);
        [nx * cr - ny * sr, nx * sr + ny * cr, nz]
    }

    fn background(&self, px: f32, py: f32) -> Material {
        let (a, b, seed) = self.scene.background;
        let t = (px / self.width as f32 * 0.6 + py / self.height as f32 * 0.4).clamp(0.0, 1.0);
        let blotch = 0.75 + 0.5 * fbm(px / 50.0, py / 50.0, seed, 3);
        Material {
            vis: [
                (a[0] + (b[0] - a[0]) * t) * blotch,
                (a[1] + (b[1] - a[1]) * t) * blotch,
                (a[2] + (b[2] - a[2]) * t) * blotch,
            ],
            nir: 0.35 * blotch,
            spec: 0.0,
            shaded: false,
        }
    }

    fn shade(&self, px: f32, py: f32, sensor: Sensor) -> Sample {
        let (u, v) = self.canonical(px, py);
        let m = self.face.material(u, v, &|| self.background(px, py));
        let n = if m.shaded {
            self.normal(u, v)
        } else {
            [0.0, 0.0, 1.0]
        };
        match sensor {
            Sensor::Vis => {
                let (l, strength) = self.scene.light;
                let ndl = n[0] * l[0] + n[1] * l[1] + n[2] * l[2];
                let diffuse = ((ndl + 0.35) / 1.35).max(0.0);
                let lit = if m.shaded {
                    0.3 + 0.75 * strength * diffuse
                } else if m.spec == 0.0 && self.face.height(u, v) > 0.0 {
                    0.85
                } else {
                    1.0
                };
                let h = [l[0], l[1], l[2] + 1.0];
                let hl = (h[0] * h[0] + h[1] * h[1] + h[2] * h[2]).sqrt();
                let ndh = ((n[0] * h[0] + n[1] * h[1] + n[2] * h[2]) / hl).max(0.0);
                let spec = m.spec * 0.3 * strength * ndh.powi(24);
                [
                    m.vis[0] * lit + spec,
                    m.vis[1] * lit + spec,
                    m.vis[2] * lit + spec,
                ]
            }
            Sensor::Nir => {
                let (r0, _, _) = self.scene.nir_optics;
                let (dx, dy) = (px - self.pose.centre.0, py - self.pose.centre.1);
                let falloff = 1.5 / (1.0 + (dx * dx + dy * dy) / (r0 * r0));
                let ndv = n[2].max(0.0);
                let g = if m.shaded {
                    m.nir * (0.2 + 0.8 * ndv) + m.spec * 0.25 * ndv.powi(30)
                } else {
                    m.nir * 0.9
                };
                [g * falloff; 3]
            }
        }
    }

    fn render(&self, sensor: Sensor) -> Vec<Sample> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut out = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                out.push(self.shade(x as f32 + 0.5, y as f32 + 0.5, sensor));
            }
        }
        out
    }
}

/// Separable Gaussian blur of a planar image with `sigma` pixels (radius 2 sigma).
fn blur(samples: &mut [Sample], width: usize, height: usize, sigma: f32) {
    let radius = (2.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|k| (-(k * k) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = kernel.iter().sum();
    let mut tmp = samples.to_vec();
    for pass in 0..2 {
        let src = if pass == 0 { &*samples } else { &tmp };
        let mut dst = vec![[0.0; 3]; samples.len()];
        for y in 0..height {
            for x in 0..width {
                let mut acc = [0.0f32; 3];
                for (k, weight) in kernel.iter().enumerate() {
                    let o = k as isize - radius;
                    let (sx, sy) = if pass == 0 {
                        ((x as isize + o).clamp(0, width as isize - 1) as usize, y)
                    } else {
                        (x, (y as isize + o).clamp(0, height as isize - 1) as usize)
                    };
                    let s = src[sy * width + sx];
                    for c in 0..3 {
                        acc[c] += weight * s[c];
                    }
                }
                dst[y * width + x] = [acc[0] / total, acc[1] / total, acc[2] / total];
            }
        }
        if pass == 0 {
            tmp = dst;
        } else {
            samples.copy_from_slice(&dst);
        }
    }
}

/// Zero-mean noise with unit variance (sum of four uniforms) for one pixel.
fn sensor_noise(x: usize, y: usize, channel: u32, seed: u32) -> f32 {
    let s: f32 = (0..4)
        .map(|k| lattice(x as i32, y as i32, seed.wrapping_add(channel * 4 + k)))
        .sum();
    (s - 2.0) * 3f32.sqrt()
}

fn quantise(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// Renders the VIS photo and its NIR twin of `id` in `scene` at `width` x `height`.
pub fn render_pair(id: &Identity, scene: &Scene, width: u32, height: u32) -> (RgbImage, GrayImage) {
    let view = |pose| View {
        face: Face::new(id, scene.expression, scene.gaze),
        pose,
        scene,
        width,
        height,
    };
    let (w, h) = (width as usize, height as usize);
    let mut vis = view(scene.pose).render(Sensor::Vis);
    blur(&mut vis, w, h, 0.5);
    let vis_image = RgbImage::from_fn(width, height, |x, y| {
        let s = vis[y as usize * w + x as usize];
        image::Rgb(std::array::from_fn(|c| {
            quantise(
                s[c] + 0.008 * sensor_noise(x as usize, y as usize, c as u32, scene.noise_seed),
            )
        }))
    });
    let (dx, dy, ds) = scene.nir_offset;
    let nir_pose = Pose {
        scale: scene.pose.scale * ds,
        centre: (scene.pose.centre.0 + dx, scene.pose.centre.1 + dy),
        ..scene.pose
    };
    let mut nir = view(nir_pose).render(Sensor::Nir);
    let (_, sigma_noise, sigma_blur) = scene.nir_optics;
    blur(&mut nir, w, h, sigma_blur);
    let mut sorted: Vec<f32> = nir.iter().map(|s| s[0]).collect();
    let k = ((sorted.len() as f32 * 0.99) as usize).min(sorted.len().saturating_sub(1));
    let p99 = if sorted.is_empty() {
        1.0
    } else {
        *sorted.select_nth_unstable_by(k, f32::total_cmp).1
    };
    let gain = 0.92 / p99.max(1e-3);
    let nir_image = GrayImage::from_fn(width, height, |x, y| {
        let g = nir[y as usize * w + x as usize][0] * gain;
        let noise = sigma_noise * sensor_noise(x as usize, y as usize, 9, scene.noise_seed);
        image::Luma([quantise(g + noise)])
    });
    (vis_image, nir_image)
}
