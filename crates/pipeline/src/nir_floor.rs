//! The floor of a translation's pixel error on synthetic data. The VIS photo does not show the
//! NIR camera's offset, illuminator, blur and noise, so no translation can know them: each test
//! twin's NIR photo is taken again under other draws of them ("retakes", aligned as the data
//! is), and the pixel median of the retakes is the best an L1-minimising translation can
//! output. Its L1 to the twins is the least pixel error any translator can reach.

use image::{DynamicImage, RgbImage};
use visnir_datasets::synth::SynthConfig;

use crate::prepare::{square_crop, Aligner};
use crate::split::PreparedSplit;

/// Retakes per twin.
pub const RETAKES: u64 = 8;

/// The retakes' medians of a split's gallery and how many retakes were lost.
pub struct RetakeMedians {
    /// Per gallery image, the pixel median of its NIR twin's retakes; `None` where the image is
    /// not the configuration's or no retake had a face.
    pub medians: Vec<Option<RgbImage>>,
    /// Retakes that failed to render or had no face (each logged), out of `RETAKES` per twin.
    pub lost: usize,
}

/// For each gallery image of `split` with an NIR twin written by `synth`, the pixel median of
/// the [`RETAKES`] retakes of that twin that render and have a face, aligned by `aligner` and
/// brought to `side`.
pub fn median_retakes(
    synth: &SynthConfig,
    split: &PreparedSplit,
    aligner: &Aligner,
    side: u32,
) -> RetakeMedians {
    let mut medians = vec![None; split.gallery.len()];
    let mut lost = 0;
    for &(g, _) in &split.twins {
        let path = &split.gallery[g].path;
        let Some((subject, condition, frame)) = synth.locate(path) else {
            tracing::warn!("{}: not written by {synth:?}; no retakes", path.display());
            continue;
        };
        let mut crops = Vec::with_capacity(RETAKES as usize);
        for draw in 0..RETAKES {
            let crop = synth
                .nir_retake(subject, condition, frame, draw)
                .map_err(|e| e.to_string())
                .and_then(|nir| {
                    let rgb = DynamicImage::ImageLuma8(nir).to_rgb8();
                    aligner.align(&rgb)
                });
            match crop {
                Ok(crop) => crops.push(square_crop(&crop, side)),
                Err(e) => {
                    lost += 1;
                    tracing::warn!(
                        "{}: retake {draw} of its NIR twin left out: {e}",
                        path.display()
                    );
                }
            }
        }
        medians[g] = pixel_median(&crops);
        if medians[g].is_none() {
            tracing::warn!("{}: no retake of its NIR twin had a face", path.display());
        }
    }
    RetakeMedians { medians, lost }
}

/// The per-pixel, per-channel median of equally sized images (the upper median of an even
/// count); `None` for no images or unequal sizes.
pub fn pixel_median(images: &[RgbImage]) -> Option<RgbImage> {
    let (w, h) = images.first()?.dimensions();
    if images.iter().any(|image| image.dimensions() != (w, h)) {
        return None;
    }
    let mut values = Vec::with_capacity(images.len());
    let mut raw = Vec::with_capacity((w * h * 3) as usize);
    for i in 0..(w * h * 3) as usize {
        values.clear();
        values.extend(images.iter().map(|image| image.as_raw()[i]));
        values.sort_unstable();
        raw.push(values[values.len() / 2]);
    }
    RgbImage::from_raw(w, h, raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_taken_per_pixel_and_channel() {
        let image = |r: u8, g: u8| RgbImage::from_fn(2, 1, |x, _| image::Rgb([r + x as u8, g, 7]));
        let median = pixel_median(&[image(30, 1), image(10, 3), image(20, 2)]).unwrap();
        assert_eq!(median.as_raw(), &[20, 2, 7, 21, 2, 7]);
        let upper = pixel_median(&[image(10, 0), image(40, 0)]).unwrap();
        assert_eq!(
            upper.get_pixel(0, 0).0[0],
            40,
            "the upper median of an even count"
        );
        assert!(pixel_median(&[]).is_none());
        assert!(pixel_median(&[image(1, 1), RgbImage::new(3, 1)]).is_none());
    }
}
