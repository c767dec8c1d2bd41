//! The regression check: the reproducible part fails when a quantity moves beyond its
//! tolerance; the learning checks pass on the real run and fail on deliberately broken
//! training (pixel loss dropped, gradients ascending, discriminators never updated).

use std::collections::BTreeMap;

use visnir_gan::TrainConfig;
use visnir_pipeline::{
    compare, comparison_table, learning_checks, regression_experiment, Comparison, Method,
    Reference, ReferenceRow,
};

fn reference() -> Reference {
    Reference {
        description: "test".into(),
        sizes: BTreeMap::from([("probe images".to_string(), 36)]),
        no_face: 1,
        no_translation: ReferenceRow {
            method: "No translation".into(),
            rank1: 0.5,
            tar_far_1e2: 0.2,
            tar_far_1e3: 0.05,
            auc: 0.8,
            eer: 0.25,
            pixel_l1: 0.2,
        },
        tolerance: 1e-6,
        trained: Vec::new(),
    }
}

#[test]
fn identical_and_within_tolerance_pass() {
    let expected = reference();
    assert!(compare(&expected, &expected).iter().all(|c| c.passed()));
    let mut got = expected.clone();
    got.no_translation.rank1 += 5e-7;
    got.trained.push(got.no_translation.clone());
    assert!(
        compare(&expected, &got).iter().all(|c| c.passed()),
        "trained rows are never compared"
    );
}

#[test]
fn perturbed_reproducible_quantities_fail_with_a_table() {
    let expected = reference();
    for perturb in [
        (|r: &mut Reference| r.no_translation.rank1 += 1.0 / 36.0) as fn(&mut Reference),
        |r| r.no_translation.tar_far_1e3 -= 1e-5,
        |r| r.no_translation.auc = f64::NAN,
        |r| r.no_translation.pixel_l1 += 1e-5,
        |r| r.no_face = 2,
        |r| {
            r.sizes.insert("probe images".into(), 35);
        },
        |r| {
            r.sizes.insert("validation pairs".into(), 3);
        },
    ] {
        let mut got = expected.clone();
        perturb(&mut got);
        let comparisons = compare(&expected, &got);
        assert!(comparisons.iter().any(|c| !c.passed()), "{got:?}");
        let table = comparison_table(&comparisons);
        assert!(
            table.contains("REGRESSION") && table.contains("expected"),
            "{table}"
        );
    }
}

/// The learning checks of the regression experiment with `adjust` applied to training,
/// restricted to `methods`.
fn checks(name: &str, methods: &[Method], adjust: fn(Method, &mut TrainConfig)) -> Vec<Comparison> {
    let dir = std::env::temp_dir().join(format!("visnir-regress-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = regression_experiment(&dir);
    config.methods = methods.to_vec();
    config.adjust = Some(adjust);
    let outcome = visnir_pipeline::run(&config).unwrap();
    let checks = learning_checks(&outcome).unwrap();
    eprintln!("{name}:\n{}", comparison_table(&checks));
    let _ = std::fs::remove_dir_all(&dir);
    checks
}

fn failures(checks: &[Comparison]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.passed())
        .map(|c| c.what.clone())
        .collect()
}

#[test]
fn learning_checks_catch_broken_training() {
    let lpc = [Method::NoTranslation, Method::BasicLpc];
    let healthy = checks("healthy", &lpc, |_, _| {});
    assert!(
        failures(&healthy).is_empty(),
        "{}",
        comparison_table(&healthy)
    );

    let no_pixel = checks("no-pixel", &lpc, |_, c| c.loss.pixel = 0.0);
    assert!(
        failures(&no_pixel).iter().any(|w| w.contains("pixel")),
        "pixel loss dropped:\n{}",
        comparison_table(&no_pixel)
    );
    let ascent = checks("ascent", &lpc, |_, c| c.adam.lr = -c.adam.lr);
    assert!(
        !failures(&ascent).is_empty(),
        "gradient sign flipped:\n{}",
        comparison_table(&ascent)
    );
    let frozen_d = checks("frozen-d", &lpc, |_, c| c.discriminator_lr_factor = 0.0);
    assert!(
        failures(&frozen_d).iter().any(|w| w.contains("D_A")),
        "discriminators never updated:\n{}",
        comparison_table(&frozen_d)
    );
}
