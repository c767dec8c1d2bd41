//! Adam (PyTorch's update, no weight decay) with inspectable state for checkpoints.

use candle_core::{Result, Tensor, Var};

/// Adam hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon.
    pub eps: f64,
}

impl Default for AdamConfig {
    /// CycleGAN's settings: lr 2e-4, betas (0.5, 0.999), eps 1e-8.
    fn default() -> Self {
        Self {
            lr: 2e-4,
            beta1: 0.5,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// Adam over a fixed list of variables: `theta -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
#[derive(Debug)]
pub struct Adam {
    vars: Vec<Var>,
    /// Each variable's multiple of the learning rate (1 unless set by [`Adam::with_lr_scale`]).
    lr_scales: Vec<f64>,
    first: Vec<Tensor>,
    second: Vec<Tensor>,
    step: u64,
    config: AdamConfig,
}

impl Adam {
    /// An optimiser with zero moments over `vars`.
    pub fn new(vars: Vec<Var>, config: AdamConfig) -> Result<Self> {
        let first = vars
            .iter()
            .map(|v| v.zeros_like())
            .collect::<Result<Vec<_>>>()?;
        let second = vars
            .iter()
            .map(|v| v.zeros_like())
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            lr_scales: vec![1.0; vars.len()],
            vars,
            first,
            second,
            step: 0,
            config,
        })
    }

    /// The same optimiser with the variables holding `tensors` learning at `scale` times the
    /// learning rate (and its schedule).
    pub fn with_lr_scale(mut self, tensors: &[Tensor], scale: f64) -> Self {
        let ids: std::collections::HashSet<_> = tensors.iter().map(Tensor::id).collect();
        for (var, s) in self.vars.iter().zip(&mut self.lr_scales) {
            if ids.contains(&var.as_tensor().id()) {
                *s = scale;
            }
        }
        self
    }

    /// Applies one update from the gradients in `grads` (variables without one are left alone).
    pub fn step(&mut self, grads: &candle_core::backprop::GradStore) -> Result<()> {
        self.update(grads, true)
    }

    /// [`Adam::step`] through candle ops only (the path off the CPU), to test the fused one.
    #[cfg(test)]
    fn step_with_candle_ops(&mut self, grads: &candle_core::backprop::GradStore) -> Result<()> {
        self.update(grads, false)
    }

    fn update(&mut self, grads: &candle_core::backprop::GradStore, fused: bool) -> Result<()> {
        self.step += 1;
        let AdamConfig {
            lr,
            beta1,
            beta2,
            eps,
        } = self.config;
        let t = self.step as i32;
        let step_size = lr / (1.0 - beta1.powi(t));
        let correction2 = (1.0 - beta2.powi(t)).sqrt();
        let moments = self.first.iter_mut().zip(&mut self.second);
        for ((var, scale), (m, v)) in self.vars.iter().zip(&self.lr_scales).zip(moments) {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
            let step_size = step_size * scale;
            let factors = AdamFactors {
                beta1,
                beta2,
                step_size,
                correction2,
                eps,
            };
            let fast = if fused {
                fused_update(var, g, m, v, factors)?
            } else {
                None
            };
            if let Some((theta, first, second)) = fast {
                (*m, *v) = (first, second);
                var.set(&theta)?;
                continue;
            }
            // Detached: moments must not keep the autograd graph of past steps alive.
            let g = g.detach();
            *m = ((&*m * beta1)? + (&g * (1.0 - beta1))?)?.detach();
            *v = ((&*v * beta2)? + (g.sqr()? * (1.0 - beta2))?)?.detach();
            let denom = ((v.sqrt()? / correction2)? + eps)?;
            let update = (m.div(&denom)? * step_size)?;
            var.set(&var.as_tensor().sub(&update)?)?;
        }
        Ok(())
    }

    /// Sets the learning rate (for schedules).
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.config.lr
    }

    /// Updates taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The variables and their first and second moments, for checkpoints.
    pub fn state(&self) -> (&[Var], &[Tensor], &[Tensor]) {
        (&self.vars, &self.first, &self.second)
    }

    /// Restores moments and the step count saved by [`Adam::state`].
    pub fn restore(&mut self, first: Vec<Tensor>, second: Vec<Tensor>, step: u64) -> Result<()> {
        if first.len() != self.vars.len() || second.len() != self.vars.len() {
            candle_core::bail!(
                "optimizer state has {} / {} moments for {} variables",
                first.len(),
                second.len(),
                self.vars.len()
            );
        }
        for ((var, m), v) in self.vars.iter().zip(&first).zip(&second) {
            if m.dims() != var.dims() || v.dims() != var.dims() {
                candle_core::bail!(
                    "optimizer moment shape {:?} for a variable of shape {:?}",
                    m.dims(),
                    var.dims()
                );
            }
        }
        (self.first, self.second, self.step) = (first, second, step);
        Ok(())
    }
}

/// The scalars of one Adam update.
#[derive(Debug, Clone, Copy)]
struct AdamFactors {
    beta1: f64,
    beta2: f64,
    step_size: f64,
    correction2: f64,
    eps: f64,
}

/// One pass over parameter, gradient and moments on the CPU, in parallel: the same f32
/// operations in the same order as the candle-op update (each `tensor * f64` is
/// `v * f + 0`), so the result is bit-identical. `None` off the CPU.
fn fused_update(
    var: &Var,
    g: &Tensor,
    m: &Tensor,
    v: &Tensor,
    f: AdamFactors,
) -> Result<Option<(Tensor, Tensor, Tensor)>> {
    use rayon::prelude::*;
    let theta = var.as_tensor();
    let tensors = [theta, g, m, v];
    let on_cpu = |t: &Tensor| {
        t.device().is_cpu() && t.dtype() == candle_core::DType::F32 && t.is_contiguous()
    };
    if !tensors.iter().all(|t| on_cpu(t)) {
        return Ok(None);
    }
    // Borrowed in place: the update reads each value once.
    let storages = tensors.map(|t| t.storage_and_layout());
    let slice = |i: usize| match &*storages[i].0 {
        candle_core::Storage::Cpu(cpu) => visnir_nn::f32_slice(cpu, storages[i].1, "adam"),
        _ => candle_core::bail!("adam: a CPU tensor without CPU storage"),
    };
    let (p, g, m, v) = (slice(0)?, slice(1)?, slice(2)?, slice(3)?);
    if g.len() != p.len() || m.len() != p.len() || v.len() != p.len() {
        candle_core::bail!(
            "adam: gradient or moments do not match a {:?} variable",
            theta.dims()
        );
    }
    let b1 = f.beta1 as f32;
    let g1 = (1.0 - f.beta1) as f32;
    let b2 = f.beta2 as f32;
    let g2 = (1.0 - f.beta2) as f32;
    let inv_c2 = (1.0 / f.correction2) as f32;
    let eps = f.eps as f32;
    let step = f.step_size as f32;
    let n = p.len();
    // The new values are written straight into fresh buffers, without zeroing them first.
    let (mut p2, mut m2, mut v2) = (
        Vec::<f32>::with_capacity(n),
        Vec::<f32>::with_capacity(n),
        Vec::<f32>::with_capacity(n),
    );
    const CHUNK: usize = 1 << 14;
    p2.spare_capacity_mut()[..n]
        .par_chunks_mut(CHUNK)
        .zip(m2.spare_capacity_mut()[..n].par_chunks_mut(CHUNK))
        .zip(v2.spare_capacity_mut()[..n].par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, ((p2, m2), v2))| {
            let range = c * CHUNK..c * CHUNK + p2.len();
            let (p, g, m, v) = (
                &p[range.clone()],
                &g[range.clone()],
                &m[range.clone()],
                &v[range],
            );
            for i in 0..p2.len() {
                let first = (m[i] * b1 + 0.0) + (g[i] * g1 + 0.0);
                let second = (v[i] * b2 + 0.0) + ((g[i] * g[i]) * g2 + 0.0);
                let denom = (second.sqrt() * inv_c2 + 0.0) * 1.0 + eps;
                let update = (first / denom) * step + 0.0;
                m2[i].write(first);
                v2[i].write(second);
                p2[i].write(p[i] - update);
            }
        });
    // SAFETY: the chunks above cover 0..n of each buffer, and every element was written.
    unsafe {
        p2.set_len(n);
        m2.set_len(n);
        v2.set_len(n);
    }
    let shape = theta.shape();
    let device = theta.device();
    Ok(Some((
        Tensor::from_vec(p2, shape, device)?,
        Tensor::from_vec(m2, shape, device)?,
        Tensor::from_vec(v2, shape, device)?,
    )))
}

/// CycleGAN's linear schedule for the 0-based `epoch`: `lr * (1 - max(0, e - n_epochs) /
/// (n_epochs_decay + 1))` with CycleGAN's 1-based epoch number `e = epoch + 1` (its `LambdaLR`
/// stepped after each epoch, `epoch_count` 1): `n_epochs` epochs at `lr`, then `n_epochs_decay`
/// epochs falling linearly to `lr / (n_epochs_decay + 1)`.
pub fn linear_decay_lr(base_lr: f64, epoch: usize, n_epochs: usize, n_epochs_decay: usize) -> f64 {
    base_lr * (1.0 - (epoch + 1).saturating_sub(n_epochs) as f64 / (n_epochs_decay as f64 + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    #[test]
    fn the_schedule_decays_from_the_first_epoch_after_n_epochs_as_cyclegan() {
        // CycleGAN's lambda_rule(k) = 1 - max(0, k + 1 - n) / (nd + 1), where k is the number of
        // scheduler steps taken, one after each epoch: epoch i (0-based) trains at lambda(i).
        let cyclegan = |k: usize, n: usize, nd: usize| {
            1.0 - ((k + 1) as f64 - n as f64).max(0.0) / (nd as f64 + 1.0)
        };
        for (n, nd) in [(2, 1), (4, 2), (4, 4), (100, 80), (0, 3), (3, 0)] {
            for epoch in 0..n + nd {
                let lr = linear_decay_lr(2e-4, epoch, n, nd);
                assert!(
                    (lr - 2e-4 * cyclegan(epoch, n, nd)).abs() < 1e-18,
                    "{n} {nd} {epoch}"
                );
            }
        }
        // 2 + 1 epochs: the decay epoch at half the rate, as CycleGAN counts epochs from 1.
        let short: Vec<f64> = (0..3).map(|e| linear_decay_lr(1.0, e, 2, 1)).collect();
        assert_eq!(short, [1.0, 1.0, 0.5]);
        // The paper's 100 + 80: the first decay epoch already below the rate, the last at 1/81.
        assert_eq!(linear_decay_lr(1.0, 99, 100, 80), 1.0);
        assert!((linear_decay_lr(1.0, 100, 100, 80) - 80.0 / 81.0).abs() < 1e-15);
        assert!((linear_decay_lr(1.0, 179, 100, 80) - 1.0 / 81.0).abs() < 1e-15);
    }

    #[test]
    fn fused_cpu_update_equals_the_candle_op_update_bit_for_bit() {
        let device = Device::Cpu;
        let start = Tensor::randn(0f32, 1.0, (3, 1000), &device).unwrap();
        let (a, b) = (
            Var::from_tensor(&start).unwrap(),
            Var::from_tensor(&start).unwrap(),
        );
        let mut fused = Adam::new(vec![a.clone()], AdamConfig::default()).unwrap();
        let mut reference = Adam::new(vec![b.clone()], AdamConfig::default()).unwrap();
        for step in 0..4 {
            let target = Tensor::randn(0f32, 1.0, (3, 1000), &device).unwrap();
            let grads = |w: &Var| {
                let d = (w.as_tensor() - &target).unwrap();
                // Tiny and zero gradients too, where rounding differences would show.
                let scale = if step == 2 { 1e-20 } else { 1.0 };
                (d.sqr().unwrap().sum_all().unwrap() * scale)
                    .unwrap()
                    .backward()
                    .unwrap()
            };
            fused.step(&grads(&a)).unwrap();
            let g = grads(&b);
            reference.step_with_candle_ops(&g).unwrap();
        }
        let bits = |t: &Tensor| -> Vec<u32> {
            t.flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect()
        };
        assert_eq!(bits(a.as_tensor()), bits(b.as_tensor()));
        let (_, m1, v1) = fused.state();
        let (_, m2, v2) = reference.state();
        assert_eq!(bits(&m1[0]), bits(&m2[0]));
        assert_eq!(bits(&v1[0]), bits(&v2[0]));
    }

    #[test]
    fn moments_do_not_keep_the_graph_alive() {
        let w = Var::from_tensor(&Tensor::new(&[1f32, -2.0], &Device::Cpu).unwrap()).unwrap();
        let mut adam = Adam::new(vec![w.clone()], AdamConfig::default()).unwrap();
        for _ in 0..3 {
            let loss = (w.as_tensor() * w.as_tensor()).unwrap().sum_all().unwrap();
            adam.step(&loss.backward().unwrap()).unwrap();
        }
        let (_, first, second) = adam.state();
        assert!(
            !first[0].track_op() && !second[0].track_op(),
            "moments hold an autograd graph"
        );
        assert_eq!(adam.steps(), 3);
    }
}
