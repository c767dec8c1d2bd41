//! Face detection and alignment for visnir: a candle port of facenet-pytorch's MTCNN
//! (PNet/RNet/ONet, image pyramid, NMS, box regression, five landmarks) and similarity-transform
//! alignment to the ArcFace template.
//!
//! The bundled weights are facenet-pytorch 2.6.0's (MIT), converted by `cargo xtask
//! import-weights`; detections match the reference on real photos (see the crate tests).
//!
//! ```no_run
//! use visnir_alignment::{align, Mtcnn, MtcnnConfig, Template};
//!
//! let image = visnir_nn::load_rgb("photo.jpg".as_ref())?;
//! let mtcnn = Mtcnn::bundled(MtcnnConfig::default(), &candle_core::Device::Cpu)?;
//! for face in mtcnn.detect(&image)? {
//!     let crop = align(&image, &face.landmarks, &Template::arcface(112))?;
//!     crop.save("face.png").expect("write");
//! }
//! # Ok::<(), visnir_alignment::AlignmentError>(())
//! ```
//!
//! Alignment alone, from known landmarks:
//!
//! ```
//! use visnir_alignment::{similarity_transform, Template, ARCFACE_112};
//!
//! let t = Template::arcface(224);
//! let m = similarity_transform(&ARCFACE_112, &t.points).unwrap();
//! assert!((m[0][0] - 2.0).abs() < 1e-9 && m[0][1].abs() < 1e-9 && m[0][2].abs() < 1e-9);
//! ```

mod align;
mod boxes;
mod detector;
mod error;
pub mod nets;
mod resample;

pub use align::{align, similarity_transform, warp_affine, Affine, Template, ARCFACE_112};
pub use detector::{Face, Mtcnn, MtcnnConfig, BUNDLED_WEIGHTS, MAX_PYRAMID_PIXELS};
pub use error::{AlignmentError, Result};
pub use resample::Planar;
