//! One module per subcommand.

pub mod metrics;
