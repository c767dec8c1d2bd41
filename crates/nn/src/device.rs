//! Choosing the compute device from a user-facing name (`--device cpu|cuda|metal`).

use std::str::FromStr;

use candle_core::Device;

use crate::error::{NnError, Result};

/// A compute device as named on the command line: `cpu`, `cuda[:N]` or `metal[:N]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The CPU, with the fast CPU kernels of this crate (the default).
    #[default]
    Cpu,
    /// CUDA GPU number N (needs the `cuda` feature).
    Cuda(usize),
    /// Metal GPU number N (needs the `metal` feature).
    Metal(usize),
}

impl FromStr for DeviceChoice {
    type Err = NnError;

    fn from_str(name: &str) -> Result<Self> {
        let lower = name.trim().to_ascii_lowercase();
        let (kind, ordinal) = match lower.split_once(':') {
            Some((kind, n)) => {
                let n = n
                    .parse()
                    .map_err(|_| NnError::UnknownDevice(name.to_string()))?;
                (kind, n)
            }
            None => (lower.as_str(), 0),
        };
        match kind {
            "cpu" if ordinal == 0 => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(ordinal)),
            "metal" => Ok(Self::Metal(ordinal)),
            _ => Err(NnError::UnknownDevice(name.to_string())),
        }
    }
}

/// The command-line name, which parses back to the same choice: `cpu`, `cuda:N`, `metal:N`.
impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
            Self::Metal(n) => write!(f, "metal:{n}"),
        }
    }
}

impl DeviceChoice {
    /// Opens the device; fails with a clear message when its backend was not compiled in.
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(n) => {
                if cfg!(feature = "cuda") {
                    Ok(Device::new_cuda(n)?)
                } else {
                    Err(NnError::BackendNotBuilt("cuda"))
                }
            }
            Self::Metal(n) => {
                if cfg!(feature = "metal") {
                    Ok(Device::new_metal(n)?)
                } else {
                    Err(NnError::BackendNotBuilt("metal"))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("cpu".parse::<DeviceChoice>().unwrap(), DeviceChoice::Cpu);
        assert_eq!(
            "CUDA".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(0)
        );
        assert_eq!(
            "cuda:1".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cuda(1)
        );
        assert_eq!(
            "metal".parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Metal(0)
        );
        assert!("tpu".parse::<DeviceChoice>().is_err());
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert!(DeviceChoice::Cpu.device().unwrap().is_cpu());
    }

    #[test]
    fn names_parse_back() {
        for choice in [
            DeviceChoice::Cpu,
            DeviceChoice::Cuda(1),
            DeviceChoice::Metal(0),
        ] {
            assert_eq!(choice.to_string().parse::<DeviceChoice>().unwrap(), choice);
        }
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
    }
}
