//! Where a gallery differs from its true NIR twins, pixel by pixel: the mean signed and the mean
//! absolute grey difference over the test pairs, drawn as `error-maps.png` (one column per
//! row of the table), so that a systematic error (a shadow every translation misses) is seen
//! apart from the noise.

use std::path::Path;

use image::imageops::FilterType;
use image::{Rgb, RgbImage};
use plotters::prelude::*;

use crate::error::Result;
use crate::plots::{fonts, plot_error};
use crate::split::PreparedSplit;

/// Mean differences (grey, 0..1) between a gallery and its NIR twins, per pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorMap {
    /// Side of the square crops.
    pub size: u32,
    /// Mean of (gallery - twin), row-major.
    pub signed: Vec<f32>,
    /// Mean of |gallery - twin|, row-major.
    pub absolute: Vec<f32>,
}

/// The grey value (0..1) of a pixel: the mean of its three channels.
fn grey(p: &Rgb<u8>) -> f32 {
    (p.0[0] as f32 + p.0[1] as f32 + p.0[2] as f32) / (3.0 * 255.0)
}

impl ErrorMap {
    /// The map of `gallery` (matched as the split's gallery, same order) against the split's
    /// NIR twins; `None` without twins or when the crops are not all square and of one size.
    pub fn of(split: &PreparedSplit, gallery: &[RgbImage]) -> Option<Self> {
        let pairs: Vec<(&RgbImage, &RgbImage)> = split
            .twins
            .iter()
            .filter_map(|&(g, p)| Some((gallery.get(g)?, &split.probes.get(p)?.crop)))
            .collect();
        let size = pairs.first()?.0.width();
        let same = |i: &RgbImage| i.dimensions() == (size, size);
        if size == 0 || !pairs.iter().all(|(a, b)| same(a) && same(b)) {
            return None;
        }
        let n = (size * size) as usize;
        let (mut signed, mut absolute) = (vec![0f32; n], vec![0f32; n]);
        for (a, b) in &pairs {
            for (k, (pa, pb)) in a.pixels().zip(b.pixels()).enumerate() {
                let d = grey(pa) - grey(pb);
                signed[k] += d;
                absolute[k] += d.abs();
            }
        }
        let count = pairs.len() as f32;
        signed
            .iter_mut()
            .chain(absolute.iter_mut())
            .for_each(|v| *v /= count);
        Some(Self {
            size,
            signed,
            absolute,
        })
    }

    /// The signed map in blue (gallery darker than the twin) - white - red (brighter), full
    /// colour at +-`range`.
    fn signed_image(&self, range: f32) -> RgbImage {
        RgbImage::from_fn(self.size, self.size, |x, y| {
            let v = (self.signed[(y * self.size + x) as usize] / range).clamp(-1.0, 1.0);
            let fade = ((1.0 - v.abs()) * 255.0).round() as u8;
            if v >= 0.0 {
                Rgb([255, fade, fade])
            } else {
                Rgb([fade, fade, 255])
            }
        })
    }

    /// The absolute map in grey, black at 0 and white at `range` and above.
    fn absolute_image(&self, range: f32) -> RgbImage {
        RgbImage::from_fn(self.size, self.size, |x, y| {
            let v = (self.absolute[(y * self.size + x) as usize] / range).clamp(0.0, 1.0);
            let g = (v * 255.0).round() as u8;
            Rgb([g, g, g])
        })
    }
}

/// Full colour of the signed maps and white of the absolute maps (grey levels, 0..1).
const SIGNED_RANGE: f32 = 0.2;
const ABSOLUTE_RANGE: f32 = 0.4;

/// Draws `maps` (label, map) as two rows of tiles: mean signed difference, then mean absolute
/// difference, one column per map, with the colour scales written underneath.
pub fn draw(path: &Path, maps: &[(String, ErrorMap)]) -> Result<()> {
    fonts();
    let (cell, header, footer) = (160u32, 26u32, 44u32);
    let (w, h) = (
        (cell * maps.len() as u32).max(600),
        header + 2 * cell + footer,
    );
    let mut canvas = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    for (c, (_, map)) in maps.iter().enumerate() {
        let tiles = [
            map.signed_image(SIGNED_RANGE),
            map.absolute_image(ABSOLUTE_RANGE),
        ];
        for (r, tile) in tiles.iter().enumerate() {
            let scaled = image::imageops::resize(tile, cell - 4, cell - 4, FilterType::Nearest);
            let (x, y) = (c as u32 * cell + 2, header + r as u32 * cell + 2);
            image::imageops::replace(&mut canvas, &scaled, x as i64, y as i64);
        }
    }
    {
        let fail = |e: &dyn std::fmt::Display| plot_error(path, e);
        let root = BitMapBackend::with_buffer(canvas.as_mut(), (w, h)).into_drawing_area();
        for (c, (label, _)) in maps.iter().enumerate() {
            let text = Text::new(
                label.clone(),
                (c as i32 * cell as i32 + 6, 6),
                ("sans-serif", 14),
            );
            root.draw(&text).map_err(|e| fail(&e))?;
        }
        let notes = [
            format!("top: mean (gallery - true NIR), blue -{SIGNED_RANGE} .. white 0 .. red +{SIGNED_RANGE}"),
            format!("bottom: mean |gallery - true NIR|, black 0 .. white {ABSOLUTE_RANGE} (grey levels 0..1)"),
        ];
        for (k, note) in notes.into_iter().enumerate() {
            let y = (header + 2 * cell + 4 + 18 * k as u32) as i32;
            root.draw(&Text::new(note, (6, y), ("sans-serif", 12)))
                .map_err(|e| fail(&e))?;
        }
        root.present().map_err(|e| fail(&e))?;
    }
    canvas.save(path).map_err(|e| plot_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::{LabelledCrop, Skipped};

    fn crop(size: u32, value: u8) -> RgbImage {
        RgbImage::from_pixel(size, size, Rgb([value; 3]))
    }

    fn labelled(crop: RgbImage) -> LabelledCrop {
        LabelledCrop {
            subject: "s".into(),
            path: "x.png".into(),
            crop,
        }
    }

    /// A split whose gallery image `g` has the probe `twins[g]` as its NIR twin.
    fn split(probes: Vec<RgbImage>, twins: Vec<(usize, usize)>) -> PreparedSplit {
        PreparedSplit {
            train: Vec::new(),
            validation: Vec::new(),
            gallery: Vec::new(),
            probes: probes.into_iter().map(labelled).collect(),
            twins,
            skipped: Skipped::default(),
            skipped_images: Vec::new(),
        }
    }

    #[test]
    fn maps_average_each_gallery_image_against_its_own_twin() {
        // Gallery 0's twin is probe 1 and gallery 1's probe 0: a map that paired by index
        // would see differences of 100 grey levels everywhere.
        let split = split(vec![crop(3, 100), crop(3, 200)], vec![(0, 1), (1, 0)]);
        let mut brighter = crop(3, 200);
        brighter.put_pixel(0, 0, Rgb([251, 251, 251]));
        let mut darker = crop(3, 100);
        darker.put_pixel(1, 0, Rgb([49, 49, 49]));
        let map = ErrorMap::of(&split, &[brighter, darker]).expect("square crops of one size");
        let level = 51.0 / 255.0;
        let mut signed = [0.0f32; 9];
        signed[0] = level / 2.0;
        signed[1] = -level / 2.0;
        for (k, (s, a)) in map.signed.iter().zip(&map.absolute).enumerate() {
            assert!((s - signed[k]).abs() < 1e-6, "signed[{k}] = {s}");
            assert!((a - signed[k].abs()).abs() < 1e-6, "absolute[{k}] = {a}");
        }
        let colour = map.signed_image(level / 2.0);
        assert_eq!(colour.get_pixel(0, 0), &Rgb([255, 0, 0]));
        assert_eq!(colour.get_pixel(1, 0), &Rgb([0, 0, 255]));
        assert_eq!(colour.get_pixel(2, 2), &Rgb([255, 255, 255]));
    }

    #[test]
    fn no_map_without_twins_or_with_crops_of_other_sizes() {
        let none = split(vec![crop(3, 100)], Vec::new());
        assert_eq!(ErrorMap::of(&none, &[crop(3, 100)]), None);
        let one = split(vec![crop(3, 100)], vec![(0, 0)]);
        assert_eq!(ErrorMap::of(&one, &[crop(4, 100)]), None);
        assert_eq!(ErrorMap::of(&one, &[]), None);
    }

    #[test]
    fn drawing_writes_one_column_per_map() {
        let split = split(vec![crop(8, 90)], vec![(0, 0)]);
        let map = ErrorMap::of(&split, &[crop(8, 120)]).expect("a map");
        let maps: Vec<(String, ErrorMap)> =
            (0..5).map(|k| (format!("row {k}"), map.clone())).collect();
        let path =
            std::env::temp_dir().join(format!("visnir-error-maps-{}.png", std::process::id()));
        draw(&path, &maps).expect("drawn");
        let image = image::open(&path).expect("a PNG").to_rgb8();
        std::fs::remove_file(&path).ok();
        assert_eq!(image.dimensions(), (5 * 160, 26 + 2 * 160 + 44));
        // The signed tile of a gallery 30 levels brighter than its twin is light red.
        let p = image.get_pixel(80, 26 + 80).0;
        assert!(p[0] == 255 && p[1] < 255 && p[1] == p[2], "{p:?}");
    }
}
