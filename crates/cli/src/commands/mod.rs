//! One module per subcommand.

pub mod detect;
pub mod images;
pub mod metrics;
