//! The facial feature extractor (FFE) of FFE-CycleGAN's generators: MobileFaceNet's trunk,
//! initialised from the pretrained embedder where shapes match, trainable or frozen.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};

use crate::embedder::BUNDLED_WEIGHTS;
use crate::layers::{chain, residual_stack, InvertedResidual, Stem};

/// Which FFE architecture to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TrunkVariant {
    /// The authors' code (`MBFResnetGenerator`): `conv_34` at stride 1, then `conv__45`
    /// (128 -> 256, hidden 256) and `conv__5` (2 residual blocks of 256, hidden 256) at stride 1,
    /// so a 256 x 256 input gives a 64 x 64 x 256 map (stride 4, like CycleGAN's encoder).
    #[default]
    Authors,
    /// The paper's text: the pretrained trunk through `conv_4`, 128 channels at stride 8.
    PaperText,
}

impl TrunkVariant {
    /// Channels of the feature map.
    pub fn out_channels(self) -> usize {
        match self {
            Self::Authors => 256,
            Self::PaperText => 128,
        }
    }

    /// Downsampling factor of the feature map.
    pub fn stride(self) -> usize {
        match self {
            Self::Authors => 4,
            Self::PaperText => 8,
        }
    }
}

/// MobileFaceNet's trunk as a feature extractor (tensor names as [`crate::MobileFaceNet`];
/// the widened stages of the authors' variant are `conv__45` and `conv__5.{0,1}`).
#[derive(Debug, Clone)]
pub struct FfeTrunk {
    stem: Stem,
    widened: Vec<InvertedResidual>,
    variant: TrunkVariant,
}

impl FfeTrunk {
    /// Builds the trunk from `vb`: a `VarMap`-backed builder makes it trainable (fresh tensors
    /// initialised as CycleGAN does; call [`FfeTrunk::load_pretrained`] next), a
    /// tensor-backed one (e.g. [`FfeTrunk::frozen`]) makes it a constant.
    pub fn new(variant: TrunkVariant, vb: VarBuilder) -> Result<Self> {
        let conv_34_stride = if variant == TrunkVariant::Authors {
            1
        } else {
            2
        };
        let widened = match variant {
            TrunkVariant::Authors => {
                let mut stages = vec![InvertedResidual::new(
                    128,
                    256,
                    256,
                    1,
                    false,
                    vb.pp("conv__45"),
                )?];
                stages.extend(residual_stack(2, 256, 256, &vb, "conv__5")?);
                stages
            }
            TrunkVariant::PaperText => Vec::new(),
        };
        Ok(Self {
            stem: Stem::new(conv_34_stride, &vb)?,
            widened,
            variant,
        })
    }

    /// A frozen trunk: every tensor a constant from the bundled weights (the authors' widened
    /// stages, which have no pretrained counterpart, stay at their fresh initialisation).
    pub fn frozen(variant: TrunkVariant, device: &Device) -> Result<Self> {
        let varmap = VarMap::new();
        Self::new(
            variant,
            VarBuilder::from_varmap(&varmap, DType::F32, device),
        )?;
        Self::load_pretrained(&varmap)?;
        let tensors = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned var map".into()))?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_detached_tensor()))
            .collect();
        Self::new(
            variant,
            VarBuilder::from_tensors(tensors, DType::F32, device),
        )
    }

    /// Copies the bundled pretrained values into every variable of `varmap` whose name (after
    /// an optional `prefix.`) and shape match; returns `(loaded, kept fresh)` names.
    pub fn load_pretrained_with_prefix(
        varmap: &VarMap,
        prefix: &str,
    ) -> Result<(Vec<String>, Vec<String>)> {
        let pretrained = candle_core::safetensors::load_buffer(BUNDLED_WEIGHTS, &Device::Cpu)?;
        let data = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned var map".into()))?;
        let (mut loaded, mut fresh) = (Vec::new(), Vec::new());
        let mut names: Vec<&String> = data.keys().collect();
        names.sort();
        for name in names {
            let Some(local) = name.strip_prefix(prefix) else {
                continue;
            };
            let var = &data[name];
            match pretrained.get(local) {
                Some(t) if t.dims() == var.dims() => {
                    var.set(&t.to_device(var.device())?)?;
                    loaded.push(name.clone());
                }
                _ => fresh.push(name.clone()),
            }
        }
        Ok((loaded, fresh))
    }

    /// [`FfeTrunk::load_pretrained_with_prefix`] for a trunk built at the root of `varmap`.
    pub fn load_pretrained(varmap: &VarMap) -> Result<(Vec<String>, Vec<String>)> {
        Self::load_pretrained_with_prefix(varmap, "")
    }

    /// The variant built.
    pub fn variant(&self) -> TrunkVariant {
        self.variant
    }
}

impl Module for FfeTrunk {
    /// Feature map `(N, C, H/s, W/s)` of a `(N, 3, H, W)` input in `[-1, 1]` (MobileFaceNet's
    /// `(x - 127.5) / 128` up to a factor of 1.004).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        chain(&self.widened, &self.stem.forward(x)?)
    }
}
