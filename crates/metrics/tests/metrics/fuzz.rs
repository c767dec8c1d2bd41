//! Malformed score files: text built from the tokens these files are made of (numbers, labels,
//! separators, comments, non-finite values, stray bytes), and valid files damaged. Parsing and
//! the metrics on whatever parses must give a value or a typed error, never a panic, and a
//! parsed file holds only finite scores.

use proptest::prelude::*;
use visnir_metrics::convention::{bob, pyeer};
use visnir_metrics::score_file;
use visnir_metrics::{csv, identify, split_by_label, verify};

/// Inputs per target: 300, or `VISNIR_FUZZ_CASES` for a longer round.
fn cases() -> u32 {
    std::env::var("VISNIR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(",".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("#".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("s1 s1 p1 ".to_string()),
        Just("s1 m1 s2 p1 ".to_string()),
        Just("label,score".to_string()),
        Just("probe_index,identity".to_string()),
        Just("0".to_string()),
        Just("1".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-1e308".to_string()),
        Just("1e400".to_string()),
        Just("\u{feff}".to_string()),
        Just("é".to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        any::<u32>().prop_map(|v| v.to_string()),
        "[a-z]{1,3}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(token(), 0..60).prop_map(|t| t.concat())
}

fn write(text: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("visnir-metrics-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.csv", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, text).unwrap();
    path
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn labelled_scores_parse_or_fail_cleanly(body in text()) {
        let path = write(&format!("label,score\n{body}"));
        if let Ok((labels, scores)) = csv::read_labeled_scores(&path) {
            prop_assert_eq!(labels.len(), scores.len());
            prop_assert!(scores.iter().all(|s| s.is_finite()));
            if let Ok((genuine, impostor)) = split_by_label(&labels, &scores) {
                let _ = verify(&genuine, &impostor, &[1e-2, 1e-3]);
            }
        }
        let _ = csv::read_labeled_scores(&write(&body));
    }

    #[test]
    fn score_matrices_and_identity_lists_parse_or_fail_cleanly(
        matrix in text(),
        probes in text(),
        gallery in text(),
    ) {
        let scores = csv::read_score_matrix(&write(&matrix));
        let probes = csv::read_identities(&write(&format!("probe_index,identity\n{probes}")));
        let gallery = csv::read_identities(&write(&format!("gallery_index,identity\n{gallery}")));
        if let Ok(scores) = &scores {
            prop_assert!(scores.as_slice().iter().all(|s| s.is_finite()));
            if let (Ok(p), Ok(g)) = (&probes, &gallery) {
                let _ = identify(scores, p, g, &[1, 5], &[1e-2]);
            }
        }
    }

    #[test]
    fn bob_files_and_pyeer_lists_parse_or_fail_cleanly(body in text(), other in text()) {
        if let Ok(comparisons) = score_file::read_bob(&write(&body), None) {
            prop_assert!(comparisons.iter().all(|c| c.score.is_finite()));
            let (genuine, impostor) = score_file::split_comparisons(&comparisons);
            let _ = bob::eer(&impostor, &genuine);
            let _ = bob::tar_at_far(&impostor, &genuine, 1e-2);
            let _ = bob::recognition_rate(&score_file::scores_by_probe(&comparisons), 1);
            let _ = pyeer::stats(&genuine, &impostor);
        }
        let genuine = score_file::read_score_list(&write(&body));
        let impostor = score_file::read_score_list(&write(&other));
        if let (Ok(g), Ok(i)) = (genuine, impostor) {
            prop_assert!(g.iter().chain(&i).all(|s| s.is_finite()));
            let _ = pyeer::stats(&g, &i);
            let _ = bob::eer(&i, &g);
        }
    }
}
