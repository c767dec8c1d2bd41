//! How the upstream TensorFlow (TFJS) tensors of sirius-ai's MobileFaceNet map onto ours.
//!
//! | upstream (`MobileFaceNet/MobileFaceNet/...` unless noted) | ours |
//! |---|---|
//! | `Conv2d_0/Conv2D_*`, `Conv2d_0/mul` | `conv1.*` |
//! | `SeparableConv2d/depthwise_*`, `SeparableConv2d/mul` | `conv2_dw.*` |
//! | `Conv/Conv2D_*` | `conv2_pw.*` |
//! | `Conv2d_2_InvResBlock_0` / `_1.._4` | `conv_23` / `conv_3.0..3` |
//! | `Conv2d_3_InvResBlock_0` | `conv_34` |
//! | `Conv2d_4_InvResBlock_0.._5` | `conv_4.0..5` |
//! | `Conv2d_5_InvResBlock_0` | `conv_45` |
//! | `Conv2d_6_InvResBlock_0.._1` | `conv_5.0..1` |
//! | inside a block: `Conv/`, `SeparableConv2d/`, `Conv_1/` | `expand.`, `dw.`, `project.` |
//! | `Conv2d_7/*` | `conv_6_sep.*` |
//! | `MobileFaceNet/Logits/SeparableConv2d/depthwise_*` | `conv_6_dw.*` |
//! | `MobileFaceNet/Logits/Conv/Conv2D_*` | `conv_6_pw.*` |
//! | `MobileFaceNet/Logits/LinearConv1x1/Conv2D_*` | `linear.*` |
//!
//! Suffixes: `Conv2D_weights` `[kh,kw,cin,cout]` -> `weight` `[cout,cin,kh,kw]`;
//! `depthwise_weights` `[kh,kw,c,1]` -> `weight` `[c,1,kh,kw]`; `*_bn_offset` (BatchNorm folded)
//! -> `bias`; `mul` -> `prelu` = **-2 x mul**: the TFJS graph computes PReLU as
//! `relu(z) + c*(z - |z|)` with `c = -mul` (its shipped graph has the sign flipped), a slope of
//! `2c` for negative `z`.

use candle_core::{Result, Tensor};

/// Our name for an upstream tensor, or `None` for graph constants that carry no weight.
pub fn tfjs_name(upstream: &str) -> Option<String> {
    let (scope, leaf) = upstream.rsplit_once('/')?;
    let suffix = match leaf {
        "Conv2D_weights" | "depthwise_weights" => "weight",
        "Conv2D_bn_offset" | "depthwise_bn_offset" => "bias",
        "mul" => "prelu",
        _ => return None,
    };
    let prefix = if let Some(rest) = scope.strip_prefix("MobileFaceNet/Logits/") {
        match rest {
            "SeparableConv2d" => "conv_6_dw".to_string(),
            "Conv" => "conv_6_pw".to_string(),
            "LinearConv1x1" => "linear".to_string(),
            _ => return None,
        }
    } else {
        let rest = scope.strip_prefix("MobileFaceNet/MobileFaceNet/")?;
        match rest {
            "Conv2d_0" => "conv1".to_string(),
            "SeparableConv2d" => "conv2_dw".to_string(),
            "Conv" => "conv2_pw".to_string(),
            "Conv2d_7" => "conv_6_sep".to_string(),
            _ => {
                let (block, part) = rest.split_once('/')?;
                let (group, index) = block.split_once("_InvResBlock_")?;
                let index: usize = index.parse().ok()?;
                let stage = match (group, index) {
                    ("Conv2d_2", 0) => "conv_23".to_string(),
                    ("Conv2d_2", i) => format!("conv_3.{}", i - 1),
                    ("Conv2d_3", 0) => "conv_34".to_string(),
                    ("Conv2d_4", i) => format!("conv_4.{i}"),
                    ("Conv2d_5", 0) => "conv_45".to_string(),
                    ("Conv2d_6", i) => format!("conv_5.{i}"),
                    _ => return None,
                };
                let part = match part {
                    "Conv" => "expand",
                    "SeparableConv2d" => "dw",
                    "Conv_1" => "project",
                    _ => return None,
                };
                format!("{stage}.{part}")
            }
        }
    };
    Some(format!("{prefix}.{suffix}"))
}

/// Converts one upstream tensor to our layout (see the module doc), given its upstream name.
pub fn convert_tfjs_tensor(upstream: &str, tensor: &Tensor) -> Result<Tensor> {
    if upstream.ends_with("/Conv2D_weights") {
        tensor.permute((3, 2, 0, 1))?.contiguous()
    } else if upstream.ends_with("/depthwise_weights") {
        tensor.permute((2, 3, 0, 1))?.contiguous()
    } else if upstream.ends_with("/mul") {
        tensor.affine(-2.0, 0.0)
    } else {
        Ok(tensor.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::tfjs_name;

    #[test]
    fn maps_upstream_names() {
        let cases = [
            (
                "MobileFaceNet/MobileFaceNet/Conv2d_0/Conv2D_weights",
                "conv1.weight",
            ),
            ("MobileFaceNet/MobileFaceNet/Conv2d_0/mul", "conv1.prelu"),
            (
                "MobileFaceNet/MobileFaceNet/SeparableConv2d/depthwise_bn_offset",
                "conv2_dw.bias",
            ),
            (
                "MobileFaceNet/MobileFaceNet/Conv/Conv2D_weights",
                "conv2_pw.weight",
            ),
            (
                "MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_0/Conv/mul",
                "conv_23.expand.prelu",
            ),
            (
                "MobileFaceNet/MobileFaceNet/Conv2d_2_InvResBlock_3/Conv_1/Conv2D_weights",
                "conv_3.2.project.weight",
            ),
            (
                "MobileFaceNet/MobileFaceNet/Conv2d_6_InvResBlock_1/SeparableConv2d/mul",
                "conv_5.1.dw.prelu",
            ),
            (
                "MobileFaceNet/MobileFaceNet/Conv2d_7/mul",
                "conv_6_sep.prelu",
            ),
            (
                "MobileFaceNet/Logits/LinearConv1x1/Conv2D_bn_offset",
                "linear.bias",
            ),
        ];
        for (upstream, ours) in cases {
            assert_eq!(tfjs_name(upstream).as_deref(), Some(ours), "{upstream}");
        }
        assert_eq!(tfjs_name("embeddings/Maximum/y"), None);
    }
}
