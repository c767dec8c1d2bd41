//! Malformed input for the readers of user files: byte flips, insertions and cuts of real
//! files (the legacy torch pickle, PNG and JPEG photos). Every outcome must be a value or a
//! typed error: no panic, no abort, no allocation the input does not justify.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(relative)
}

/// `bytes` with `edits` applied: each `(position, value, kind)` overwrites, inserts or cuts.
fn mutated(bytes: &[u8], edits: &[(usize, u8, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(position, value, kind) in edits {
        let at = position % out.len().max(1);
        match kind % 3 {
            0 => out[at] = value,
            1 => out.insert(at, value),
            _ => {
                out.remove(at);
            }
        }
        if out.is_empty() {
            out.push(value);
        }
    }
    if let Some(cut) = cut {
        out.truncate(cut % (out.len() + 1));
    }
    out
}

fn edits() -> impl Strategy<Value = (Vec<(usize, u8, u8)>, Option<usize>)> {
    (
        proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8),
        proptest::option::of(any::<usize>()),
    )
}

/// Inputs per target: 300, or `VISNIR_FUZZ_CASES` for a longer round.
fn cases() -> u32 {
    std::env::var("VISNIR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_legacy_torch_reader_survives_damaged_files((e, cut) in edits()) {
        let bytes = std::fs::read(fixture("mtcnn/pnet.pt")).unwrap();
        let _ = visnir_nn::torch_legacy::read_legacy_state_dict(&mutated(&bytes, &e, cut));
    }

    #[test]
    fn the_photo_decoder_survives_damaged_files((e, cut) in edits(), jpeg in any::<bool>()) {
        let path = fixture("faces/grace_hopper.png");
        let bytes = if jpeg {
            let mut out = std::io::Cursor::new(Vec::new());
            image::open(&path).unwrap().write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
            out.into_inner()
        } else {
            std::fs::read(&path).unwrap()
        };
        let _ = visnir_nn::decode_rgb(&mutated(&bytes, &e, cut), Path::new("fuzzed"));
    }
}

/// One manifest entry: a name, a shape (small, huge or empty), a dtype.
fn weight_entry() -> impl Strategy<Value = serde_json::Value> {
    (
        "[a-z/_]{0,8}",
        proptest::collection::vec(prop_oneof![0u64..4, Just(1u64 << 40), Just(u64::MAX)], 0..4),
        prop::sample::select(vec!["float32", "int32", "bool", "float16", ""]),
        any::<bool>(),
    )
        .prop_map(|(name, shape, dtype, quantized)| {
            let mut entry = serde_json::json!({"name": name, "shape": shape, "dtype": dtype});
            if quantized {
                entry["quantization"] = serde_json::json!({"dtype": "uint8"});
            }
            entry
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn tfjs_manifests_read_or_fail_cleanly(
        weights in proptest::collection::vec(weight_entry(), 0..5),
        data in proptest::collection::vec(any::<u8>(), 0..64),
        path in prop::sample::select(vec!["w.bin", "../w.bin", "/etc/hostname", "", "missing.bin"]),
    ) {
        let dir = std::env::temp_dir()
            .join(format!("visnir-nn-fuzz-{}", std::process::id()))
            .join("tfjs");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("w.bin"), &data).unwrap();
        let manifest = serde_json::json!({
            "weightsManifest": [{"paths": [path], "weights": weights}]
        });
        let model = dir.join("model.json");
        std::fs::write(&model, manifest.to_string()).unwrap();
        if let Ok(read) = visnir_nn::tfjs::read_tfjs_weights(&model) {
            prop_assert!(path == "w.bin");
            let total: usize = read.tensors.iter().map(|(_, t)| t.elem_count() * 4).sum();
            prop_assert!(total <= data.len());
        }
    }
}

/// proptest's shrunk case from a CI run: the byte count is 0 (a zero dimension) but the strides
/// of the other dimensions overflow; it must be refused, not panic in the tensor's layout.
#[test]
fn a_tfjs_shape_whose_strides_overflow_is_refused() {
    let dir = std::env::temp_dir()
        .join(format!("visnir-nn-fuzz-{}", std::process::id()))
        .join("tfjs-strides");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("w.bin"), []).unwrap();
    let manifest = serde_json::json!({"weightsManifest": [{"paths": ["w.bin"], "weights": [
        {"name": "w", "shape": [0, 2, u64::MAX], "dtype": "float32"}
    ]}]});
    let model = dir.join("model.json");
    std::fs::write(&model, manifest.to_string()).unwrap();
    let err = visnir_nn::tfjs::read_tfjs_weights(&model).unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
}
