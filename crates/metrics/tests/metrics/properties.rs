//! Properties every correct ROC implementation has, on random score sets.

use proptest::prelude::*;
use visnir_metrics::{cmc, rank1, verify, Roc, ScoreMatrix};

/// Scores on a coarse grid so that ties are frequent.
fn scores(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec((-50i32..=50).prop_map(|v| v as f64 / 50.0), 1..max_len)
}

proptest! {
    #[test]
    fn tar_is_monotone_in_the_far_target(genuine in scores(60), impostor in scores(60)) {
        let roc = Roc::from_scores(&genuine, &impostor).unwrap();
        let targets = [1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.5, 0.9, 1.0];
        let tars: Vec<_> = targets.iter().map(|&t| roc.tar_at_far(t).unwrap()).collect();
        for pair in tars.windows(2) {
            prop_assert!(pair[0].step.tar <= pair[1].step.tar);
            prop_assert!(pair[0].interpolated <= pair[1].interpolated + 1e-12);
        }
        for t in &tars {
            prop_assert!(t.step.far <= t.target);
            prop_assert!(t.interpolated >= t.step.tar - 1e-12);
        }
    }

    #[test]
    fn swapping_labels_gives_one_minus_auc(genuine in scores(60), impostor in scores(60)) {
        let auc = Roc::from_scores(&genuine, &impostor).unwrap().auc();
        let swapped = Roc::from_scores(&impostor, &genuine).unwrap().auc();
        prop_assert!((auc + swapped - 1.0).abs() < 1e-12, "{} + {}", auc, swapped);
    }

    #[test]
    fn auc_is_the_mann_whitney_statistic(genuine in scores(40), impostor in scores(40)) {
        let mut wins = 0.0;
        for g in &genuine {
            for i in &impostor {
                wins += if g > i { 1.0 } else if g == i { 0.5 } else { 0.0 };
            }
        }
        let expected = wins / (genuine.len() * impostor.len()) as f64;
        let auc = Roc::from_scores(&genuine, &impostor).unwrap().auc();
        prop_assert!((auc - expected).abs() < 1e-12);
    }

    #[test]
    fn permuting_scores_changes_nothing(
        genuine in scores(60),
        impostor in scores(60),
        seed in any::<u64>(),
    ) {
        let targets = [0.01, 0.1, 0.3];
        let before = verify(&genuine, &impostor, &targets).unwrap();
        let shuffle = |v: &[f64]| {
            let mut v = v.to_vec();
            let mut s = seed | 1;
            for i in (1..v.len()).rev() {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                v.swap(i, (s % (i as u64 + 1)) as usize);
            }
            v
        };
        let after = verify(&shuffle(&genuine), &shuffle(&impostor), &targets).unwrap();
        prop_assert_eq!(before, after);
    }

    #[test]
    fn rank1_equals_cmc_at_one(
        ids in prop::collection::vec(0u8..5, 2..12),
        values in prop::collection::vec(-100i32..100, 144),
    ) {
        let n = ids.len();
        let data: Vec<f64> = values.iter().take(n * n).map(|&v| v as f64).collect();
        let scores = ScoreMatrix::new(n, n, data).unwrap();
        let r1 = rank1(&scores, &ids, &ids).unwrap();
        let c = cmc(&scores, &ids, &ids, &[1, n]).unwrap();
        prop_assert_eq!(r1, c[0]);
        prop_assert_eq!(c[1], 1.0);
    }
}

#[test]
fn errors_are_typed() {
    use visnir_metrics::MetricsError as E;
    assert!(matches!(Roc::from_scores(&[], &[0.1]), Err(E::NoGenuine)));
    assert!(matches!(Roc::from_scores(&[0.1], &[]), Err(E::NoImpostor)));
    assert!(matches!(
        Roc::from_scores(&[0.1, f64::NAN], &[0.2]),
        Err(E::NonFiniteScore { index: 1, .. })
    ));
    assert!(matches!(
        Roc::from_scores(&[0.1], &[f64::INFINITY]),
        Err(E::NonFiniteScore { index: 1, .. })
    ));
    let roc = Roc::from_scores(&[0.5], &[0.1]).unwrap();
    assert!(matches!(roc.tar_at_far(0.0), Err(E::FarOutOfRange(_))));
    assert!(matches!(roc.tar_at_far(1.5), Err(E::FarOutOfRange(_))));
    assert!(matches!(roc.tar_at_far(f64::NAN), Err(E::FarOutOfRange(_))));
    assert!(matches!(
        Roc::from_labels(&[1, 2], &[0.1, 0.2]),
        Err(E::BadLabel { index: 1, value: 2 })
    ));
    assert!(matches!(
        ScoreMatrix::from_rows(vec![vec![0.1, 0.2], vec![0.3]]),
        Err(E::RaggedMatrix {
            row: 1,
            expected: 2,
            found: 1
        })
    ));
    let scores = ScoreMatrix::new(1, 2, vec![0.1, 0.2]).unwrap();
    assert!(matches!(
        rank1(&scores, &[1], &[1, 2, 3]),
        Err(E::IdentityCountMismatch {
            what: "gallery list",
            expected: 2,
            found: 3
        })
    ));
    assert!(matches!(
        cmc(&scores, &[1], &[1, 2], &[0]),
        Err(E::ZeroRank)
    ));
}

#[test]
fn cosine_matrix_matches_naive_f64() {
    let (m, n, d) = (37, 23, 19);
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64 - 0.5) as f32
    };
    let a: Vec<f32> = (0..m * d).map(|_| next()).collect();
    let mut b: Vec<f32> = (0..n * d).map(|_| next()).collect();
    b[..d].fill(0.0);
    let s = visnir_metrics::cosine_similarity_matrix(&a, &b, d).unwrap();
    assert_eq!((s.rows(), s.cols()), (m, n));
    for i in 0..m {
        for j in 0..n {
            let (x, y) = (&a[i * d..(i + 1) * d], &b[j * d..(j + 1) * d]);
            let dot: f64 = x.iter().zip(y).map(|(&p, &q)| p as f64 * q as f64).sum();
            let nx: f64 = x.iter().map(|&p| p as f64 * p as f64).sum::<f64>().sqrt();
            let ny: f64 = y.iter().map(|&q| q as f64 * q as f64).sum::<f64>().sqrt();
            let want = if ny == 0.0 { 0.0 } else { dot / (nx * ny) };
            assert!(
                (s.row(i)[j] - want).abs() < 1e-5,
                "({i},{j}): {} vs {want}",
                s.row(i)[j]
            );
        }
    }
    assert!(visnir_metrics::cosine_similarity_matrix(&a, &b[1..], d).is_err());
}
