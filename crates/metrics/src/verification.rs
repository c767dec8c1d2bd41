//! The verification summary reported for an experiment: counts, AUC, EER and TAR@FAR.

use serde::Serialize;

use crate::error::Result;
use crate::roc::{Eer, Roc, TarAtFar};

/// Every verification number of one experiment, computed from one ROC.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationReport {
    /// Number of genuine (same identity) pairs.
    pub n_genuine: u64,
    /// Number of impostor (different identity) pairs.
    pub n_impostor: u64,
    /// Area under the ROC curve (ties count 1/2).
    pub auc: f64,
    /// Equal error rate and its threshold.
    pub eer: Eer,
    /// TAR at each requested FAR target, in the order asked.
    pub tar_at_far: Vec<TarAtFar>,
}

impl VerificationReport {
    /// Reads every number off an existing ROC.
    pub fn from_roc(roc: &Roc, far_targets: &[f64]) -> Result<Self> {
        let tar_at_far = far_targets
            .iter()
            .map(|&target| roc.tar_at_far(target))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            n_genuine: roc.n_genuine(),
            n_impostor: roc.n_impostor(),
            auc: roc.auc(),
            eer: roc.eer(),
            tar_at_far,
        })
    }
}

/// Verification metrics from genuine and impostor similarity scores at the given FAR targets.
pub fn verify(
    genuine: &[f64],
    impostor: &[f64],
    far_targets: &[f64],
) -> Result<VerificationReport> {
    VerificationReport::from_roc(&Roc::from_scores(genuine, impostor)?, far_targets)
}
