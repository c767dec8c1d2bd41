//! Embeddings against the working TFLite MobileFaceNet (L2-normalised).

use candle_core::{Device, Module};
use visnir_ffe::{CpuMobileFaceNet, Embedder};

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

/// The TFLite parity input through the CPU fast path, L2-normalised.
fn cpu_path_embeddings(input_nhwc: &candle_core::Tensor) -> Vec<Vec<f32>> {
    let embedder = Embedder::bundled(&Device::Cpu).unwrap();
    let net = CpuMobileFaceNet::new(embedder.network()).unwrap();
    let input: Vec<f32> = input_nhwc.flatten_all().unwrap().to_vec1().unwrap();
    net.forward_raw(&input)
        .into_iter()
        .map(|v| {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / norm).collect()
        })
        .collect()
}

#[test]
fn cpu_fast_path_matches_the_tflite_network() {
    let io = candle_core::safetensors::load(
        fixture("parity/mobilefacenet_io.safetensors"),
        &Device::Cpu,
    )
    .unwrap();
    let input = &io["input_nhwc"];
    let want = io["embedding_tflite_mode"].to_vec2::<f32>().unwrap();
    // The whole batch runs one face per thread; each face alone runs in bands of rows.
    let batch = cpu_path_embeddings(input);
    assert_eq!(batch.len(), want.len());
    for (i, (got, want)) in batch.iter().zip(&want).enumerate() {
        let diff = got
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff <= 1e-4, "face {i}: max abs diff {diff}");
        let single = cpu_path_embeddings(&input.narrow(0, i, 1).unwrap());
        let diff = got
            .iter()
            .zip(&single[0])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            diff <= 1e-6,
            "face {i} alone: max abs diff {diff} to the batch"
        );
    }
}

#[test]
fn cpu_and_candle_paths_agree_on_mirrored_sums() {
    let crops: Vec<_> = std::fs::read_dir(fixture("aligned"))
        .unwrap()
        .map(|e| image::open(e.unwrap().path()).unwrap().to_rgb8())
        .collect();
    let embedder = Embedder::bundled(&Device::Cpu).unwrap();
    let fast = embedder.embed_flip_sum(&crops).unwrap();
    let batch = visnir_ffe::preprocess(&crops, &Device::Cpu).unwrap();
    let net = embedder.network();
    let raw = net.forward(&batch).unwrap();
    let mirrored = net.forward(&batch.flip(&[3]).unwrap()).unwrap();
    let candle = visnir_ffe::l2_normalize(&(raw + mirrored).unwrap())
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    for (got, want) in fast.iter().zip(&candle) {
        let c = cosine(got, want);
        assert!(c >= 0.99999, "cosine {c}");
    }
}
