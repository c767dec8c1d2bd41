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
            vars,
            first,
            second,
            step: 0,
            config,
        })
    }

    /// Applies one update from the gradients in `grads` (variables without one are left alone).
    pub fn step(&mut self, grads: &candle_core::backprop::GradStore) -> Result<()> {
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
        for ((var, m), v) in self.vars.iter().zip(&mut self.first).zip(&mut self.second) {
            let Some(g) = grads.get(var.as_tensor()) else {
                continue;
            };
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

/// CycleGAN's linear schedule: `lr * (1 - max(0, epoch - n_epochs) / (n_epochs_decay + 1))`
/// for 0-based `epoch`.
pub fn linear_decay_lr(base_lr: f64, epoch: usize, n_epochs: usize, n_epochs_decay: usize) -> f64 {
    base_lr * (1.0 - epoch.saturating_sub(n_epochs) as f64 / (n_epochs_decay as f64 + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

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
