//! `cargo xtask bench datasets`: speed of the synthetic generator and its realism as the real
//! detector and embedder see it (detection rate, VIS-VIS and NIR-VIS identification).

use std::path::PathBuf;
use std::time::Instant;

use candle_core::Device;
use visnir_datasets::synth::{self, SynthConfig};
use visnir_ffe::Embedder;
use visnir_pipeline::{embed_crops, score_row, Aligner};

/// Generates `subjects` Oulu-like subjects (4 frames per expression) and reports the numbers
/// issue 6 asks for.
pub fn run(subjects: usize, seed: u64) -> anyhow::Result<()> {
    let root = std::env::temp_dir().join(format!("visnir-bench-synth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut config = SynthConfig::oulu(subjects, seed);
    config.per_condition = 4;
    let start = Instant::now();
    let images = synth::generate(&config, &root.join("data"), &|| {})?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "synth: {images} images ({subjects} subjects, 320x240 JPEG) in {secs:.2} s = {:.0} images/s",
        images as f64 / secs
    );
    let device = Device::Cpu;
    let aligner = Aligner::new(&root.join("cache"), 112, &device)?;
    let embedder = Embedder::bundled(&device)?;
    let mut sets: Vec<(String, Vec<PathBuf>, Vec<String>)> = Vec::new();
    for (name, modality, frames) in [
        ("vis-gallery", 0, [0, 1]),
        ("vis-probe", 0, [2, 3]),
        ("nir-gallery", 1, [0, 1]),
        ("nir-probe", 1, [2, 3]),
    ] {
        let mut paths = Vec::new();
        let mut ids = Vec::new();
        for s in 0..subjects {
            for c in 0..6 {
                for f in frames {
                    let (vis, nir) = config.paths(s, c, f);
                    paths.push(if modality == 0 { vis } else { nir });
                    ids.push(format!("P{:03}", s + 1));
                }
            }
        }
        sets.push((name.to_string(), paths, ids));
    }
    let start = Instant::now();
    let mut embedded = Vec::new();
    for (name, paths, ids) in &sets {
        let aligned = aligner.align_all(&root.join("data"), paths, &|| {})?;
        let found = aligned.iter().filter(|c| c.is_ok()).count();
        println!(
            "MTCNN {name}: face found in {found}/{} = {:.1}%",
            paths.len(),
            100.0 * found as f64 / paths.len() as f64
        );
        let (crops, kept): (Vec<_>, Vec<_>) = aligned
            .into_iter()
            .zip(ids)
            .filter_map(|(c, id)| c.ok().map(|c| (c, id.clone())))
            .unzip();
        embedded.push((embed_crops(&embedder, &crops)?, kept));
    }
    println!("align + embed: {:.1} s", start.elapsed().as_secs_f64());
    for (label, g, p) in [
        ("VIS gallery vs VIS probes", 0, 1),
        ("VIS gallery vs NIR probes", 0, 3),
        ("NIR gallery vs NIR probes", 2, 3),
    ] {
        let row = score_row(
            label,
            &embedded[g].0,
            &embedded[g].1,
            &embedded[p].0,
            &embedded[p].1,
        )?;
        println!(
            "{label}: Rank-1 {:.3}  TAR@FAR=1% {:.3}  TAR@FAR=0.1% {:.3}  EER {:.3}",
            row.rank1, row.tar_far_1e2, row.tar_far_1e3, row.eer
        );
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
