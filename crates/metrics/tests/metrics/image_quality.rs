//! PSNR and SSIM against scikit-image 0.26 on fixture photo pairs, and the Fréchet distance
//! against the FID formula with scipy's `sqrtm` (`image_quality_expected.json`, made by
//! `make_image_quality_golden.py`), within 1e-4 (SSIM, PSNR) and 1e-6 relative (Fréchet).

use serde_json::Value;
use visnir_metrics::{frechet_distance, psnr, ssim, Planes};

use crate::fixture;

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("image_quality_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The photo as planes: RGB, or the mean of R, G and B.
fn planes(path: &str, grey: bool) -> (Vec<f64>, usize, usize, usize) {
    let img = image::open(fixture("..").join(path)).unwrap().to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = |c: usize| img.pixels().map(move |p| p.0[c] as f64);
    if grey {
        let data: Vec<f64> = img
            .pixels()
            .map(|p| (p.0[0] as f64 + p.0[1] as f64 + p.0[2] as f64) / 3.0)
            .collect();
        (data, w, h, 1)
    } else {
        ((0..3).flat_map(px).collect(), w, h, 3)
    }
}

#[test]
fn psnr_and_ssim_match_scikit_image() {
    for pair in expected()["pairs"].as_array().unwrap() {
        let grey = pair["mode"] == "grey";
        let (a, w, h, c) = planes(pair["truth"].as_str().unwrap(), grey);
        let (b, ..) = planes(pair["test"].as_str().unwrap(), grey);
        let plane = |data| Planes {
            data,
            width: w,
            height: h,
            channels: c,
        };
        let got_ssim = ssim(plane(&a), plane(&b), 255.0).unwrap();
        let got_psnr = psnr(plane(&a), plane(&b), 255.0).unwrap();
        let want_ssim = pair["ssim"].as_f64().unwrap();
        let want_psnr = pair["psnr"].as_f64().unwrap();
        assert!(
            (got_ssim - want_ssim).abs() < 1e-4,
            "{pair}: SSIM {got_ssim}"
        );
        assert!(
            (got_psnr - want_psnr).abs() < 1e-4,
            "{pair}: PSNR {got_psnr}"
        );
        assert!((ssim(plane(&a), plane(&a), 255.0).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(psnr(plane(&a), plane(&a), 255.0).unwrap(), f64::INFINITY);
    }
}

#[test]
fn frechet_distance_matches_scipy() {
    let sets: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("frechet_sets.json")).unwrap())
            .unwrap();
    let floats = |key: &str| -> Vec<f32> {
        sets[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    let (a, b) = (floats("a"), floats("b"));
    let got = frechet_distance(&a, &b, 12).unwrap();
    let want = expected()["frechet"].as_f64().unwrap();
    assert!((got - want).abs() <= 1e-6 * want, "{got} vs {want}");
    assert!(frechet_distance(&a, &a, 12).unwrap().abs() < 1e-9);
}

#[test]
fn mismatched_or_tiny_images_are_refused() {
    let a = vec![0.0; 10 * 10];
    let small = Planes {
        data: &a,
        width: 10,
        height: 10,
        channels: 1,
    };
    assert!(
        ssim(small, small, 255.0).is_err(),
        "the window needs 11 x 11"
    );
    let b = vec![0.0; 12 * 10];
    let other = Planes {
        data: &b,
        width: 12,
        height: 10,
        channels: 1,
    };
    assert!(psnr(small, other, 255.0).is_err());
    assert!(frechet_distance(&[1.0, 2.0], &[1.0, 2.0, 3.0, 4.0], 2).is_err());
}
