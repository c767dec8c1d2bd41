//! Damaged weight files: byte flips, insertions and cuts of a generator state dict and of a
//! training checkpoint. Loading must give a model or a typed error, never a panic or an abort.

use candle_core::Device;
use proptest::prelude::*;
use visnir_gan::{checkpoint_path, load_generator, Direction, Trainer};

use crate::fixture;
use crate::training_runs::{config, pairs};

/// Inputs per target: 300, or `VISNIR_FUZZ_CASES` for a longer round.
fn cases() -> u32 {
    std::env::var("VISNIR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// `bytes` with `edits` applied: each `(position, value, kind)` overwrites, inserts or cuts,
/// most of them in the header, where the structure is.
fn mutated(bytes: &[u8], edits: &[(usize, u8, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(position, value, kind) in edits {
        let span = if kind & 4 == 0 { 2048 } else { out.len() };
        let at = position % span.min(out.len()).max(1);
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
        proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6),
        proptest::option::of(any::<usize>()),
    )
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("visnir-gan-fuzz-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn damaged_generator_files_load_or_fail_cleanly((e, cut) in edits(), b2a in any::<bool>()) {
        let bytes = std::fs::read(fixture("parity/cyclegan_tiny_G.safetensors")).unwrap();
        let path = scratch("generator").join("g.safetensors");
        std::fs::write(&path, mutated(&bytes, &e, cut)).unwrap();
        let direction = if b2a { Direction::BToA } else { Direction::AToB };
        let _ = load_generator(&path, direction, None, &Device::Cpu);
    }

    #[test]
    fn damaged_checkpoints_resume_or_fail_cleanly((e, cut) in edits()) {
        let dir = scratch("checkpoint");
        let good = dir.join("good.safetensors");
        if !good.is_file() {
            Trainer::new(config(), &dir, false, &Device::Cpu)
                .unwrap()
                .run(&pairs(), Some(2), |_, _| {})
                .unwrap();
            std::fs::copy(checkpoint_path(&dir), &good).unwrap();
        }
        let bytes = std::fs::read(&good).unwrap();
        std::fs::write(checkpoint_path(&dir), mutated(&bytes, &e, cut)).unwrap();
        let _ = Trainer::new(config(), &dir, true, &Device::Cpu);
        let _ = load_generator(&checkpoint_path(&dir), Direction::AToB, None, &Device::Cpu);
    }
}
