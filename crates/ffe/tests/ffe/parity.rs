//! Embeddings against the working TFLite MobileFaceNet (L2-normalised).

use candle_core::{Device, Module};
use visnir_ffe::Embedder;

use crate::{cosine, fixture};

#[test]
fn raw_tensors_match_the_tflite_network() {
    let io = candle_core::safetensors::load(
        fixture("parity/mobilefacenet_io.safetensors"),
        &Device::Cpu,
    )
    .unwrap();
    let input = io["input_nhwc"]
        .permute((0, 3, 1, 2))
        .unwrap()
        .contiguous()
        .unwrap();
    let embedder = Embedder::bundled(&Device::Cpu).unwrap();
    let got = embedder.network().forward(&input).unwrap();
    let want = &io["embedding_tflite_mode"];
    assert_eq!(got.dims(), want.dims());
    let diff: f32 = (&got - want)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(diff <= 1e-4, "max abs diff {diff}");
}

#[test]
fn aligned_crops_match_golden_embeddings() {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("mobilefacenet_golden.json")).unwrap(),
    )
    .unwrap();
    let embedder = Embedder::bundled(&Device::Cpu).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(fixture("aligned"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".png")
                .to_string()
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 10);
    let crops: Vec<_> = names
        .iter()
        .map(|n| {
            image::open(fixture(&format!("aligned/{n}.png")))
                .unwrap()
                .to_rgb8()
        })
        .collect();
    let embeddings = embedder.embed(&crops).unwrap();
    for (name, got) in names.iter().zip(&embeddings) {
        let face = golden["faces"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name.as_str())
            .unwrap();
        let want: Vec<f32> = face["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let c = cosine(got, &want);
        assert!(c >= 0.9999, "{name}: cosine {c}");
        let norm: f32 = got.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
}
