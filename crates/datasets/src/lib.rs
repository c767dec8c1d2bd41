//! VIS-NIR face datasets for visnir: scanning the Oulu-CASIA NIR-VIS layout into typed records,
//! pairing VIS and NIR images, and reproducible protocol splits written to and read from plain
//! protocol files.
//!
//! ```no_run
//! use visnir_datasets::OuluCasia;
//!
//! let data = OuluCasia::scan("/data/oulu".as_ref())?;
//! let protocol = data.protocol_split(20, 20, 8, 0)?;
//! std::fs::write("oulu.protocol", protocol.to_text()).expect("write");
//! # Ok::<(), visnir_datasets::DatasetError>(())
//! ```

mod error;
mod oulu;
mod protocol;
mod record;

pub use error::{DatasetError, Result};
pub use oulu::{OuluCasia, EXPRESSIONS, ILLUMINATIONS};
pub use protocol::{Protocol, ProtocolEntry, Role, Split};
pub use record::{ImageRecord, Modality};
