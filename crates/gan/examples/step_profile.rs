use candle_core::{Device, Tensor};
use visnir_gan::*;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    visnir_nn::reuse_freed_buffers();
    let device = Device::Cpu;
    let steps: usize = std::env::args().nth(1).map_or(6, |s| s.parse().unwrap());
    let resnet = GeneratorConfig::Resnet(ResnetGeneratorConfig::default());
    let mut model = CycleGan::new(
        CycleGanConfig {
            generator: resnet,
            discriminator: DiscriminatorConfig::default(),
        },
        AdamConfig::default(),
        0,
        &device,
    )?;
    let a = Tensor::randn(0f32, 0.5, (1, 3, 128, 128), &device)?;
    let b = Tensor::randn(0f32, 0.5, (1, 3, 128, 128), &device)?;
    let (mut pa, mut pb) = (ImagePool::new(50, 0), ImagePool::new(50, 1));
    let w = LossWeights {
        cycle: 10.0,
        identity: 0.0,
        pixel: 0.0,
    };
    let mut times = vec![];
    for _ in 0..steps {
        let s = std::time::Instant::now();
        model.train_step(&a, &b, w, (&mut pb, &mut pa))?;
        times.push(s.elapsed().as_secs_f64());
    }
    println!(
        "{:?}",
        times.iter().map(|t| format!("{t:.3}")).collect::<Vec<_>>()
    );
    Ok(())
}
