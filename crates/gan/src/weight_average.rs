//! An exponential moving average of the generators' weights (Polyak averaging; Yazıcı et al.,
//! "The Unusual Effectiveness of Averaging in GAN Training", ICLR 2019). The average follows
//! the trained weights after every generator step and translates instead of them: the last
//! step's weights carry that step's noise, the average smooths it over the last few hundred
//! steps.

use candle_core::{DType, Device, Result, Var};
use candle_nn::{VarBuilder, VarMap};

use crate::cyclegan::CycleGanConfig;
use crate::generator::Generator;

/// Parses a weight-average decay: a number in [0, 1) (0: no average).
pub fn parse_ema_decay(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(d) if (0.0..1.0).contains(&d) => Ok(d),
        _ => Err(format!(
            "`{text}` is not a weight-average decay (a number in [0, 1); 0: none)"
        )),
    }
}

/// Averaged copies of both generators (variables named as the model's: `G_A.*`, `G_B.*`).
pub struct WeightAverage {
    decay: f64,
    varmap: VarMap,
    /// (trained variable, its average), in name order.
    pairs: Vec<(Var, Var)>,
    /// The averaged A -> B generator.
    pub g_a: Generator,
    /// The averaged B -> A generator.
    pub g_b: Generator,
}

impl WeightAverage {
    /// Starts the average at the generators' current weights in `trained` (the model's
    /// variables); each [`Self::update`] then moves it by `1 - decay` towards them.
    pub fn new(
        config: CycleGanConfig,
        trained: &VarMap,
        decay: f64,
        device: &Device,
    ) -> Result<Self> {
        if !(0.0..1.0).contains(&decay) {
            candle_core::bail!("the weight-average decay must lie in [0, 1), got {decay}");
        }
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let (g_a, g_b) = config.generators(&vb)?;
        let pairs = {
            let poisoned = || candle_core::Error::Msg("poisoned var map".into());
            let averaged = varmap.data().lock().map_err(|_| poisoned())?;
            let trained = trained.data().lock().map_err(|_| poisoned())?;
            let mut names: Vec<&String> = averaged.keys().collect();
            names.sort();
            let mut pairs = Vec::with_capacity(names.len());
            for name in names {
                let live = trained.get(name).ok_or_else(|| {
                    candle_core::Error::Msg(format!("the model has no variable {name}"))
                })?;
                averaged[name].set(&live.as_tensor().detach())?;
                pairs.push((live.clone(), averaged[name].clone()));
            }
            pairs
        };
        Ok(Self {
            decay,
            varmap,
            pairs,
            g_a,
            g_b,
        })
    }

    /// Moves every average towards its trained weight: `avg = decay * avg + (1 - decay) * w`.
    pub fn update(&self) -> Result<()> {
        for (live, average) in &self.pairs {
            let next = ((average.as_tensor().detach() * self.decay)?
                + (live.as_tensor().detach() * (1.0 - self.decay))?)?;
            average.set(&next)?;
        }
        Ok(())
    }

    /// The averaged variables, by name (saved and restored with a checkpoint).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }
}
