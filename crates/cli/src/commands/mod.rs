//! One module per subcommand.

pub mod dataset;
pub mod detect;
pub mod embed;
pub mod evaluate;
pub mod gan;
pub mod images;
pub mod metrics;
