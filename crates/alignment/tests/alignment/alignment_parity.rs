//! Alignment from the golden landmarks against the skimage reference matrices and crops.

use visnir_alignment::{similarity_transform, warp_affine, Template};
use visnir_nn::load_rgb;

use crate::{fixture, golden};

#[test]
fn matrices_and_crops_match_skimage() {
    let reference = golden("mobilefacenet_golden.json");
    let template = Template::arcface(112);
    let faces = reference["faces"].as_array().unwrap();
    let mut crops: Vec<String> = std::fs::read_dir(fixture("aligned"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".png")
                .to_string()
        })
        .collect();
    crops.sort();
    assert_eq!(
        crops.len(),
        10,
        "every reference crop of a fixture photo: {crops:?}"
    );
    for name in &crops {
        let name = name.as_str();
        let face = faces
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in golden"));
        let crop_path = fixture(&format!("aligned/{name}.png"));
        let landmarks = landmarks_of(name);
        let m = similarity_transform(&landmarks, &template.points).unwrap();
        let want = face["M"].as_array().unwrap();
        for r in 0..2 {
            for c in 0..3 {
                let w = want[r][c].as_f64().unwrap();
                assert!(
                    (m[r][c] - w).abs() <= 1e-4,
                    "{name}: M[{r}][{c}] {} vs {w}",
                    m[r][c]
                );
            }
        }
        let image_name = face["image"].as_str().unwrap().rsplit('/').next().unwrap();
        let image = load_rgb(&fixture(&format!("faces/{image_name}"))).unwrap();
        let crop = warp_affine(&image, &m, 112);
        let want = load_rgb(&crop_path).unwrap();
        let total: u64 = crop
            .as_raw()
            .iter()
            .zip(want.as_raw())
            .map(|(&a, &b)| (a as i64 - b as i64).unsigned_abs())
            .sum();
        let mad = total as f64 / crop.as_raw().len() as f64;
        assert!(mad <= 1.0, "{name}: mean absolute difference {mad}");
    }
}

/// The golden MTCNN landmarks of `<image>_f<k>`.
fn landmarks_of(name: &str) -> [[f64; 2]; 5] {
    let (image, k) = name.rsplit_once("_f").unwrap();
    let k: usize = k.parse().unwrap();
    let reference = golden("mtcnn_golden.json");
    let entry = reference["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["input"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/{image}.png"))
        })
        .unwrap_or_else(|| panic!("no golden detection for {image}"));
    let points = entry["faces"][k]["landmarks"].as_array().unwrap();
    std::array::from_fn(|i| {
        [
            points[i][0].as_f64().unwrap(),
            points[i][1].as_f64().unwrap(),
        ]
    })
}

#[test]
fn templates() {
    let t = Template::arcface(256);
    assert!((t.points[0][0] - 38.2946 * 256.0 / 112.0).abs() < 1e-12);
    let i = Template::insightface(256);
    assert!((i.points[0][0] - (38.2946 * 2.0 + 16.0)).abs() < 1e-12);
    assert_eq!(Template::insightface(112), Template::arcface(112));
}
