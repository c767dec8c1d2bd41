use candle_core::{Device, Tensor};
use visnir_gan::*;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    visnir_nn::park_idle_candle_threads();
    let device = Device::Cpu;
    let ffe = std::env::args().nth(1).as_deref() == Some("ffe");
    let n: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(40);
    let generator = if ffe {
        GeneratorConfig::Ffe(FfeGeneratorConfig::default())
    } else {
        GeneratorConfig::Resnet(ResnetGeneratorConfig {
            ngf: 32,
            ..Default::default()
        })
    };
    let weights = LossWeights {
        adversarial: 1.0,
        cycle: 10.0,
        identity: 0.0,
        pixel: 10.0,
        embedding: 0.0,
        subject: 0.0,
    };
    let mut model = CycleGan::new(
        CycleGanConfig {
            generator,
            discriminator: DiscriminatorConfig {
                ndf: 32,
                ..Default::default()
            },
            residual: false,
        },
        AdamConfig::default(),
        0,
        &device,
    )?;
    let a = Tensor::randn(0f32, 0.5, (1, 3, 64, 64), &device)?;
    let b = Tensor::randn(0f32, 0.5, (1, 3, 64, 64), &device)?;
    let (mut pa, mut pb) = (ImagePool::new(50, 0), ImagePool::new(50, 1));
    for _ in 0..3 {
        model.train_step(&a, &b, None, weights, (&mut pb, &mut pa))?;
    }
    let t = std::time::Instant::now();
    let mut times = vec![];
    for _ in 0..n {
        let s = std::time::Instant::now();
        model.train_step(&a, &b, None, weights, (&mut pb, &mut pa))?;
        times.push(s.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "median {:.1} ms, min {:.1}, mean {:.1}",
        times[n / 2],
        times[0],
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    Ok(())
}
