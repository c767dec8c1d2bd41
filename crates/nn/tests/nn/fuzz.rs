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
