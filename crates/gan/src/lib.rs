//! CycleGAN and FFE-CycleGAN for VIS -> NIR face translation, in candle.
//!
//! Networks keep the state-dict keys of the PyTorch reference (junyanz/pytorch-CycleGAN-and-pix2pix)
//! so that official checkpoints load; every layer runs on visnir's fast CPU kernels, or on
//! candle's own ops on CUDA/Metal.
//!
//! ```
//! use candle_core::{DType, Device, Module, Tensor};
//! use candle_nn::{VarBuilder, VarMap};
//! use visnir_gan::{ResnetGenerator, ResnetGeneratorConfig};
//!
//! let varmap = VarMap::new();
//! let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
//! let cfg = ResnetGeneratorConfig { ngf: 8, n_blocks: 2, ..Default::default() };
//! let g = ResnetGenerator::new(cfg, vb).unwrap();
//! let y = g.forward(&Tensor::zeros((1, 3, 32, 32), DType::F32, &Device::Cpu).unwrap()).unwrap();
//! assert_eq!(y.dims(), &[1, 3, 32, 32]);
//! ```

mod adam;
mod checkpoint;
mod cyclegan;
mod discriminator;
mod embedding_loss;
mod error;
mod generator;
mod image_pool;
mod layers;
mod loading;
mod losses;
mod resnet_generator;
mod trainer;
mod training_data;
mod weight_average;

pub use adam::{linear_decay_lr, Adam, AdamConfig};
pub use checkpoint::{load_checkpoint, save_checkpoint, Progress};
pub use cyclegan::{
    CycleGan, CycleGanConfig, StepLosses, SHADING_MAP_LR_SCALE, SKIP_AFFINE_LR_SCALE,
};
pub use discriminator::{DiscriminatorConfig, NLayerDiscriminator};
pub use embedding_loss::{
    embedding_consistency_loss, subject_contrast_loss, triangle_resize, EmbeddingJudge,
    SubjectPrototypes, SUBJECT_LOGIT_SCALE,
};
pub use error::{CheckpointError, LoadError, StepError, TrainError};
pub use generator::{Architecture, FfeGenerator, FfeGeneratorConfig, Generator, GeneratorConfig};
pub use image_pool::ImagePool;
pub use loading::{infer_resnet_config, load_generator, Direction};
pub use losses::{
    cycle_loss, identity_loss, l1_loss, lsgan_loss, parse_loss_weight, pixel_consistency_loss,
    LossWeights,
};
pub use resnet_generator::{ResnetGenerator, ResnetGeneratorConfig};
pub use trainer::{checkpoint_path, parse_crop_side, TrainConfig, Trainer, CROP_SIDES};
pub use training_data::{augment, data_fingerprint, TrainingPair};
pub use weight_average::{parse_ema_decay, WeightAverage};
