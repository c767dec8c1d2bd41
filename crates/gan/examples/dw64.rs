use candle_core::{DType, Device, Tensor, Var};
use visnir_nn::{conv2d, ConvSpec, PadMode};
fn main() -> candle_core::Result<()> {
    let d = Device::Cpu;
    let spec = ConvSpec::symmetric(1, 3, PadMode::Reflect);
    let x = Tensor::randn(0f32, 1.0, (1, 32, 64, 64), &d)?;
    let w = Var::randn(0f32, 0.02, (3, 32, 7, 7), &d)?;
    let b = Tensor::zeros(3, DType::F32, &d)?;
    let g = Tensor::randn(0f32, 1.0, (1, 3, 64, 64), &d)?;
    visnir_nn::on_cpu_workers(|| -> candle_core::Result<()> {
        let t = std::time::Instant::now();
        for _ in 0..500 {
            let l = (conv2d(&x, &w, &b, spec)? * &g)?.sum_all()?;
            l.backward()?;
        }
        println!("{:.3} ms", t.elapsed().as_secs_f64() * 1e3 / 500.0);
        Ok(())
    })
}
