//! Loading a trained generator for translation: from a visnir training checkpoint, a
//! safetensors state dict, or an official PyTorch CycleGAN `.pth` (zip-format state dict),
//! with the ResNet size inferred from the tensors.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::checkpoint::GeneratorKind;
use crate::error::LoadError;
use crate::generator::{FfeGeneratorConfig, Generator, GeneratorConfig};
use crate::resnet_generator::ResnetGeneratorConfig;

/// Which translation direction of a two-generator checkpoint to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `G_A`: domain A to B (VIS to NIR in visnir's runs).
    AToB,
    /// `G_B`: domain B to A.
    BToA,
}

/// The tensors of `path` and what its visnir metadata says about the generators.
fn read_tensors(path: &Path) -> Result<(HashMap<String, Tensor>, GeneratorKind), LoadError> {
    let fail = |message: String| LoadError::File {
        path: path.to_path_buf(),
        message,
    };
    let bytes =
        visnir_nn::read_regular_file(path, visnir_nn::MAX_WEIGHT_FILE_BYTES).map_err(fail)?;
    if bytes.starts_with(b"PK") {
        let tensors = candle_core::pickle::read_all(path)
            .map_err(|e| fail(format!("not a PyTorch state dict: {e}")))?;
        return Ok((tensors.into_iter().collect(), GeneratorKind::default()));
    }
    let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu)
        .map_err(|e| fail(format!("neither safetensors nor a PyTorch zip: {e}")))?;
    let kind = safetensors::SafeTensors::read_metadata(&bytes)
        .ok()
        .and_then(|(_, header)| crate::checkpoint::visnir_metadata(&header))
        .map(|meta| GeneratorKind::from_meta(&meta))
        .unwrap_or_default();
    Ok((tensors, kind))
}

/// The number of ResNet blocks in a generator's state dict.
fn count_blocks(tensors: &HashMap<String, Tensor>) -> usize {
    tensors
        .keys()
        .filter(|k| k.starts_with("model.") && k.ends_with(".conv_block.1.weight"))
        .count()
}

/// Refuses weights that hold NaN or infinity (they translate every image to black).
fn check_finite(tensors: &HashMap<String, Tensor>) -> Result<(), String> {
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    for name in names {
        let values = tensors[name]
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all()?.to_vec1::<f32>())
            .map_err(|e| format!("tensor `{name}`: {e}"))?;
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(format!(
                "tensor `{name}` holds {bad}: the weights are corrupt (a diverged run?)"
            ));
        }
    }
    Ok(())
}

/// The ResNet generator size implied by a state dict (`model.1.weight` and the block count).
pub fn infer_resnet_config(tensors: &HashMap<String, Tensor>) -> Option<ResnetGeneratorConfig> {
    let first = tensors.get("model.1.weight")?;
    let (ngf, input_nc) = (first.dim(0).ok()?, first.dim(1).ok()?);
    let n_blocks = count_blocks(tensors);
    let last = tensors.get(&format!("model.{}.weight", 17 + n_blocks))?;
    Some(ResnetGeneratorConfig {
        input_nc,
        output_nc: last.dim(0).ok()?,
        ngf,
        n_blocks,
    })
}

/// Loads the generator of `direction` from `path`; `ffe` selects the FFE architecture. A visnir
/// checkpoint says whether its generators are residual and whether G_A's output is grey (other
/// files hold plain ones), and from one that kept a weight average the averaged generator is
/// loaded.
pub fn load_generator(
    path: &Path,
    direction: Direction,
    ffe: Option<FfeGeneratorConfig>,
    device: &Device,
) -> Result<Generator, LoadError> {
    let fail = |message: String| LoadError::File {
        path: path.to_path_buf(),
        message,
    };
    let (mut tensors, kind) = read_tensors(path)?;
    let name = match direction {
        Direction::AToB => "G_A.",
        Direction::BToA => "G_B.",
    };
    // A run that kept a weight average translates with it (`avg.*`), as its report did.
    let averaged = format!("avg.{name}");
    let prefix = if tensors.keys().any(|k| k.starts_with(&averaged)) {
        averaged
    } else {
        format!("net.{name}")
    };
    let prefix = prefix.as_str();
    if tensors.keys().any(|k| k.starts_with(prefix)) {
        tensors = tensors
            .into_iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v)))
            .collect();
    } else if direction == Direction::BToA {
        return Err(fail(
            "holds a single generator, not a training checkpoint with G_A and G_B; \
             only the A -> B direction can be loaded from it"
                .into(),
        ));
    }
    check_finite(&tensors).map_err(fail)?;
    let config = match ffe {
        Some(c) => GeneratorConfig::Ffe(FfeGeneratorConfig {
            n_blocks: count_blocks(&tensors),
            ..c
        }),
        None => GeneratorConfig::Resnet(infer_resnet_config(&tensors).ok_or_else(|| LoadError::File {
            path: path.to_path_buf(),
            message: "no ResNet generator found (expected model.1.weight ...; use --arch ffe for FFE generators)".into(),
        })?),
    };
    let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
    let candle = |source| LoadError::Candle {
        path: path.to_path_buf(),
        source,
    };
    Ok(Generator::new(config, vb.clone())
        .map_err(candle)?
        .with_residual(kind.residual)
        .with_skip_affine(kind.skip_affine, vb.clone())
        .map_err(candle)?
        .with_shading_map(kind.shading_map, vb)
        .map_err(candle)?
        .with_monochrome(kind.monochrome_b && direction == Direction::AToB))
}
