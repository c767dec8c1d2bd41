//! One shot of a synthetic subject: pose, expression, lighting, background and the NIR
//! camera's own offset, drawn per image.

use rand::Rng;

/// Facial expression as a few muscle-like controls.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expression {
    /// Brows up (positive) or down.
    pub brow_raise: f32,
    /// Inner brow ends pulled together and down (frown).
    pub frown: f32,
    /// Eye opening multiplier.
    pub eye_open: f32,
    /// Mouth corners up (positive) or down.
    pub smile: f32,
    /// Lips apart.
    pub mouth_open: f32,
    /// Upper lip and nose wrinkle (disgust).
    pub sneer: f32,
}

impl Expression {
    /// The expression named as in Oulu-CASIA (`Anger`, ..., `Surprise`), with per-frame jitter
    /// `strength` in 0..1 (frames of a sequence go from neutral towards the apex).
    pub fn named(name: &str, strength: f32) -> Self {
        let s = strength;
        let base = Self {
            eye_open: 1.0,
            ..Self::default()
        };
        match name {
            "Anger" => Self {
                frown: 0.8 * s,
                brow_raise: -0.5 * s,
                eye_open: 1.0 - 0.2 * s,
                smile: -0.3 * s,
                ..base
            },
            "Disgust" => Self {
                sneer: 0.9 * s,
                frown: 0.4 * s,
                eye_open: 1.0 - 0.3 * s,
                smile: -0.4 * s,
                ..base
            },
            "Fear" => Self {
                brow_raise: 0.6 * s,
                frown: 0.3 * s,
                eye_open: 1.0 + 0.35 * s,
                mouth_open: 0.4 * s,
                ..base
            },
            "Happiness" => Self {
                smile: 1.0 * s,
                eye_open: 1.0 - 0.3 * s,
                mouth_open: 0.3 * s,
                ..base
            },
            "Sadness" => Self {
                brow_raise: 0.2 * s,
                frown: 0.5 * s,
                smile: -0.7 * s,
                eye_open: 1.0 - 0.15 * s,
                ..base
            },
            "Surprise" => Self {
                brow_raise: 1.0 * s,
                eye_open: 1.0 + 0.45 * s,
                mouth_open: 1.0 * s,
                ..base
            },
            _ => base,
        }
    }
}

/// Where the head is and how it is turned, in pixels and radians.
#[derive(Debug, Clone, Copy)]
pub struct Pose {
    /// Rotation about the vertical axis (positive: the face turns to the image's right).
    pub yaw: f32,
    /// Rotation about the horizontal axis (positive: chin down).
    pub pitch: f32,
    /// In-plane rotation.
    pub roll: f32,
    /// Pixels per canonical unit.
    pub scale: f32,
    /// Image position of the canonical origin (between the eyes, slightly below).
    pub centre: (f32, f32),
}

/// Everything that differs between two images of the same subject.
#[derive(Debug, Clone)]
pub struct Scene {
    /// Head pose of the VIS camera.
    pub pose: Pose,
    /// Facial expression.
    pub expression: Expression,
    /// Horizontal gaze offset of the irises (canonical units).
    pub gaze: (f32, f32),
    /// VIS key light direction (unit vector towards the light) and its strength.
    pub light: ([f32; 3], f32),
    /// Background colours (two corners of a gradient) and texture seed.
    pub background: ([f32; 3], [f32; 3], u32),
    /// NIR camera offset relative to the VIS camera: shift in pixels and relative scale.
    pub nir_offset: (f32, f32, f32),
    /// NIR illuminator falloff radius (pixels), sensor noise sigma, blur radius.
    pub nir_optics: (f32, f32, f32),
    /// Seed of the per-image sensor noise.
    pub noise_seed: u32,
}

/// The range of head poses a scene is drawn from (radians).
#[derive(Debug, Clone, Copy)]
pub struct PoseRange {
    /// Yaw interval.
    pub yaw: (f32, f32),
    /// Pitch interval.
    pub pitch: (f32, f32),
    /// Largest absolute roll.
    pub roll: f32,
}

impl PoseRange {
    /// The variation of the Oulu-like data: yaw ±20°, pitch ±12°, roll ±10°.
    pub fn free() -> Self {
        Self {
            yaw: (-20f32.to_radians(), 20f32.to_radians()),
            pitch: (-12f32.to_radians(), 12f32.to_radians()),
            roll: 10f32.to_radians(),
        }
    }

    /// A WHU pose tag (`frontal`, `left`, `right`, `tiltup`, `tiltdown`).
    pub fn tagged(tag: &str) -> Self {
        let r = |a: f32, b: f32| (a.to_radians(), b.to_radians());
        let (yaw, pitch) = match tag {
            "left" => (r(-28.0, -15.0), r(-5.0, 5.0)),
            "right" => (r(15.0, 28.0), r(-5.0, 5.0)),
            "tiltup" => (r(-6.0, 6.0), r(-18.0, -9.0)),
            "tiltdown" => (r(-6.0, 6.0), r(9.0, 18.0)),
            _ => (r(-6.0, 6.0), r(-5.0, 5.0)),
        };
        Self {
            yaw,
            pitch,
            roll: 6f32.to_radians(),
        }
    }
}

fn range(rng: &mut impl Rng, lo: f32, hi: f32) -> f32 {
    rng.random_range(lo..hi)
}

impl Scene {
    /// Draws a scene for an image of `width` x `height` pixels.
    pub fn sample(
        rng: &mut impl Rng,
        poses: PoseRange,
        expression: Expression,
        width: u32,
        height: u32,
    ) -> Self {
        let unit = height.min(width) as f32 / 240.0;
        let pose = Pose {
            yaw: range(rng, poses.yaw.0, poses.yaw.1),
            pitch: range(rng, poses.pitch.0, poses.pitch.1),
            roll: range(rng, -poses.roll, poses.roll),
            scale: range(rng, 50.0, 60.0) * unit,
            centre: (
                width as f32 / 2.0 + range(rng, -10.0, 10.0) * unit,
                height as f32 * 0.45 + range(rng, -6.0, 6.0) * unit,
            ),
        };
        let azimuth = range(rng, -45.0, 45.0).to_radians();
        let elevation = range(rng, -10.0, 35.0).to_radians();
        let light = [
            azimuth.sin() * elevation.cos(),
            -elevation.sin(),
            azimuth.cos() * elevation.cos(),
        ];
        let colour = |rng: &mut _| {
            [
                range(rng, 0.1, 0.9),
                range(rng, 0.1, 0.9),
                range(rng, 0.1, 0.9),
            ]
        };
        Self {
            pose,
            expression,
            gaze: (range(rng, -0.02, 0.02), range(rng, -0.01, 0.01)),
            light: (light, range(rng, 0.8, 1.1)),
            background: (colour(rng), colour(rng), rng.random()),
            nir_offset: (0.0, 0.0, 1.0),
            nir_optics: (0.0, 0.0, 0.0),
            noise_seed: 0,
        }
        .with_nir_camera(rng, width, height)
    }

    /// The same scene with a new draw of what the VIS photo does not show: the NIR camera's
    /// offset, its illuminator and blur, and the sensor noise of both images.
    pub fn with_nir_camera(self, rng: &mut impl Rng, width: u32, height: u32) -> Self {
        let unit = height.min(width) as f32 / 240.0;
        let nir_offset = (
            range(rng, -4.0, 4.0) * unit,
            range(rng, -4.0, 4.0) * unit,
            range(rng, 0.97, 1.03),
        );
        let nir_optics = (
            range(rng, 110.0, 170.0) * unit,
            range(rng, 0.01, 0.025),
            range(rng, 0.6, 1.1) * unit,
        );
        Self {
            nir_offset,
            nir_optics,
            noise_seed: rng.random(),
            ..self
        }
    }
}
