//! One module per subcommand.

pub mod dataset;
pub mod detect;
pub mod embed;
pub mod evaluate;
pub mod gan;
pub mod images;
pub mod metrics;

use crate::exit::{CliError, InputContext};

/// The compute device named by a `--device` value (`cpu`, `cuda[:N]`, `metal[:N]`); an unknown
/// or unavailable device is the user's input error.
pub fn parse_device(name: &str) -> Result<candle_core::Device, CliError> {
    name.parse::<visnir_nn::DeviceChoice>()
        .input()?
        .device()
        .input()
}
