//! Tests of `visnir-pipeline`: the regression comparison, the pairing of protocol entries,
//! the paper's bundled tables and a tiny end-to-end experiment with its report.

mod experiment;
mod prepare;
mod regression;
mod score_files;
mod seeds;
