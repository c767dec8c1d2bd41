//! The typed errors of this crate: what failed, named as itself.

use std::path::PathBuf;

use crate::cyclegan::StepLosses;

/// A failure of one training iteration.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A loss became NaN or infinite; no update of that stage was applied.
    #[error("non-finite {stage} loss: {losses:?}")]
    NonFinite {
        /// `generator` or `discriminator`.
        stage: &'static str,
        /// Every loss of the iteration so far.
        losses: StepLosses,
    },
    /// The embedding-consistency loss is on but the model was given no embedder.
    #[error("the embedding-consistency loss needs an embedder (CycleGan::set_judge)")]
    NoJudge,
    /// The subject-contrast loss is on but the model has no subject prototypes or the batch
    /// no subjects.
    #[error("the subject-contrast loss needs subject prototypes and the subject of every pair")]
    NoSubjects,
    /// A tensor operation failed (a shape mismatch, an allocation, a device error).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// A failure that stops training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A loss became NaN or infinite; the last checkpoint is left as it was.
    #[error("training stopped at step {step}: {message}; the last good checkpoint is intact")]
    NonFinite { step: u64, message: String },
    /// A training iteration failed for another reason than its losses.
    #[error("training step {step} failed: {source}")]
    Step {
        step: u64,
        source: candle_core::Error,
    },
    /// No training pairs.
    #[error("no training images")]
    NoData,
    /// The subject-contrast loss is on but a training pair has no subject.
    #[error(
        "the subject-contrast loss needs the subject of every training pair; pair {index} has none"
    )]
    Unlabelled { index: usize },
    /// A checkpoint could not be written or read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The output directory or the loss log could not be written.
    #[error("{}: {message}", path.display())]
    Log { path: PathBuf, message: String },
    /// The embedder of the embedding-consistency loss could not be loaded.
    #[error("loading the embedder of the embedding-consistency loss: {0}")]
    Judge(#[from] visnir_ffe::FfeError),
    /// An error from candle outside an iteration (building the networks, preparing images).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl TrainError {
    /// The error of iteration `step` (1-based).
    pub(crate) fn at_step(step: u64, error: StepError) -> Self {
        match error {
            StepError::NonFinite { .. } => Self::NonFinite {
                step,
                message: error.to_string(),
            },
            StepError::NoJudge | StepError::NoSubjects => Self::Step {
                step,
                source: candle_core::Error::Msg(error.to_string()),
            },
            StepError::Candle(source) => Self::Step { step, source },
        }
    }
}

/// A failure to write or read a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// File system error.
    #[error("checkpoint {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// The file is not a checkpoint of this model.
    #[error("checkpoint {}: {message}", path.display())]
    Format { path: PathBuf, message: String },
    /// An error from candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// Failures of generator loading.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read or parsed.
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    /// An error from candle (e.g. a missing tensor or a shape mismatch).
    #[error("{}: {source}", path.display())]
    Candle {
        path: PathBuf,
        source: candle_core::Error,
    },
}
