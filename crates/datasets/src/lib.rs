//! VIS-NIR face datasets for visnir: scanning the Oulu-CASIA NIR-VIS, WHU VIS-NIR and CASIA
//! NIR-VIS 2.0 layouts into typed records, pairing VIS and NIR images, reproducible protocol
//! splits written to and read from plain protocol files, the image preprocessing that training
//! and evaluation share, and a synthetic paired VIS/NIR face generator that writes the real
//! layouts.
//!
//! ```no_run
//! use visnir_datasets::OuluCasia;
//!
//! let data = OuluCasia::scan("/data/oulu".as_ref())?;
//! let protocol = data.protocol_split(20, 20, 8, 0)?;
//! std::fs::write("oulu.protocol", protocol.to_text()).expect("write");
//! # Ok::<(), visnir_datasets::DatasetError>(())
//! ```

mod casia2;
mod error;
mod inspect;
mod oulu;
mod preprocess;
mod protocol;
mod record;
mod scan;
pub mod synth;
mod whu;

pub use casia2::{Casia2, Casia2Fold};
pub use error::{DatasetError, Result};
pub use inspect::{inspect, Inspection, Layout, PairedLayout, Problem};
pub use oulu::{OuluCasia, EXPRESSIONS, ILLUMINATIONS};
pub use preprocess::{Cached, CropCache};
pub use protocol::{Pair, Protocol, ProtocolEntry, Role, Split};
pub use record::{ImageRecord, Modality};
pub use whu::{Whu, POSE_TAGS};
