//! The canonical face: a height field (head ellipsoid, brow ridge, eye sockets, nose, cheeks,
//! lips, chin) and the materials on it, each with a visible colour and an NIR reflectance.

use super::identity::{HairStyle, Identity};
use super::noise::{bump, fbm, smoothstep, value};
use super::scene::Expression;

/// Vertical position of the head ellipse's centre.
const HEAD_V0: f32 = -0.15;

/// Reflectance of one surface point in both spectra, plus how shiny it is.
#[derive(Debug, Clone, Copy)]
pub struct Material {
    /// Visible-light albedo.
    pub vis: [f32; 3],
    /// NIR albedo.
    pub nir: f32,
    /// Specular strength.
    pub spec: f32,
    /// Whether the point is lit as a curved surface (false for the flat background).
    pub shaded: bool,
}

/// A subject wearing an expression, evaluated in canonical coordinates.
pub struct Face<'a> {
    id: &'a Identity,
    ex: Expression,
    gaze: (f32, f32),
}

fn mix3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn scale3(a: [f32; 3], s: f32) -> [f32; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

impl<'a> Face<'a> {
    /// The subject `id` with expression `ex` looking `gaze` off-centre.
    pub fn new(id: &'a Identity, ex: Expression, gaze: (f32, f32)) -> Self {
        Self { id, ex, gaze }
    }

    /// Normalised squared radius of the head outline (< 1 inside), with the jaw taper.
    fn head_r2(&self, u: f32, v: f32) -> f32 {
        let id = self.id;
        let bottom = HEAD_V0 + id.height;
        let t = ((v - 0.2) / (bottom - 0.2)).clamp(0.0, 1.0);
        let a = id.width * (1.0 - id.jaw_taper * t * t);
        let dv = (v - HEAD_V0) / id.height;
        (u / a).powi(2) + dv * dv
    }

    fn sockets(&self, u: f32, v: f32) -> f32 {
        let (ex, ey) = self.id.eye;
        bump(((u.abs() - ex) / 0.2).powi(2) + ((v - ey) / 0.12).powi(2))
    }

    /// Height above the image plane at canonical `(u, v)`.
    pub fn height(&self, u: f32, v: f32) -> f32 {
        let id = self.id;
        let r2 = self.head_r2(u, v);
        if r2 >= 1.0 {
            let neck = 0.42 * id.width;
            return if u.abs() < neck && v > 0.4 {
                0.35 * id.depth * (1.0 - (u / neck).powi(2)).max(0.0).sqrt()
            } else {
                0.0
            };
        }
        let ey = id.eye.1;
        let inside = smoothstep(1.0, 0.6, r2);
        let mut z = id.depth * (1.0 - r2).sqrt();
        let brow_v = ey - 0.2 - 0.04 * self.ex.brow_raise;
        z += 0.07 * bump(((v - brow_v) / 0.08).powi(2) + (u / 0.75).powi(4)) * inside;
        z -= 0.09 * self.sockets(u, v) * inside;
        let (ny, nw, nh) = id.nose;
        let top = ey - 0.05;
        let t = ((v - top) / (ny - top)).clamp(0.0, 1.0);
        let w = 0.05 + (nw - 0.05) * t * t;
        z += if v <= ny {
            nh * t.powf(1.6) * bump((u / w).powi(2))
        } else {
            nh * bump((u / w).powi(2) + ((v - ny) / 0.07).powi(2))
        };
        z += (0.05 + 0.02 * self.ex.sneer)
            * bump(((u.abs() - nw * 0.9) / 0.06).powi(2) + ((v - ny + 0.01) / 0.06).powi(2));
        let (cheek, chin) = id.cheeks;
        z += (0.06 + cheek)
            * bump(
                ((u.abs() - 0.52) / 0.24).powi(2)
                    + ((v - 0.32 + 0.08 * self.ex.smile) / 0.2).powi(2),
            )
            * inside;
        let (my, mw, _, _) = id.mouth;
        z += 0.05 * bump((u / mw).powi(4) + ((v - my) / 0.09).powi(2));
        z += chin * bump((u / 0.25).powi(2) + ((v - (HEAD_V0 + id.height - 0.17)) / 0.12).powi(2));
        z
    }

    /// The material at canonical `(u, v)`; `background` gives the backdrop there.
    pub fn material(&self, u: f32, v: f32, background: &dyn Fn() -> Material) -> Material {
        let id = self.id;
        let r2 = self.head_r2(u, v);
        let style = id.hair.2;
        if r2 < 1.0 {
            if self.is_hair_on_head(u, v, r2) {
                return self.hair(u, v);
            }
            return self.skin_feature(u, v);
        }
        if self.is_hair_outside(u, v) {
            return self.hair(u, v);
        }
        let ey = id.eye.1;
        let ear = ((u.abs() - id.width * 0.98) / 0.13).powi(2) + ((v - ey - 0.12) / 0.25).powi(2);
        if ear < 1.0 && style != HairStyle::Bob && style != HairStyle::Long {
            let shade = 0.85 + 0.15 * smoothstep(1.0, 0.3, ear);
            return Material {
                vis: scale3(id.skin_vis(), 0.9 * shade),
                nir: id.skin_nir() * 0.92 * shade,
                spec: 0.1,
                shaded: true,
            };
        }
        let collar = 1.5 + 0.1 * u * u - 0.2 * bump((u / 0.3).powi(2));
        if v > collar {
            let fold = 0.85 + 0.3 * fbm(u * 6.0, v * 6.0, id.texture_seed ^ 0xc1, 2);
            let (cloth_vis, cloth_nir) = id.clothing;
            return Material {
                vis: scale3(cloth_vis, fold),
                nir: cloth_nir * fold,
                spec: 0.02,
                shaded: true,
            };
        }
        if u.abs() < 0.42 * id.width && v > 0.4 {
            return Material {
                vis: scale3(id.skin_vis(), 0.85),
                nir: id.skin_nir() * 0.9,
                spec: 0.05,
                shaded: true,
            };
        }
        background()
    }

    /// Hair with strands running mostly downwards.
    fn hair(&self, u: f32, v: f32) -> Material {
        let (vis, nir, _, _, _) = self.id.hair;
        let seed = self.id.texture_seed ^ 0x51;
        let tex = 0.7 + 0.6 * fbm(u * 50.0 + 3.0 * value(v * 3.0, u, seed), v * 5.0, seed, 2);
        Material {
            vis: scale3(vis, tex),
            nir: nir * (0.85 + 0.3 * (tex - 0.7)),
            spec: 0.35,
            shaded: true,
        }
    }

    fn hairline(&self, u: f32) -> f32 {
        let (_, _, _, line, part) = self.id.hair;
        line + 0.18 * u * u
            + 0.06 * bump(((u - part) / 0.15).powi(2))
            + 0.04 * (value(u * 8.0, 0.5, self.id.texture_seed) - 0.5)
    }

    fn is_hair_on_head(&self, u: f32, v: f32, r2: f32) -> bool {
        let (_, _, style, _, _) = self.id.hair;
        if v < self.hairline(u) {
            return true;
        }
        let side = r2 > 0.72 && u.abs() > 0.75 * self.id.width;
        match style {
            HairStyle::Bob | HairStyle::Long => side && v < 0.1,
            HairStyle::Short => side && v < -0.35,
            HairStyle::Receding => false,
        }
    }

    fn is_hair_outside(&self, u: f32, v: f32) -> bool {
        let id = self.id;
        let (_, _, style, _, _) = id.hair;
        let dv = (v - HEAD_V0 + 0.06) / (id.height * 1.08);
        let outline = (u / (id.width * 1.13)).powi(2) + dv * dv;
        match style {
            HairStyle::Short => outline < 1.0 && v < -0.25,
            HairStyle::Receding => outline < 0.95 && v < -0.6,
            HairStyle::Bob => {
                (outline < 1.0 && v < 0.75) || (u.abs() < id.width * 1.12 && v < 0.75 && v > -0.2)
            }
            HairStyle::Long => {
                outline < 1.0
                    || (u.abs() < id.width * 1.2
                        && u.abs() > id.width * 0.55
                        && v > HEAD_V0
                        && v < 1.75)
            }
        }
    }

    /// Skin and everything drawn on it: eyes, brows, nostrils, lips, beard, moles.
    fn skin_feature(&self, u: f32, v: f32) -> Material {
        let id = self.id;
        let tex = fbm(u * 22.0, v * 22.0, id.texture_seed, 3);
        let socket = self.sockets(u, v);
        let skin_shade = (0.94 + 0.12 * tex) * (1.0 - 0.22 * socket);
        let skin = Material {
            vis: scale3(id.skin_vis(), skin_shade),
            nir: id.skin_nir() * (0.97 + 0.06 * tex) * (1.0 - 0.12 * socket),
            spec: 0.25,
            shaded: true,
        };
        if let Some(m) = self.eye(u, v, skin) {
            return m;
        }
        if let Some(m) = self.brow(u, v, skin) {
            return m;
        }
        let (ny, nw, _) = id.nose;
        let nostril = ((u.abs() - nw * 0.55) / 0.045).powi(2) + ((v - ny - 0.045) / 0.022).powi(2);
        if nostril < 1.0 {
            return Material {
                vis: scale3(skin.vis, 0.35),
                nir: skin.nir * 0.4,
                ..skin
            };
        }
        if let Some(m) = self.mouth(u, v, skin) {
            return m;
        }
        if id.beard > 0.0 {
            let (my, mw, _, _) = id.mouth;
            let moustache = (u / (mw * 1.1)).powi(2) + ((v - my + 0.1) / 0.06).powi(2) < 1.0;
            let jaw = v > my - 0.05 || (v > 0.35 && u.abs() > 0.55);
            if moustache || jaw {
                let density = fbm(u * 45.0, v * 45.0, id.texture_seed ^ 0xbe, 2);
                if density < id.beard * 0.75 {
                    return self.hair(u, v);
                }
            }
        }
        for &(mu, mv, mr) in &id.moles {
            if (u - mu).powi(2) + (v - mv).powi(2) < mr * mr {
                return Material {
                    vis: [0.25, 0.15, 0.1],
                    nir: skin.nir * 0.85,
                    ..skin
                };
            }
        }
        skin
    }

    fn eye(&self, u: f32, v: f32, skin: Material) -> Option<Material> {
        let id = self.id;
        let (ex, ey) = id.eye;
        let (ew, up, lo) = id.eye_size;
        let eu = u - ex * u.signum();
        let ev = v - ey;
        if eu.abs() >= ew {
            return None;
        }
        let open = self.ex.eye_open;
        let shape = (1.0 - (eu / ew).powi(2)).powf(0.8);
        let upper = -up * open * shape;
        let lower = lo * open.min(1.1) * shape;
        if ev > upper - 0.022 && ev < upper + 0.006 {
            return Some(Material {
                vis: [0.05, 0.04, 0.04],
                nir: 0.12,
                spec: 0.0,
                ..skin
            });
        }
        if (ev - (upper - 0.055)).abs() < 0.008 {
            return Some(Material {
                vis: scale3(skin.vis, 0.8),
                nir: skin.nir * 0.88,
                ..skin
            });
        }
        if ev <= upper || ev >= lower {
            return None;
        }
        let (iu, iv) = (eu - self.gaze.0, ev - self.gaze.1);
        let d = (iu * iu + iv * iv).sqrt();
        let (ri, colour) = id.iris;
        let glint = (iu + 0.3 * ri).powi(2) + (iv + 0.3 * ri).powi(2) < (0.22 * ri).powi(2);
        if glint {
            return Some(Material {
                vis: [1.0, 1.0, 1.0],
                nir: 1.0,
                spec: 0.0,
                shaded: false,
            });
        }
        if d < 0.38 * ri {
            return Some(Material {
                vis: [0.02, 0.02, 0.02],
                nir: 0.04,
                spec: 0.0,
                shaded: false,
            });
        }
        if d < ri {
            let angle = iv.atan2(iu);
            let streak = value(angle * 9.0, d * 30.0, id.texture_seed ^ 0x1e);
            let ring = 1.0 - 0.4 * smoothstep(0.75 * ri, ri, d);
            return Some(Material {
                vis: scale3(colour, (0.7 + 0.6 * streak) * ring),
                nir: (0.22 + 0.1 * streak) * ring,
                spec: 0.0,
                shaded: false,
            });
        }
        let corner = 1.0 - 0.25 * (eu / ew).powi(2);
        Some(Material {
            vis: scale3([0.9, 0.87, 0.84], corner),
            nir: 0.78 * corner,
            spec: 0.0,
            shaded: false,
        })
    }

    fn brow(&self, u: f32, v: f32, skin: Material) -> Option<Material> {
        let id = self.id;
        let (ex, ey) = id.eye;
        let (gap, thick, arch, tilt, dark) = id.brow;
        let du = u.abs() - ex;
        if !(-0.24..=0.27).contains(&du) {
            return None;
        }
        let centre = ey - gap - 0.06 * self.ex.brow_raise - arch * (1.0 - (du / 0.25).powi(2))
            + tilt * du
            + 0.06 * self.ex.frown * bump(((du + 0.22) / 0.1).powi(2));
        let taper = thick * (1.0 - 0.5 * smoothstep(0.0, 0.27, du));
        if (v - centre).abs() > taper {
            return None;
        }
        let strands = value(u * 90.0, v * 25.0, id.texture_seed ^ 0xb7);
        let density = dark * (0.6 + 0.4 * strands);
        let hair = self.hair(u, v);
        Some(Material {
            vis: mix3(skin.vis, scale3(hair.vis, 0.7), density),
            nir: skin.nir + (hair.nir * 0.95 - skin.nir) * density * 0.6,
            ..skin
        })
    }

    fn mouth(&self, u: f32, v: f32, skin: Material) -> Option<Material> {
        let id = self.id;
        let (my, mw, upper_t, lower_t) = id.mouth;
        let t = u / mw;
        if t.abs() >= 1.0 {
            return None;
        }
        let shape = (1.0 - t * t).powf(0.7);
        let line = my + 0.02 * self.ex.smile - 0.07 * self.ex.smile * t * t;
        let gap = self.ex.mouth_open * 0.12 * shape;
        let top = line - gap / 2.0 - upper_t * shape - 0.04 * self.ex.sneer * shape;
        let bottom = line + gap / 2.0 + lower_t * shape;
        if v < top || v > bottom {
            return None;
        }
        let lip = Material {
            vis: [skin.vis[0] * 0.95, skin.vis[1] * 0.6, skin.vis[2] * 0.62],
            nir: skin.nir * 0.93,
            spec: 0.4,
            shaded: true,
        };
        if gap > 0.0 && (v - line).abs() < gap / 2.0 {
            let teeth = v < line - gap / 2.0 + 0.035;
            return Some(if teeth {
                Material {
                    vis: [0.85, 0.83, 0.78],
                    nir: 0.8,
                    spec: 0.1,
                    shaded: false,
                }
            } else {
                Material {
                    vis: [0.15, 0.05, 0.05],
                    nir: 0.1,
                    spec: 0.0,
                    shaded: false,
                }
            });
        }
        if (v - line).abs() < 0.008 {
            return Some(Material {
                vis: scale3(lip.vis, 0.5),
                nir: lip.nir * 0.6,
                ..lip
            });
        }
        Some(lip)
    }
}
