//! `cargo xtask bench layers`: forward and backward of the generator's layers one at a time,
//! beside PyTorch 2.15's times for the same shapes on this machine (2 threads).

use std::time::Duration;

use candle_core::{DType, Device, Module, Tensor, Var};
use visnir_nn::{conv2d, conv_transpose2d, instance_norm, ConvSpec, ConvTransposeSpec, PadMode};

use crate::bench::{median_time, report};

/// One convolution shape of the ResNet generator.
struct ConvCase {
    name: &'static str,
    cin: usize,
    cout: usize,
    kernel: usize,
    size: usize,
    spec: ConvSpec,
    /// PyTorch 2.15 forward / backward (dx + dW + db) in ms.
    torch: (f64, f64),
}

/// Times `forward` alone and forward + backward of `sum(forward * g)`; returns (fwd, bwd).
fn forward_backward(
    repeats: usize,
    forward: impl Fn() -> candle_core::Result<Tensor>,
) -> anyhow::Result<(Duration, Duration)> {
    let y = forward()?;
    let g = Tensor::randn(0f32, 1.0, y.shape(), y.device())?;
    let fwd = median_time(repeats, &forward);
    let both = median_time(repeats, || -> candle_core::Result<()> {
        let loss = (forward()? * &g)?.sum_all()?;
        loss.backward()?;
        Ok(())
    });
    Ok((fwd, both.saturating_sub(fwd)))
}

/// Prints forward and backward beside PyTorch's `torch` times in ms.
fn show(name: &str, (fwd, bwd): (Duration, Duration), torch: (f64, f64)) {
    report(
        &format!("{name} forward"),
        fwd,
        &format!("PyTorch 2.15: {:.2} ms", torch.0),
    );
    report(
        &format!("{name} backward"),
        bwd,
        &format!("PyTorch 2.15: {:.2} ms", torch.1),
    );
}

/// Runs the layer benchmarks.
pub fn run(repeats: usize) -> anyhow::Result<()> {
    let device = Device::Cpu;
    let reflect = |pad| ConvSpec::symmetric(1, pad, PadMode::Reflect);
    let cases = [
        ConvCase {
            name: "conv 256->256 3x3 reflect @32",
            cin: 256,
            cout: 256,
            kernel: 3,
            size: 32,
            spec: reflect(1),
            torch: (8.23, 13.86),
        },
        ConvCase {
            name: "conv 3->64 7x7 reflect @128",
            cin: 3,
            cout: 64,
            kernel: 7,
            size: 128,
            spec: reflect(3),
            torch: (4.21, 11.70),
        },
        ConvCase {
            name: "conv 64->128 3x3 s2 @128",
            cin: 64,
            cout: 128,
            kernel: 3,
            size: 128,
            spec: ConvSpec::symmetric(2, 1, PadMode::Zeros),
            torch: (4.44, 14.90),
        },
        ConvCase {
            name: "conv 64->3 7x7 reflect @128",
            cin: 64,
            cout: 3,
            kernel: 7,
            size: 128,
            spec: reflect(3),
            torch: (12.61, 20.49),
        },
    ];
    for case in cases {
        let x = Var::randn(0f32, 1.0, (1, case.cin, case.size, case.size), &device)?;
        let k = case.kernel;
        let w = Var::randn(0f32, 0.02, (case.cout, case.cin, k, k), &device)?;
        let b = Var::zeros(case.cout, DType::F32, &device)?;
        let times = forward_backward(repeats, || conv2d(&x, &w, &b, case.spec))?;
        show(case.name, times, case.torch);
    }
    let x = Var::randn(0f32, 1.0, (1, 256, 32, 32), &device)?;
    let w = Var::randn(0f32, 0.02, (256, 128, 3, 3), &device)?;
    let b = Var::zeros(128, DType::F32, &device)?;
    let up = ConvTransposeSpec {
        stride: 2,
        padding: 1,
        output_padding: 1,
    };
    let times = forward_backward(repeats, || conv_transpose2d(&x, &w, &b, up))?;
    show("conv transpose 256->128 3x3 s2 @32", times, (4.52, 9.26));
    for (c, size, torch) in [(256, 32, (0.328, 0.239)), (64, 128, (1.218, 1.208))] {
        let x = Var::randn(0f32, 1.0, (1, c, size, size), &device)?;
        let times = forward_backward(repeats, || instance_norm(&x))?;
        show(&format!("instance norm {c} @{size}"), times, torch);
    }
    let varmap = candle_nn::VarMap::new();
    let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &device);
    let g = visnir_gan::ResnetGenerator::new(Default::default(), vb)?;
    let x = Tensor::randn(0f32, 0.5, (1, 3, 128, 128), &device)?;
    let times = forward_backward(repeats.min(5), || g.forward(&x))?;
    show("ResnetGenerator @128", times, (105.1, 215.4));
    Ok(())
}
