//! The subject-level bootstrap against a direct numpy implementation
//! (`bootstrap_expected.json`, made by `make_bootstrap_golden.py`): every resample's metrics
//! and the percentile intervals within 1e-9; seeded draws are reproducible and cover the point.

use serde_json::Value;
use visnir_metrics::{csv, percentile_intervals, Resample, SubjectBootstrap};

use crate::fixture;

const FARS: [f64; 2] = [1e-2, 1e-3];

fn experiment() -> SubjectBootstrap {
    let scores = csv::read_score_matrix(&fixture("ident_scores.csv")).unwrap();
    let probes = csv::read_identities(&fixture("ident_probe_ids.csv")).unwrap();
    let gallery = csv::read_identities(&fixture("ident_gallery_ids.csv")).unwrap();
    SubjectBootstrap::new(&scores, &probes, &gallery).unwrap()
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("bootstrap_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(what: &str, got: f64, want: &Value) {
    let want = want.as_f64().unwrap();
    assert!(
        (got - want).abs() <= 1e-9,
        "{what}: got {got}, expected {want}"
    );
}

#[test]
fn resamples_and_intervals_match_numpy() {
    let boot = experiment();
    let want = expected();
    assert_eq!(boot.subjects(), 10);
    let mut samples: Vec<Resample> = Vec::new();
    let draws = want["counts"].as_array().unwrap();
    for (k, (counts, w)) in draws
        .iter()
        .zip(want["samples"].as_array().unwrap())
        .enumerate()
    {
        let counts: Vec<u64> = counts
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .collect();
        let got = boot.resample(&counts, &FARS).unwrap();
        close(&format!("#{k} rank1"), got.rank1, &w["rank1"]);
        close(
            &format!("#{k} tar@1e-2"),
            got.tar_at_far[0],
            &w["tar_at_far"][0],
        );
        close(
            &format!("#{k} tar@1e-3"),
            got.tar_at_far[1],
            &w["tar_at_far"][1],
        );
        close(&format!("#{k} eer"), got.eer, &w["eer"]);
        samples.push(got);
    }
    let point = boot.resample(&[1; 10], &FARS).unwrap();
    close("point rank1", point.rank1, &want["point"]["rank1"]);
    close("point eer", point.eer, &want["point"]["eer"]);
    let intervals = percentile_intervals(&samples, samples.len(), 0.95, &FARS).unwrap();
    let iv = &want["intervals"];
    close("rank1 low", intervals.rank1.low, &iv["rank1"][0]);
    close("rank1 high", intervals.rank1.high, &iv["rank1"][1]);
    for k in 0..2 {
        close(
            "tar low",
            intervals.tar_at_far[k].1.low,
            &iv["tar_at_far"][k][0],
        );
        close(
            "tar high",
            intervals.tar_at_far[k].1.high,
            &iv["tar_at_far"][k][1],
        );
    }
    close("eer low", intervals.eer.low, &iv["eer"][0]);
    close("eer high", intervals.eer.high, &iv["eer"][1]);
}

#[test]
fn seeded_intervals_are_reproducible_and_cover_the_point() {
    let boot = experiment();
    let a = boot.intervals(300, 7, 0.95, &FARS).unwrap();
    assert_eq!(a, boot.intervals(300, 7, 0.95, &FARS).unwrap());
    assert_ne!(a, boot.intervals(300, 8, 0.95, &FARS).unwrap());
    let point = boot.resample(&[1; 10], &FARS).unwrap();
    assert!(
        a.rank1.contains(point.rank1),
        "{:?} {}",
        a.rank1,
        point.rank1
    );
    assert!(a.eer.contains(point.eer));
    for (k, (_, interval)) in a.tar_at_far.iter().enumerate() {
        assert!(interval.contains(point.tar_at_far[k]));
        assert!(interval.low < interval.high, "a resampled TAR varies");
    }
    assert_eq!(a.used, 300);
}

#[test]
fn the_unresampled_experiment_gives_the_plain_metrics() {
    // Every subject drawn once is the experiment itself: same numbers as Roc and rank1.
    let scores = csv::read_score_matrix(&fixture("ident_scores.csv")).unwrap();
    let probes = csv::read_identities(&fixture("ident_probe_ids.csv")).unwrap();
    let gallery = csv::read_identities(&fixture("ident_gallery_ids.csv")).unwrap();
    let point = experiment().resample(&[1; 10], &FARS).unwrap();
    let (genuine, impostor) = visnir_metrics::all_pairs(&scores, &probes, &gallery).unwrap();
    let roc = visnir_metrics::Roc::from_scores(&genuine, &impostor).unwrap();
    assert_eq!(point.eer, roc.eer().rate);
    assert_eq!(point.tar_at_far[0], roc.tar_at_far(1e-2).unwrap().step.tar);
    assert_eq!(
        point.rank1,
        visnir_metrics::rank1(&scores, &probes, &gallery).unwrap()
    );
    // Doubling every subject changes nothing either.
    assert_eq!(experiment().resample(&[2; 10], &FARS).unwrap(), point);
}

#[test]
fn a_single_subject_has_no_usable_resample() {
    let scores = visnir_metrics::ScoreMatrix::new(1, 1, vec![0.5]).unwrap();
    let ids = ["a".to_string()];
    let boot = SubjectBootstrap::new(&scores, &ids, &ids).unwrap();
    let err = boot.intervals(10, 0, 0.95, &FARS).unwrap_err();
    assert!(
        matches!(
            err,
            visnir_metrics::MetricsError::NoUsableResample { resamples: 10 }
        ),
        "{err}"
    );
}
