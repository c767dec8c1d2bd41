//! One module per subcommand.

pub mod detect;
pub mod embed;
pub mod gan;
pub mod images;
pub mod metrics;
