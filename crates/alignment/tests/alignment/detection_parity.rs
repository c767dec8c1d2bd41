//! Full detection on real photos against facenet-pytorch's `MTCNN.detect`.

use visnir_alignment::Face;
use visnir_nn::load_rgb;

use crate::{fixture, golden, mtcnn};

fn iou(a: &[f32; 4], b: &[f64]) -> f64 {
    let (ax1, ay1, ax2, ay2) = (a[0] as f64, a[1] as f64, a[2] as f64, a[3] as f64);
    let w = (ax2.min(b[2]) - ax1.max(b[0])).max(0.0);
    let h = (ay2.min(b[3]) - ay1.max(b[1])).max(0.0);
    let inter = w * h;
    inter / ((ax2 - ax1) * (ay2 - ay1) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
}

fn check_faces(name: &str, faces: &[Face], want: &[serde_json::Value]) {
    assert_eq!(faces.len(), want.len(), "{name}: number of faces");
    for (k, (face, reference)) in faces.iter().zip(want).enumerate() {
        let rbox: Vec<f64> = reference["box"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let overlap = iou(&face.bbox, &rbox);
        assert!(
            overlap >= 0.98,
            "{name} face {k}: IoU {overlap} ({:?} vs {rbox:?})",
            face.bbox
        );
        let score = reference["prob"].as_f64().unwrap();
        assert!(
            (face.score as f64 - score).abs() <= 0.01,
            "{name} face {k}: score {} vs {score}",
            face.score
        );
        let mut distances = Vec::new();
        for (got, want) in face
            .landmarks
            .iter()
            .zip(reference["landmarks"].as_array().unwrap())
        {
            let (x, y) = (want[0].as_f64().unwrap(), want[1].as_f64().unwrap());
            distances.push(((got[0] as f64 - x).powi(2) + (got[1] as f64 - y).powi(2)).sqrt());
        }
        let mean = distances.iter().sum::<f64>() / 5.0;
        let max = distances.iter().cloned().fold(0.0, f64::max);
        assert!(
            mean <= 1.0 && max <= 2.0,
            "{name} face {k}: landmark error mean {mean}, max {max}"
        );
    }
}

#[test]
fn detections_match_facenet_pytorch_on_real_photos() {
    let reference = golden("mtcnn_golden.json");
    let detector = mtcnn();
    let images = reference["images"].as_array().unwrap();
    let mut checked = 0;
    for image in images {
        let input = image["input"].as_str().unwrap();
        let name = input.rsplit('/').next().unwrap();
        let path = fixture(&format!("faces/{name}"));
        let rgb = load_rgb(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (rgb.width() as u64, rgb.height() as u64),
            (
                image["width"].as_u64().unwrap(),
                image["height"].as_u64().unwrap()
            )
        );
        let scales = detector
            .config()
            .scales(rgb.height() as usize, rgb.width() as usize);
        let want_scales: Vec<f64> = image["pyramid_scales"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(scales.len(), want_scales.len(), "{name}: pyramid levels");
        for (s, w) in scales.iter().zip(&want_scales) {
            assert!((s - w).abs() < 1e-12, "{name}: scale {s} vs {w}");
        }
        let faces = detector.detect(&rgb).unwrap();
        check_faces(name, &faces, image["faces"].as_array().unwrap());
        checked += 1;
    }
    assert_eq!(checked, 4, "every reference photo is checked");
}
