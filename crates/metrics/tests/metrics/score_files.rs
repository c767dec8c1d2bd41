//! bob and pyeer score files written by visnir read back by visnir give the numbers
//! `bob.measure` 6.1.1 and `pyeer` 0.5.6 computed from the same files (`score_files/
//! expected.json`, made by `make_goldens.py`), within 1e-9.

use std::path::PathBuf;

use serde_json::Value;
use visnir_metrics::convention::{bob, pyeer};
use visnir_metrics::score_file::{self, BobColumns, Comparison};
use visnir_metrics::{csv, MetricsError};

use crate::fixture;

const TOL: f64 = 1e-9;

fn file(name: &str) -> PathBuf {
    fixture("score_files").join(name)
}

fn expected() -> Value {
    let text = std::fs::read_to_string(file("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn close(what: &str, got: f64, want: &Value) {
    let want = want
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number"));
    assert!(
        (got - want).abs() <= TOL,
        "{what}: got {got}, expected {want}"
    );
}

fn check(name: &str, genuine: &[f64], impostor: &[f64]) {
    let want = &expected()[name];
    assert_eq!(genuine.len() as u64, want["n_genuine"].as_u64().unwrap());
    assert_eq!(impostor.len() as u64, want["n_impostor"].as_u64().unwrap());
    let b = &want["bob"];
    close(
        &format!("{name} bob eer"),
        bob::eer(impostor, genuine).unwrap(),
        &b["eer"],
    );
    for far in [0.01, 0.001] {
        let (tar, actual) = bob::tar_at_far(impostor, genuine, far).unwrap();
        close(
            &format!("{name} bob tar@{far}"),
            tar,
            &b[format!("tar_at_far_{far}")],
        );
        close(
            &format!("{name} bob far@{far}"),
            actual,
            &b[format!("far_at_far_{far}")],
        );
    }
    let p = &want["pyeer"];
    let stats = pyeer::stats(genuine, impostor).unwrap();
    for (key, got) in [
        ("eer", stats.eer),
        ("fmr100", stats.fmr100),
        ("fmr1000", stats.fmr1000),
        ("zero_fmr", stats.zero_fmr),
        ("auc", stats.auc),
        ("decidability", stats.decidability),
    ] {
        close(&format!("{name} pyeer {key}"), got, &p[key]);
    }
}

#[test]
fn bob_files_match_bob_measure_and_pyeer() {
    for (name, columns) in [
        ("ident.bob4.txt", BobColumns::Four),
        ("ident.bob5.txt", BobColumns::Five),
    ] {
        // Detected and declared column counts read the same file alike.
        let detected = score_file::read_bob(&file(name), None).unwrap();
        assert_eq!(
            detected,
            score_file::read_bob(&file(name), Some(columns)).unwrap()
        );
        let (genuine, impostor) = score_file::split_comparisons(&detected);
        check(name, &genuine, &impostor);
        let by_probe = score_file::scores_by_probe(&detected);
        for rank in [1, 5] {
            close(
                &format!("{name} recognition rate @{rank}"),
                bob::recognition_rate(&by_probe, rank).unwrap(),
                &expected()[name]["recognition_rate"][rank.to_string()],
            );
        }
    }
}

#[test]
fn pyeer_lists_match_bob_measure_and_pyeer() {
    for name in ["ident.pyeer", "ties.pyeer"] {
        let genuine = score_file::read_score_list(&file(&format!("{name}/genuine.txt"))).unwrap();
        let impostor = score_file::read_score_list(&file(&format!("{name}/impostor.txt"))).unwrap();
        check(name, &genuine, &impostor);
    }
}

fn ident_comparisons() -> Vec<Comparison> {
    let scores = csv::read_score_matrix(&fixture("ident_scores.csv")).unwrap();
    let probes = csv::read_identities(&fixture("ident_probe_ids.csv")).unwrap();
    let gallery = csv::read_identities(&fixture("ident_gallery_ids.csv")).unwrap();
    let labels =
        |what: &str, n: usize| -> Vec<String> { (0..n).map(|i| format!("{what}_{i}")).collect() };
    score_file::comparisons_from_matrix(
        &scores,
        &probes,
        &labels("probe", probes.len()),
        &gallery,
        &labels("gallery", gallery.len()),
    )
    .unwrap()
}

#[test]
fn writing_reproduces_the_files_the_tools_read() {
    let comparisons = ident_comparisons();
    for (name, columns) in [
        ("ident.bob4.txt", BobColumns::Four),
        ("ident.bob5.txt", BobColumns::Five),
    ] {
        let mut out = Vec::new();
        score_file::write_bob(&mut out, &comparisons, columns).unwrap();
        assert_eq!(out, std::fs::read(file(name)).unwrap(), "{name}");
    }
    let (genuine, impostor) = score_file::split_comparisons(&comparisons);
    for (list, scores) in [("genuine", &genuine), ("impostor", &impostor)] {
        let mut out = Vec::new();
        score_file::write_score_list(&mut out, scores).unwrap();
        let path = file(&format!("ident.pyeer/{list}.txt"));
        assert_eq!(out, std::fs::read(path).unwrap(), "{list}");
    }
}

#[test]
fn scores_survive_a_round_trip_bit_for_bit() {
    let comparisons: Vec<Comparison> = [0.1 + 0.2, -1e-300, 1.0 / 3.0, 12345.678901234567]
        .iter()
        .enumerate()
        .map(|(i, &score)| Comparison {
            claimed_id: format!("s{}", i % 2),
            model_label: Some(format!("m{i}")),
            real_id: "s0".into(),
            test_label: format!("p{i}"),
            score,
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("visnir-score-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("round.txt");
    let mut out = Vec::new();
    score_file::write_bob(&mut out, &comparisons, BobColumns::Five).unwrap();
    std::fs::write(&path, out).unwrap();
    assert_eq!(score_file::read_bob(&path, None).unwrap(), comparisons);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_files_name_the_line() {
    let dir = std::env::temp_dir().join(format!("visnir-bad-scores-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (text, columns, line, says) in [
        (
            "# c\na a p1 0.5\na b m p2 0.1\n",
            None,
            3,
            "5 fields, expected 4",
        ),
        ("a a p1 0.5 extra too\n", None, 1, "6 fields"),
        ("a a p1 nan\n", None, 1, "not finite"),
        (
            "a a p1 0.5\n",
            Some(BobColumns::Five),
            1,
            "4 fields, expected 5",
        ),
        ("a a p1 x\n", None, 1, "not a number"),
        ("# only a comment\n", None, 1, "no comparisons"),
    ] {
        let path = dir.join("bad.txt");
        std::fs::write(&path, text).unwrap();
        match score_file::read_bob(&path, columns) {
            Err(MetricsError::Parse {
                line: l, message, ..
            }) => {
                assert_eq!(l, line, "{text:?}: {message}");
                assert!(message.contains(says), "{text:?}: {message}");
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fields_that_would_not_read_back_are_refused() {
    for (claimed, test) in [("a b", "p"), ("", "p"), ("#a", "p"), ("a", "p\tq")] {
        let c = Comparison {
            claimed_id: claimed.into(),
            model_label: None,
            real_id: "a".into(),
            test_label: test.into(),
            score: 0.5,
        };
        let err = score_file::write_bob(&mut Vec::new(), &[c], BobColumns::Four).unwrap_err();
        assert!(matches!(err, MetricsError::UnwritableField { .. }), "{err}");
    }
}

#[test]
fn recognition_rate_counts_ties_against_the_probe() {
    // bob: a probe is missed at rank 1 when any negative reaches its best positive.
    let probes = vec![
        (vec![0.5, 0.2], vec![0.6]),
        (vec![0.6], vec![0.6, 0.1]),
        (vec![0.9], vec![]),
    ];
    assert_eq!(bob::recognition_rate(&probes, 1).unwrap(), 1.0 / 3.0);
    assert_eq!(bob::recognition_rate(&probes, 2).unwrap(), 2.0 / 3.0);
}
