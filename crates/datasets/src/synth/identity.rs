//! One synthetic person: face geometry and appearance in a canonical face frame (`u` right,
//! `v` down, face half-width about 1), drawn once per subject so every image of that subject
//! shares them.

use rand::Rng;

/// Hair colours, each with its visible colour and its (much lighter) NIR reflectance.
const HAIR: [([f32; 3], f32); 5] = [
    ([0.05, 0.04, 0.035], 0.22),
    ([0.22, 0.13, 0.07], 0.42),
    ([0.72, 0.57, 0.33], 0.70),
    ([0.58, 0.57, 0.55], 0.64),
    ([0.45, 0.18, 0.07], 0.52),
];

/// Iris colours (brown, hazel, green, blue, grey); all dark in NIR.
const IRIS: [[f32; 3]; 5] = [
    [0.25, 0.13, 0.06],
    [0.42, 0.30, 0.12],
    [0.25, 0.38, 0.22],
    [0.25, 0.40, 0.62],
    [0.42, 0.46, 0.50],
];

/// How the hair is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HairStyle {
    /// Short hair on top, ears free.
    Short,
    /// Chin-length hair covering the ears.
    Bob,
    /// Hair down to the shoulders.
    Long,
    /// Receding hair: a high hairline and thin sides.
    Receding,
}

/// Everything that makes one synthetic subject recognisable.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Face half-width scale.
    pub width: f32,
    /// Head half-height (canonical units).
    pub height: f32,
    /// How much the jaw narrows towards the chin (0..1).
    pub jaw_taper: f32,
    /// Head depth (z of the face centre).
    pub depth: f32,
    /// Eye centre: horizontal distance from the midline and vertical position.
    pub eye: (f32, f32),
    /// Eye half-width, upper and lower opening.
    pub eye_size: (f32, f32, f32),
    /// Iris radius and its VIS colour.
    pub iris: (f32, [f32; 3]),
    /// Brow gap above the eye, thickness, arch height, tilt and darkness.
    pub brow: (f32, f32, f32, f32, f32),
    /// Nose tip position, tip half-width, height.
    pub nose: (f32, f32, f32),
    /// Mouth position, half-width, upper and lower lip thickness.
    pub mouth: (f32, f32, f32, f32),
    /// Cheek prominence and chin prominence.
    pub cheeks: (f32, f32),
    /// Melanin (0 light .. 1 dark) and a hue shift of the skin.
    pub skin: (f32, f32),
    /// Hair: VIS colour, NIR reflectance, style, hairline height, parting side.
    pub hair: ([f32; 3], f32, HairStyle, f32, f32),
    /// Beard density (0 = none).
    pub beard: f32,
    /// Moles in face coordinates with radius.
    pub moles: Vec<(f32, f32, f32)>,
    /// Clothing: VIS colour and NIR grey (unrelated to each other).
    pub clothing: ([f32; 3], f32),
    /// Seed of this subject's textures (skin, iris, hair strands).
    pub texture_seed: u32,
}

fn range(rng: &mut impl Rng, lo: f32, hi: f32) -> f32 {
    rng.random_range(lo..hi)
}

impl Identity {
    /// Draws a subject from `rng`.
    pub fn sample(rng: &mut impl Rng) -> Self {
        let (hair_vis, hair_nir) = HAIR[rng.random_range(0..HAIR.len())];
        let style = match rng.random_range(0..8) {
            0..=2 => HairStyle::Short,
            3 | 4 => HairStyle::Bob,
            5 | 6 => HairStyle::Long,
            _ => HairStyle::Receding,
        };
        let hairline = match style {
            HairStyle::Receding => range(rng, -1.05, -0.9),
            _ => range(rng, -0.85, -0.5),
        };
        let beard = if rng.random_bool(0.3) {
            range(rng, 0.3, 1.0)
        } else {
            0.0
        };
        let moles = (0..rng.random_range(0..4))
            .map(|_| {
                (
                    range(rng, -0.7, 0.7),
                    range(rng, -0.5, 0.9),
                    range(rng, 0.015, 0.03),
                )
            })
            .collect();
        let iris_colour = IRIS[rng.random_range(0..IRIS.len())];
        let clothing = [
            range(rng, 0.05, 0.9),
            range(rng, 0.05, 0.9),
            range(rng, 0.05, 0.9),
        ];
        Self {
            width: range(rng, 0.88, 1.1),
            height: range(rng, 1.22, 1.42),
            jaw_taper: range(rng, 0.15, 0.45),
            depth: range(rng, 0.8, 1.0),
            eye: (range(rng, 0.34, 0.46), range(rng, -0.08, 0.06)),
            eye_size: (
                range(rng, 0.15, 0.21),
                range(rng, 0.06, 0.10),
                range(rng, 0.04, 0.07),
            ),
            iris: (range(rng, 0.065, 0.085), iris_colour),
            brow: (
                range(rng, 0.15, 0.26),
                range(rng, 0.035, 0.08),
                range(rng, 0.01, 0.08),
                range(rng, -0.08, 0.08),
                range(rng, 0.5, 1.0),
            ),
            nose: (
                range(rng, 0.33, 0.47),
                range(rng, 0.09, 0.16),
                range(rng, 0.22, 0.4),
            ),
            mouth: (
                range(rng, 0.66, 0.8),
                range(rng, 0.26, 0.38),
                range(rng, 0.035, 0.065),
                range(rng, 0.045, 0.085),
            ),
            cheeks: (range(rng, 0.0, 0.12), range(rng, 0.02, 0.1)),
            skin: (range(rng, 0.0, 1.0), range(rng, -0.06, 0.06)),
            hair: (hair_vis, hair_nir, style, hairline, range(rng, -0.4, 0.4)),
            beard,
            moles,
            clothing: (clothing, range(rng, 0.15, 0.7)),
            texture_seed: rng.random(),
        }
    }

    /// VIS skin colour from melanin and hue.
    pub fn skin_vis(&self) -> [f32; 3] {
        let (m, hue) = self.skin;
        let light = [0.93, 0.76, 0.65];
        let dark = [0.34, 0.21, 0.14];
        let mut c = [0.0; 3];
        for k in 0..3 {
            c[k] = light[k] + (dark[k] - light[k]) * m;
        }
        c[0] += hue;
        c[2] -= hue;
        c
    }

    /// NIR skin reflectance: bright and flat, only weakly dependent on melanin.
    pub fn skin_nir(&self) -> f32 {
        0.70 - 0.16 * self.skin.0
    }
}
