use candle_core::{DType, Device, Tensor, Var};
use visnir_nn::{conv2d, conv_transpose2d, instance_norm, ConvSpec, ConvTransposeSpec, PadMode};
fn med(n: usize, f: &dyn Fn() -> candle_core::Result<()>) -> f64 {
    f().unwrap();
    let mut t: Vec<f64> = (0..n)
        .map(|_| {
            let s = std::time::Instant::now();
            f().unwrap();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(|a, b| a.partial_cmp(b).unwrap());
    t[n / 2]
}
fn main() -> candle_core::Result<()> {
    visnir_nn::park_idle_candle_threads();
    let d = Device::Cpu;
    let refl = |p| ConvSpec::symmetric(1, p, PadMode::Reflect);
    let cases: Vec<(&str, usize, usize, usize, usize, ConvSpec)> = vec![
        ("3->32 7x7 refl @64", 3, 32, 7, 64, refl(3)),
        (
            "32->64 3x3 s2 @64",
            32,
            64,
            3,
            64,
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        (
            "64->128 3x3 s2 @32",
            64,
            128,
            3,
            32,
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        ("128->128 3x3 refl @16", 128, 128, 3, 16, refl(1)),
        ("32->3 7x7 refl @64", 32, 3, 7, 64, refl(3)),
        (
            "D 3->32 4x4 s2 @64",
            3,
            32,
            4,
            64,
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        (
            "D 32->64 4x4 s2 @32",
            32,
            64,
            4,
            32,
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        (
            "D 64->128 4x4 s2 @16",
            64,
            128,
            4,
            16,
            ConvSpec::symmetric(2, 1, PadMode::Zeros),
        ),
        (
            "D 128->256 4x4 s1 @8",
            128,
            256,
            4,
            8,
            ConvSpec::symmetric(1, 1, PadMode::Zeros),
        ),
        (
            "D 256->1 4x4 s1 @7",
            256,
            1,
            4,
            7,
            ConvSpec::symmetric(1, 1, PadMode::Zeros),
        ),
    ];
    visnir_nn::on_cpu_workers(|| -> candle_core::Result<()> {
        for (name, cin, cout, k, size, spec) in cases {
            let x = Var::randn(0f32, 1.0, (1, cin, size, size), &d)?;
            let w = Var::randn(0f32, 0.02, (cout, cin, k, k), &d)?;
            let b = Var::zeros(cout, DType::F32, &d)?;
            let y = conv2d(&x, &w, &b, spec)?;
            let g = Tensor::randn(0f32, 1.0, y.shape(), &d)?;
            let f = med(41, &|| conv2d(&x, &w, &b, spec).map(|_| ()));
            let fb = med(41, &|| {
                let l = (conv2d(&x, &w, &b, spec)? * &g)?.sum_all()?;
                l.backward()?;
                Ok(())
            });
            let xc = Tensor::randn(0f32, 1.0, (1, cin, size, size), &d)?;
            let wc = Tensor::randn(0f32, 0.02, (cout, cin, k, k), &d)?;
            let dxo = med(41, &|| {
                let l = (conv2d(&x, &wc, &b, spec)? * &g)?.sum_all()?;
                l.backward()?;
                Ok(())
            });
            let dwo = med(41, &|| {
                let l = (conv2d(&xc, &w, &b, spec)? * &g)?.sum_all()?;
                l.backward()?;
                Ok(())
            });
            println!(
                "{name:28} fwd {f:7.3} bwd {:7.3}  dx-only {:7.3} dw-only {:7.3}",
                fb - f,
                dxo - f,
                dwo - f
            );
        }
        for (cin, cout, size) in [(128, 64, 16), (64, 32, 32)] {
            let x = Var::randn(0f32, 1.0, (1, cin, size, size), &d)?;
            let w = Var::randn(0f32, 0.02, (cin, cout, 3, 3), &d)?;
            let b = Var::zeros(cout, DType::F32, &d)?;
            let sp = ConvTransposeSpec {
                stride: 2,
                padding: 1,
                output_padding: 1,
            };
            let y = conv_transpose2d(&x, &w, &b, sp)?;
            let g = Tensor::randn(0f32, 1.0, y.shape(), &d)?;
            let f = med(41, &|| conv_transpose2d(&x, &w, &b, sp).map(|_| ()));
            let fb = med(41, &|| {
                let l = (conv_transpose2d(&x, &w, &b, sp)? * &g)?.sum_all()?;
                l.backward()?;
                Ok(())
            });
            println!(
                "convT {cin}->{cout} @{size}{:14} fwd {f:7.3} bwd {:7.3}",
                "",
                fb - f
            );
        }
        for (c, size) in [(32, 64), (64, 32), (128, 16)] {
            let x = Var::randn(0f32, 1.0, (1, c, size, size), &d)?;
            let y = instance_norm(&x)?;
            let g = Tensor::randn(0f32, 1.0, y.shape(), &d)?;
            let f = med(41, &|| instance_norm(&x).map(|_| ()));
            let fb = med(41, &|| {
                let l = (instance_norm(&x)? * &g)?.sum_all()?;
                l.backward()?;
                Ok(())
            });
            println!("inorm {c} @{size}{:18} fwd {f:7.3} bwd {:7.3}", "", fb - f);
        }
        Ok(())
    })
}
