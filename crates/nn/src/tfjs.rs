//! Reader for TensorFlow.js graph-model weights: a `model.json` whose `weightsManifest` lists
//! tensors (name, shape, dtype) stored back to back, little-endian, in the listed `.bin` files.

use std::path::Path;

use candle_core::{Device, Tensor};
use serde_json::Value;

use crate::error::{NnError, Result};

/// The float32 tensors of a TFJS model, in manifest order (other dtypes are skipped by name).
#[derive(Debug)]
pub struct TfjsWeights {
    /// `(name, tensor)` for every float32 entry, with TF's own shape (e.g. `[kh, kw, cin, cout]`).
    pub tensors: Vec<(String, Tensor)>,
    /// Names of entries that were not float32 (graph constants such as reduction indices).
    pub skipped: Vec<String>,
}

fn format_error(message: impl Into<String>) -> NnError {
    NnError::Format(message.into())
}

/// Reads the weights listed in `model_json`; the `.bin` files are looked up beside it.
pub fn read_tfjs_weights(model_json: &Path) -> Result<TfjsWeights> {
    let bytes = crate::image::read_regular_file(model_json, crate::MAX_WEIGHT_FILE_BYTES)
        .map_err(|e| format_error(format!("{}: {e}", model_json.display())))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| format_error(format!("{}: not UTF-8 text: {e}", model_json.display())))?;
    let model: Value = serde_json::from_str(&text)
        .map_err(|e| format_error(format!("{}: {e}", model_json.display())))?;
    let groups = model["weightsManifest"]
        .as_array()
        .ok_or_else(|| format_error(format!("{}: no weightsManifest", model_json.display())))?;
    let dir = model_json.parent().unwrap_or(Path::new("."));
    let mut out = TfjsWeights {
        tensors: Vec::new(),
        skipped: Vec::new(),
    };
    for group in groups {
        let mut bytes = Vec::new();
        for file in group["paths"].as_array().into_iter().flatten() {
            let name = file
                .as_str()
                .ok_or_else(|| format_error("non-string path in manifest"))?;
            let plain = Path::new(name)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
            if !plain || name.is_empty() {
                return Err(format_error(format!(
                    "{}: weight file `{name}` must be a file name beside the manifest",
                    model_json.display()
                )));
            }
            let path = dir.join(name);
            bytes.extend(
                crate::image::read_regular_file(&path, crate::MAX_WEIGHT_FILE_BYTES)
                    .map_err(|e| format_error(format!("{}: {e}", path.display())))?,
            );
        }
        let mut offset = 0usize;
        for entry in group["weights"].as_array().into_iter().flatten() {
            let name = entry["name"]
                .as_str()
                .ok_or_else(|| format_error("weight without a name"))?;
            let shape: Vec<usize> = entry["shape"]
                .as_array()
                .ok_or_else(|| format_error(format!("{name}: no shape")))?
                .iter()
                .map(|d| {
                    d.as_u64()
                        .map(|d| d as usize)
                        .ok_or_else(|| format_error(format!("{name}: bad shape")))
                })
                .collect::<Result<_>>()?;
            if entry.get("quantization").is_some() {
                return Err(format_error(format!(
                    "{name}: quantized weights are not supported"
                )));
            }
            let dtype = entry["dtype"].as_str().unwrap_or("float32");
            let size = match dtype {
                "float32" | "int32" => 4,
                "bool" => 1,
                other => return Err(format_error(format!("{name}: unsupported dtype {other}"))),
            };
            // Every stride of the tensor (a product of trailing dimensions) must fit too, even
            // when a zero dimension makes the byte count 0: bound the product of the non-zero
            // dimensions, which bounds them all.
            let end = shape
                .iter()
                .try_fold(size, |n: usize, &d| n.checked_mul(d.max(1)))
                .and_then(|_| shape.iter().product::<usize>().checked_mul(size))
                .and_then(|n| n.checked_add(offset))
                .ok_or_else(|| format_error(format!("{name}: shape {shape:?} is too large")))?;
            let raw = bytes.get(offset..end).ok_or_else(|| {
                format_error(format!(
                    "{name}: weight data truncated (needs {end} bytes, have {})",
                    bytes.len()
                ))
            })?;
            offset = end;
            if dtype == "float32" {
                let values: Vec<f32> = raw
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                out.tensors.push((
                    name.to_string(),
                    Tensor::from_vec(values, shape, &Device::Cpu)?,
                ));
            } else {
                out.skipped.push(name.to_string());
            }
        }
        if offset != bytes.len() {
            return Err(format_error(format!(
                "{} bytes of weight data left over",
                bytes.len() - offset
            )));
        }
    }
    Ok(out)
}
