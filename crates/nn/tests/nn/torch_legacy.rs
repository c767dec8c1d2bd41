//! The legacy torch pickle reader against the same weights exported by PyTorch as safetensors.

use std::path::PathBuf;

fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(relative)
}

#[test]
fn reads_facenet_pnet_exactly_as_pytorch_does() {
    let bytes = std::fs::read(fixture("mtcnn/pnet.pt")).unwrap();
    assert!(visnir_nn::torch_legacy::is_legacy_torch(&bytes));
    let ours = visnir_nn::torch_legacy::read_legacy_state_dict(&bytes).unwrap();
    let reference = candle_core::safetensors::load(
        fixture("parity/mtcnn_pnet.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    assert_eq!(ours.len(), reference.len());
    for (name, tensor) in &ours {
        let want = &reference[name];
        assert_eq!(tensor.dims(), want.dims(), "{name}");
        let a: Vec<f32> = tensor.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = want.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn rejects_truncated_and_foreign_files() {
    let bytes = std::fs::read(fixture("mtcnn/pnet.pt")).unwrap();
    let truncated = &bytes[..bytes.len() - 100];
    let err = visnir_nn::torch_legacy::read_legacy_state_dict(truncated).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    let err =
        visnir_nn::torch_legacy::read_legacy_state_dict(b"PK\x03\x04 not legacy").unwrap_err();
    assert!(err.to_string().contains("magic"), "{err}");
}
