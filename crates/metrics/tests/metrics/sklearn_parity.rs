//! Every number of `expected.json` (scikit-learn 1.9.1) reproduced within 1e-9.

use serde_json::Value;
use visnir_metrics::{csv, identify, Roc, TarAtFar, VerificationReport};

use crate::fixture;

const TOL: f64 = 1e-9;

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("expected.json")).expect("expected.json");
    serde_json::from_str(&text.replace("Infinity", "\"inf\"")).expect("valid JSON")
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        other => other
            .as_f64()
            .unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

fn close(what: &str, got: f64, want: f64) {
    let ok = if want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= TOL
    };
    assert!(ok, "{what}: got {got}, expected {want}");
}

const TARGETS: [f64; 4] = [0.1, 0.01, 0.001, 0.0001];

fn check_report(name: &str, report: &VerificationReport, want: &Value) {
    assert_eq!(
        report.n_genuine,
        want["n_genuine"].as_u64().unwrap(),
        "{name} n_genuine"
    );
    assert_eq!(
        report.n_impostor,
        want["n_impostor"].as_u64().unwrap(),
        "{name} n_impostor"
    );
    close(&format!("{name} auc"), report.auc, num(&want["auc"]));
    close(
        &format!("{name} auc (trapezoid)"),
        report.auc,
        num(&want["auc_trapz_roc"]),
    );
    close(&format!("{name} eer"), report.eer.rate, num(&want["eer"]));
    close(
        &format!("{name} eer threshold"),
        report.eer.threshold,
        num(&want["eer_threshold"]),
    );
    for (key, got) in ["0.1", "0.01", "0.001", "0.0001"]
        .iter()
        .zip(&report.tar_at_far)
    {
        check_tar(&format!("{name} @{key}"), got, &want["tar_at_far"][key]);
    }
}

fn check_tar(name: &str, got: &TarAtFar, want: &Value) {
    close(
        &format!("{name} step tar"),
        got.step.tar,
        num(&want["step"]["tar"]),
    );
    close(
        &format!("{name} step far"),
        got.step.far,
        num(&want["step"]["far"]),
    );
    close(
        &format!("{name} step threshold"),
        got.step.threshold,
        num(&want["step"]["threshold"]),
    );
    close(
        &format!("{name} interpolated"),
        got.interpolated,
        num(&want["interpolated"]),
    );
    close(
        &format!("{name} nearest tar"),
        got.nearest.tar,
        num(&want["nearest"]["tar"]),
    );
    close(
        &format!("{name} nearest far"),
        got.nearest.far,
        num(&want["nearest"]["far"]),
    );
    close(
        &format!("{name} nearest threshold"),
        got.nearest.threshold,
        num(&want["nearest"]["threshold"]),
    );
}

fn verification_case(name: &str) {
    let all = expected();
    let want = &all["verification"][name];
    let (labels, scores) = csv::read_labeled_scores(&fixture(&format!("{name}.csv"))).unwrap();
    let roc = Roc::from_labels(&labels, &scores).unwrap();
    assert_eq!(
        roc.len() as u64,
        want["roc_points"].as_u64().unwrap(),
        "{name} ROC points"
    );
    let report = VerificationReport::from_roc(&roc, &TARGETS).unwrap();
    check_report(name, &report, want);
}

#[test]
fn s1_normal_matches_sklearn() {
    verification_case("s1_normal");
}

#[test]
fn s3_tiny_matches_sklearn() {
    verification_case("s3_tiny");
}

#[test]
fn identification_matches_numpy_and_sklearn() {
    let all = expected();
    let want = &all["identification"];
    let scores = csv::read_score_matrix(&fixture("ident_scores.csv")).unwrap();
    let probes = csv::read_identities(&fixture("ident_probe_ids.csv")).unwrap();
    let gallery = csv::read_identities(&fixture("ident_gallery_ids.csv")).unwrap();
    let report = identify(&scores, &probes, &gallery, &[1, 5, 10], &TARGETS).unwrap();
    assert_eq!(report.n_probe as u64, want["n_probe"].as_u64().unwrap());
    assert_eq!(report.n_gallery as u64, want["n_gallery"].as_u64().unwrap());
    assert_eq!(report.rank1, num(&want["rank1"]));
    let correct = (report.rank1 * report.n_probe as f64).round() as u64;
    assert_eq!(correct, want["correct_top1"].as_u64().unwrap());
    for (rank, value) in &report.cmc {
        assert_eq!(
            *value,
            num(&want["cmc_rank_1_5_10"][rank.to_string()]),
            "CMC@{rank}"
        );
    }
    check_report(
        "all pairs",
        &report.verification,
        &want["verification_all_pairs"],
    );
}
