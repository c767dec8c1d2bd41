//! `cargo xtask bench layers`: forward and backward of the generator's layers one at a time
//! (CycleGAN's ResNet generator at 128, the quick scale's at 64), then the same shapes in
//! PyTorch (`reference/bench_layers.py`, 2 threads) in the same run,
//! each row printed beside PyTorch's.

use std::collections::HashMap;
use std::time::Duration;

use candle_core::{DType, Device, Module, Tensor, Var};
use visnir_nn::{conv2d, conv_transpose2d, instance_norm, ConvSpec, ConvTransposeSpec, PadMode};

use crate::bench::{median_time, report, run_reference};

/// The PyTorch script of this benchmark.
const SCRIPT: &str = "bench_layers.py";

/// One convolution shape of a ResNet generator: `cin -> cout`, a `kernel` square, an input of
/// `size` a side, reflection-padded to keep the size or zero-padded with stride 2.
struct ConvCase {
    cin: usize,
    cout: usize,
    kernel: usize,
    size: usize,
    strided: bool,
}

impl ConvCase {
    fn spec(&self) -> ConvSpec {
        if self.strided {
            ConvSpec::symmetric(2, 1, PadMode::Zeros)
        } else {
            ConvSpec::symmetric(1, self.kernel / 2, PadMode::Reflect)
        }
    }

    /// The printed label and the script's key of the case.
    fn name_and_key(&self) -> (String, String) {
        let Self {
            cin,
            cout,
            kernel: k,
            size,
            ..
        } = self;
        let how = if self.strided { "s2" } else { "reflect" };
        (
            format!("conv {cin}->{cout} {k}x{k} {how} @{size}"),
            format!("conv-{cin}-{cout}-{k}-{how}@{size}"),
        )
    }
}

/// One measured case: its label, the script's key, visnir's forward and backward times.
struct Row {
    name: String,
    key: String,
    times: (Duration, Duration),
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

/// The script's `key forward_ms backward_ms` lines.
fn parse_reference(stdout: &str) -> HashMap<String, (f64, f64)> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let key = fields.next()?.to_string();
            let fwd = fields.next()?.parse().ok()?;
            let bwd = fields.next()?.parse().ok()?;
            Some((key, (fwd, bwd)))
        })
        .collect()
}

/// visnir's side of every case, in order.
fn visnir_rows(repeats: usize) -> anyhow::Result<Vec<Row>> {
    let device = Device::Cpu;
    let conv = |(cin, cout, kernel, size), strided| ConvCase {
        cin,
        cout,
        kernel,
        size,
        strided,
    };
    let cases = [
        // CycleGAN's generator at 128 x 128, ngf 64.
        conv((256, 256, 3, 32), false),
        conv((3, 64, 7, 128), false),
        conv((64, 128, 3, 128), true),
        conv((64, 3, 7, 128), false),
        // The quick scale's generator: 64 x 64, ngf 32.
        conv((3, 32, 7, 64), false),
        conv((32, 64, 3, 64), true),
        conv((64, 128, 3, 32), true),
        conv((128, 128, 3, 16), false),
        conv((32, 3, 7, 64), false),
    ];
    let mut rows = Vec::new();
    let mut push = |name: &str, key: &str, times| {
        rows.push(Row {
            name: name.into(),
            key: key.into(),
            times,
        })
    };
    for case in cases {
        let x = Var::randn(0f32, 1.0, (1, case.cin, case.size, case.size), &device)?;
        let k = case.kernel;
        let w = Var::randn(0f32, 0.02, (case.cout, case.cin, k, k), &device)?;
        let b = Var::zeros(case.cout, DType::F32, &device)?;
        let times = forward_backward(repeats, || conv2d(&x, &w, &b, case.spec()))?;
        let (name, key) = case.name_and_key();
        push(&name, &key, times);
    }
    let up = ConvTransposeSpec {
        stride: 2,
        padding: 1,
        output_padding: 1,
    };
    for (cin, cout, size) in [(256, 128, 32), (128, 64, 16), (64, 32, 32)] {
        let x = Var::randn(0f32, 1.0, (1, cin, size, size), &device)?;
        let w = Var::randn(0f32, 0.02, (cin, cout, 3, 3), &device)?;
        let b = Var::zeros(cout, DType::F32, &device)?;
        let times = forward_backward(repeats, || conv_transpose2d(&x, &w, &b, up))?;
        push(
            &format!("conv transpose {cin}->{cout} 3x3 s2 @{size}"),
            &format!("convT-{cin}-{cout}-3-s2@{size}"),
            times,
        );
    }
    for (c, size) in [(256, 32), (64, 128), (32, 64)] {
        let x = Var::randn(0f32, 1.0, (1, c, size, size), &device)?;
        let times = forward_backward(repeats, || instance_norm(&x))?;
        push(
            &format!("instance norm {c} @{size}"),
            &format!("instance-norm-{c}@{size}"),
            times,
        );
    }
    // CycleGAN's default generator at 128, and the quick scale's (ngf 32, two blocks) at 64.
    for (ngf, n_blocks, size) in [(64, 6, 128), (32, 2, 64)] {
        let varmap = candle_nn::VarMap::new();
        let vb = candle_nn::VarBuilder::from_varmap(&varmap, DType::F32, &device);
        let config = visnir_gan::ResnetGeneratorConfig {
            ngf,
            n_blocks,
            ..Default::default()
        };
        let g = visnir_gan::ResnetGenerator::new(config, vb)?;
        let x = Tensor::randn(0f32, 0.5, (1, 3, size, size), &device)?;
        let times = forward_backward(repeats.min(5), || g.forward(&x))?;
        let name = format!("ResnetGenerator ngf {ngf}, {n_blocks} blocks @{size}");
        let key = format!("generator-ngf{ngf}-{n_blocks}blocks@{size}");
        push(&name, &key, times);
    }
    Ok(rows)
}

/// Runs the layer benchmarks: visnir's side, then PyTorch's in the same run, printed together.
pub fn run(repeats: usize) -> anyhow::Result<()> {
    let rows = visnir_rows(repeats)?;
    let reference = run_reference(SCRIPT, &[&repeats.to_string()]).map(|s| parse_reference(&s));
    if let Err(why) = &reference {
        println!("PyTorch not measured: {why} (pip install torch)");
    }
    for row in rows {
        let torch = reference.as_ref().ok().and_then(|r| r.get(&row.key));
        let beside = |pick: fn(&(f64, f64)) -> f64| match torch {
            Some(t) => format!("PyTorch, same run: {:.2} ms", pick(t)),
            None => "PyTorch: not measured".into(),
        };
        report(
            &format!("{} forward", row.name),
            row.times.0,
            &beside(|t| t.0),
        );
        report(
            &format!("{} backward", row.name),
            row.times.1,
            &beside(|t| t.1),
        );
    }
    Ok(())
}
