//! The regression check fails when a metric moves beyond its tolerance, and only then.

use std::collections::BTreeMap;

use visnir_pipeline::{compare, comparison_table, Reference, ReferenceRow, Tolerances};

fn reference() -> Reference {
    Reference {
        description: "test".into(),
        tolerances: Tolerances::default(),
        sizes: BTreeMap::from([("probe images".to_string(), 36)]),
        no_face: 1,
        rows: vec![ReferenceRow {
            method: "FFE + Lpc".into(),
            rank1: 0.5,
            tar_far_1e2: 0.2,
            tar_far_1e3: 0.05,
            auc: 0.8,
            eer: 0.25,
            pixel_l1: 0.2,
        }],
    }
}

#[test]
fn identical_and_within_tolerance_pass() {
    let expected = reference();
    assert!(compare(&expected, &expected).iter().all(|c| c.passed()));
    let mut got = expected.clone();
    got.rows[0].rank1 += 0.05;
    got.rows[0].tar_far_1e2 -= 0.07;
    assert!(compare(&expected, &got).iter().all(|c| c.passed()));
}

#[test]
fn perturbed_metrics_fail_with_a_table() {
    let expected = reference();
    for perturb in [
        (|r: &mut Reference| r.rows[0].rank1 += 0.1) as fn(&mut Reference),
        |r| r.rows[0].tar_far_1e3 -= 0.1,
        |r| r.rows[0].auc = f64::NAN,
        |r| r.rows[0].pixel_l1 += 0.02,
        |r| r.rows[0].method = "renamed".into(),
        |r| r.no_face = 2,
        |r| {
            r.sizes.insert("probe images".into(), 35);
        },
    ] {
        let mut got = expected.clone();
        perturb(&mut got);
        let comparisons = compare(&expected, &got);
        let failed: Vec<_> = comparisons.iter().filter(|c| !c.passed()).collect();
        assert!(!failed.is_empty(), "{got:?}");
        let table = comparison_table(&comparisons);
        assert!(
            table.contains("REGRESSION") && table.contains("expected"),
            "{table}"
        );
    }
}
