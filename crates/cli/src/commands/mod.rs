//! One module per subcommand.

pub mod dataset;
pub mod detect;
pub mod embed;
pub mod evaluate;
pub mod gan;
pub mod images;
pub mod metrics;

use clap::Args;
use visnir_nn::DeviceChoice;

use crate::exit::{CliError, InputContext};

/// The `--device` option every command that runs a model shares.
#[derive(Debug, Clone, Args)]
pub struct DeviceArg {
    /// Compute device: cpu, cuda[:N] or metal[:N].
    #[arg(long = "device", value_name = "DEVICE", default_value = "cpu")]
    choice: DeviceChoice,
}

impl DeviceArg {
    /// Opens the device; one whose backend was not built in is the user's input error.
    pub fn open(&self) -> Result<candle_core::Device, CliError> {
        self.choice.device().input()
    }
}
