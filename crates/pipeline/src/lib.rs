//! Experiment recipes of visnir, the stages that `cargo xtask reproduce-table2` and the CLI
//! run: prepare a dataset (synthetic or real, split by a protocol, detected and aligned once
//! into a cache), train the translation models (Basic CycleGAN, Basic + Lpc, FFE + Lpc),
//! evaluate VIS-NIR matching through the pretrained embedder, and write the report.

mod bounds;
mod checkpoint_eval;
mod curves;
mod data;
mod error;
mod error_map;
mod evaluate;
mod experiment;
mod html;
mod method;
mod nir_floor;
mod pixel_regression;
mod plots;
mod prepare;
mod register;
mod regression;
mod report;
mod scale;
mod score_plots;
pub mod seeds;
mod split;
mod train;

pub use bounds::{
    bounds_markdown, measure as measure_bounds, write_bounds, BoundRow, Bounds, BoundsConfig,
};
pub use checkpoint_eval::{evaluate_checkpoint, CheckpointEval, CheckpointReport};
pub use curves::CurvePoint;
pub use error::{PipelineError, Result};
pub use evaluate::{embed_crops, mean_abs_difference, score_row, write_score_file, RowMetrics};
pub use experiment::{
    methods, report_dir, run, Examples, ExperimentConfig, Outcome, Select, ALIGN_SIZE,
};
pub use method::Method;
pub use prepare::Aligner;
pub use regression::{
    compare, comparison_table, learning_checks, regression_experiment, Check, Comparison,
    Reference, ReferenceRow,
};
pub use report::{
    markdown, paper_rows, percent_with_interval, write as write_report, PaperTable, PAPER_TABLES,
};
pub use scale::{Scale, Settings};
pub use split::{LabelledCrop, Parts, PreparedSplit, Skipped, SkippedImage, SubjectPair};
pub use train::{train, train_config, translate, translate_with, Trained};
pub use visnir_datasets::PairedLayout;
