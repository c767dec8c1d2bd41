//! Experiment recipes of visnir, the stages that `cargo xtask reproduce-table2` and the CLI
//! run: prepare a dataset (split, detect and align once into a cache), train the translation
//! models, evaluate VIS-NIR matching through the pretrained embedder, and write the report.

mod error;
mod evaluate;
mod prepare;

pub use error::{io_error, PipelineError, Result};
pub use evaluate::{embed_crops, score_row, RowMetrics};
pub use prepare::{Aligned, Aligner};
