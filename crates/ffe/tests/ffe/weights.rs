//! Loading weights from files: clear typed errors for missing, truncated and mis-shaped files.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use visnir_ffe::{Embedder, FfeError};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("visnir-ffe-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn weight_file_errors_are_typed() {
    let dir = scratch("weights");
    let missing = dir.join("missing.safetensors");
    assert!(matches!(
        Embedder::from_safetensors(&missing, &Device::Cpu),
        Err(FfeError::Weights { .. })
    ));

    let truncated = dir.join("truncated.safetensors");
    std::fs::write(&truncated, &visnir_ffe::BUNDLED_WEIGHTS[..1000]).unwrap();
    let err = Embedder::from_safetensors(&truncated, &Device::Cpu).unwrap_err();
    assert!(matches!(err, FfeError::Weights { .. }), "{err}");
    assert!(err.to_string().contains("truncated.safetensors"));

    let mut tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load_buffer(visnir_ffe::BUNDLED_WEIGHTS, &Device::Cpu).unwrap();
    tensors.insert(
        "conv_4.2.dw.weight".into(),
        Tensor::zeros((256, 1, 5, 5), candle_core::DType::F32, &Device::Cpu).unwrap(),
    );
    let reshaped = dir.join("reshaped.safetensors");
    candle_core::safetensors::save(&tensors, &reshaped).unwrap();
    match Embedder::from_safetensors(&reshaped, &Device::Cpu) {
        Err(FfeError::ShapeMismatch {
            name,
            expected,
            found,
        }) => {
            assert_eq!(name, "conv_4.2.dw.weight");
            assert_eq!(expected, [256, 1, 3, 3]);
            assert_eq!(found, [256, 1, 5, 5]);
        }
        other => panic!("expected a shape mismatch, got {other:?}"),
    }

    tensors.remove("linear.bias");
    candle_core::safetensors::save(&tensors, &reshaped).unwrap();
    assert!(matches!(
        Embedder::from_safetensors(&reshaped, &Device::Cpu),
        Err(FfeError::MissingTensor { .. } | FfeError::ShapeMismatch { .. })
    ));

    let good = dir.join("good.safetensors");
    std::fs::write(&good, visnir_ffe::BUNDLED_WEIGHTS).unwrap();
    assert!(Embedder::from_safetensors(&good, &Device::Cpu).is_ok());
}

#[test]
fn wrong_crop_size_is_refused() {
    let embedder = Embedder::bundled(&Device::Cpu).unwrap();
    let err = embedder
        .embed(&[image::RgbImage::new(100, 120)])
        .unwrap_err();
    assert!(
        matches!(
            err,
            FfeError::WrongCropSize {
                width: 100,
                height: 120
            }
        ),
        "{err}"
    );
}
