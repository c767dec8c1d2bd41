//! Reader for PyTorch's legacy (pre-1.6, non-zip) `torch.save` format, in which facenet-pytorch
//! ships its MTCNN weights.
//!
//! The file is a sequence of pickles: a magic number, the protocol version, system info, the
//! state dict (tensors refer to storages by key), the list of storage keys, and then for each
//! key the storage's element count (u64 little-endian) followed by its raw little-endian data.

use std::collections::HashMap;
use std::io::{BufRead, Cursor, Read};

use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Tensor};

use crate::error::{NnError, Result};

/// The 80-bit magic number `0x1950a86a20f9469cfc6c` as pickled by `torch.save` (`LONG1`).
const MAGIC_PICKLE: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];

fn format_error(message: impl Into<String>) -> NnError {
    NnError::Format(message.into())
}

/// True if `bytes` start like a legacy `torch.save` file.
pub fn is_legacy_torch(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC_PICKLE)
}

/// Reads every tensor of a legacy-format state dict, in file order, as f32 CPU tensors.
pub fn read_legacy_state_dict(bytes: &[u8]) -> Result<Vec<(String, Tensor)>> {
    if !is_legacy_torch(bytes) {
        return Err(format_error(
            "not a legacy torch.save file (magic number missing)",
        ));
    }
    let mut reader = Cursor::new(&bytes[MAGIC_PICKLE.len()..]);
    let protocol = unpickle(&mut reader)?;
    if protocol != Object::Int(1001) {
        return Err(format_error(format!(
            "unsupported protocol version {protocol:?}"
        )));
    }
    let _system_info = unpickle(&mut reader)?;
    let state_dict = match unpickle(&mut reader)? {
        Object::Dict(entries) => entries,
        other => {
            return Err(format_error(format!(
                "expected a state dict, found {other:?}"
            )))
        }
    };
    let keys = match unpickle(&mut reader)? {
        Object::List(items) | Object::Tuple(items) => items
            .into_iter()
            .map(|key| {
                key.unicode()
                    .map_err(|o| format_error(format!("storage key {o:?}")))
            })
            .collect::<Result<Vec<String>>>()?,
        other => {
            return Err(format_error(format!(
                "expected the storage key list, found {other:?}"
            )))
        }
    };

    let mut storages: HashMap<String, Vec<f32>> = HashMap::new();
    for key in keys {
        let mut count = [0u8; 8];
        reader
            .read_exact(&mut count)
            .map_err(|_| format_error(format!("storage {key} truncated")))?;
        let count = u64::from_le_bytes(count);
        let left = (reader.get_ref().len() as u64).saturating_sub(reader.position());
        if count.checked_mul(4).is_none_or(|n| n > left) {
            return Err(format_error(format!(
                "storage {key} claims {count} values, more than the {left} bytes left: truncated or corrupt"
            )));
        }
        let mut data = vec![0u8; count as usize * 4];
        reader
            .read_exact(&mut data)
            .map_err(|_| format_error(format!("storage {key} truncated")))?;
        let values = data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        storages.insert(key, values.collect());
    }

    let mut tensors = Vec::with_capacity(state_dict.len());
    for (name, value) in state_dict {
        if name == Object::Unicode("_metadata".into()) {
            continue;
        }
        let info = value
            .into_tensor_info(name.clone(), std::path::Path::new(""))?
            .ok_or_else(|| format_error(format!("entry {name:?} is not a tensor")))?;
        if info.dtype != DType::F32 {
            return Err(format_error(format!(
                "{}: only float32 storages are supported",
                info.name
            )));
        }
        let key = info.path.trim_start_matches('/');
        let storage = storages
            .get(key)
            .ok_or_else(|| format_error(format!("{}: storage {key} missing", info.name)))?;
        let tensor = gather(storage, &info.layout, &info.name)?;
        tensors.push((info.name, tensor));
    }
    Ok(tensors)
}

/// One pickle from the stream (without candle's LONG1 overflow on the magic number).
fn unpickle<R: BufRead>(reader: &mut R) -> Result<Object> {
    let mut stack = Stack::empty();
    stack.read_loop(reader)?;
    Ok(stack.finalize()?)
}

/// Materialises a strided view of a storage as a contiguous tensor.
fn gather(storage: &[f32], layout: &candle_core::Layout, name: &str) -> Result<Tensor> {
    let dims = layout.dims();
    let strides = layout.stride();
    let offset = layout.start_offset() / 4;
    let n = dims
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= storage.len())
        .ok_or_else(|| {
            format_error(format!("{name}: shape {dims:?} is larger than its storage"))
        })?;
    let mut out = Vec::with_capacity(n);
    let mut index = vec![0usize; dims.len()];
    for _ in 0..n {
        let at = offset + index.iter().zip(strides).map(|(i, s)| i * s).sum::<usize>();
        out.push(
            *storage
                .get(at)
                .ok_or_else(|| format_error(format!("{name}: view out of storage")))?,
        );
        for d in (0..dims.len()).rev() {
            index[d] += 1;
            if index[d] < dims[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Ok(Tensor::from_vec(out, dims, &Device::Cpu)?)
}
