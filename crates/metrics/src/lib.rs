//! Evaluation metrics for face verification and identification, matching scikit-learn.
//!
//! `visnir-metrics` turns similarity scores into the numbers face-recognition papers report:
//! the ROC curve (one point per distinct score, as `sklearn.metrics.roc_curve(...,
//! drop_intermediate=False)`), TAR@FAR (step, interpolated and nearest-point conventions),
//! AUC, EER, Rank-1 and CMC, plus a parallel cosine-similarity matrix. It is pure Rust, has no
//! deep-learning dependency and can be used on its own. Scores are similarities: a pair is
//! accepted iff `score >= threshold`.
//!
//! ```
//! use visnir_metrics::{verify, Roc};
//!
//! let genuine = [0.9, 0.7, 0.7, 0.3];
//! let impostor = [0.8, 0.7, 0.5, 0.3, 0.3, 0.1];
//! let report = verify(&genuine, &impostor, &[0.1]).unwrap();
//! assert!((report.auc - 0.708_333_333_333_333_4).abs() < 1e-12);
//! assert_eq!(report.tar_at_far[0].step.tar, 0.25); // at threshold 0.9, FAR 0
//! assert!((report.eer.rate - 0.3125).abs() < 1e-12);
//!
//! let roc = Roc::from_scores(&genuine, &impostor).unwrap();
//! assert_eq!(roc.len(), 7); // +inf and six distinct scores
//! ```

mod bootstrap;
mod error;
mod frechet;
mod identification;
mod image_quality;
mod roc;
mod similarity;
mod sort;
mod verification;

pub mod convention;
pub mod csv;
pub mod score_file;

pub use bootstrap::{
    percentile_intervals, BootstrapIntervals, Interval, Resample, SubjectBootstrap,
};
pub use error::{MetricsError, Result};
pub use frechet::frechet_distance;
pub use identification::{
    all_pairs, cmc, identify, rank1, true_identity_ranks, IdentificationReport, ScoreMatrix,
};
pub use image_quality::{psnr, ssim, Planes};
pub use roc::{split_by_label, Eer, OperatingPoint, Roc, TarAtFar};
pub use similarity::cosine_similarity_matrix;
pub use verification::{verify, VerificationReport};
