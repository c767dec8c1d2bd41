//! The several-seed summary: per-seed values side by side, mean and sample standard deviation.

use visnir_pipeline::{score_row, seeds, RowMetrics};

/// A row whose probes are noisy copies of the gallery (more noise: worse recognition).
fn row(method: &str, noise: f32, seed: u64) -> RowMetrics {
    let (subjects, dim) = (6, 192);
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
    };
    let gallery: Vec<f32> = (0..subjects * dim).map(|_| next()).collect();
    let probes: Vec<f32> = gallery.iter().map(|g| g + noise * next()).collect();
    let ids: Vec<String> = (0..subjects).map(|s| format!("s{s}")).collect();
    score_row(method, &gallery, &ids, &probes, &ids).unwrap()
}

#[test]
fn mean_and_sample_deviation() {
    assert_eq!(seeds::mean_std(&[0.5]), (0.5, 0.0));
    let (mean, sd) = seeds::mean_std(&[0.6, 0.7, 0.8]);
    assert!((mean - 0.7).abs() < 1e-12);
    assert!((sd - 0.1).abs() < 1e-12, "divisor n - 1: {sd}");
}

#[test]
fn summary_lists_every_seed_and_the_spread() {
    let runs: Vec<(u64, Vec<RowMetrics>)> = [1u64, 2, 3]
        .iter()
        .map(|&seed| {
            (
                seed,
                vec![
                    row("No translation", 0.5, seed),
                    row("FFE + Lpc", 3.0, seed),
                ],
            )
        })
        .collect();
    let md = seeds::markdown(&runs, 0);
    assert!(
        md.contains("| Method | seed 1 | seed 2 | seed 3 | mean +- sd |"),
        "{md}"
    );
    let json = seeds::json(&runs, 0);
    assert_eq!(json["training_seeds"], serde_json::json!([1, 2, 3]));
    let ffe = &json["methods"][1];
    assert_eq!(ffe["method"], "FFE + Lpc");
    let per_seed: Vec<f64> = ffe["rank1"]["per_seed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let want: Vec<f64> = runs.iter().map(|(_, rows)| rows[1].rank1).collect();
    assert_eq!(per_seed, want);
    let (mean, sd) = seeds::mean_std(&want);
    assert_eq!(ffe["rank1"]["mean"].as_f64().unwrap(), mean);
    assert_eq!(ffe["rank1"]["sd"].as_f64().unwrap(), sd);
    assert!(md.contains(&format!("{:.1} +- {:.1}", 100.0 * mean, 100.0 * sd)));
}
