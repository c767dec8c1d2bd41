//! The four networks of a CycleGAN (G_A: A -> B, G_B: B -> A, D_A judges B, D_B judges A, as
//! in the reference's naming) and one training iteration of `optimize_parameters()`.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};

use crate::adam::{Adam, AdamConfig};
use crate::discriminator::{DiscriminatorConfig, NLayerDiscriminator};
use crate::embedding_loss::{
    embedding_distance, subject_contrast_loss, EmbeddingJudge, SubjectPrototypes,
};
use crate::error::StepError;
use crate::generator::{Generator, GeneratorConfig};
use crate::image_pool::ImagePool;
use crate::losses::{cycle_loss, identity_loss, lsgan_loss, pixel_consistency_loss, LossWeights};
use crate::weight_average::WeightAverage;

/// Every loss of one iteration, already multiplied by its weight (as the reference logs them).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepLosses {
    /// LSGAN loss of G_A against D_A.
    pub g_a: f32,
    /// LSGAN loss of G_B against D_B.
    pub g_b: f32,
    /// Weighted cycle loss of A -> B -> A.
    pub cycle_a: f32,
    /// Weighted cycle loss of B -> A -> B.
    pub cycle_b: f32,
    /// Weighted identity loss of G_A (`|G_A(B) - B|`).
    pub idt_a: f32,
    /// Weighted identity loss of G_B.
    pub idt_b: f32,
    /// Weighted pixel-consistency loss `|G_A(A) - B|`.
    pub pix_a: f32,
    /// Weighted pixel-consistency loss `|G_B(B) - A|`.
    pub pix_b: f32,
    /// Weighted embedding-consistency loss of `G_A(A)` against `B`.
    pub emb_a: f32,
    /// Weighted embedding-consistency loss of `G_B(B)` against `A`.
    pub emb_b: f32,
    /// Weighted subject-contrast loss of `G_A(A)` among the B prototypes.
    pub sub_a: f32,
    /// Weighted subject-contrast loss of `G_B(B)` among the A prototypes.
    pub sub_b: f32,
    /// Total generator loss.
    pub g: f32,
    /// Discriminator D_A loss.
    pub d_a: f32,
    /// Discriminator D_B loss.
    pub d_b: f32,
}

impl StepLosses {
    /// True when every loss is a finite number.
    pub fn all_finite(&self) -> bool {
        [
            self.g_a,
            self.g_b,
            self.cycle_a,
            self.cycle_b,
            self.idt_a,
            self.idt_b,
            self.pix_a,
            self.pix_b,
            self.emb_a,
            self.emb_b,
            self.sub_a,
            self.sub_b,
            self.g,
            self.d_a,
            self.d_b,
        ]
        .iter()
        .all(|v| v.is_finite())
    }
}

/// Configuration of the four networks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CycleGanConfig {
    /// Both generators' architecture.
    pub generator: GeneratorConfig,
    /// Both discriminators' size.
    pub discriminator: DiscriminatorConfig,
    /// Residual generators (see [`Generator`]; CycleGAN's are not).
    pub residual: bool,
    /// Domain B is grey: G_A's output is monochrome (see [`Generator`]; CycleGAN's default
    /// outputs three free channels).
    pub monochrome_b: bool,
    /// Residual generators scale and shift their input per channel by learned values before
    /// adding their output (see [`Generator::with_skip_affine`]; not in CycleGAN).
    pub skip_affine: bool,
    /// Residual generators add a learned per-pixel offset of this side to their identity path
    /// (see [`Generator::with_shading_map`]; not in CycleGAN): the crop size, or none.
    pub shading_map: Option<usize>,
}

/// How many times the learning rate a skip affine's gains and shifts learn at. They are a few
/// values per generator that have to travel tenths (the VIS -> NIR gains from 1 to 0.2-1.1)
/// within a few hundred steps, where Adam moves a variable by about the learning rate per step.
pub const SKIP_AFFINE_LR_SCALE: f64 = 100.0;

/// How many times the learning rate a shading map's offsets learn at. Each offset sees one
/// pixel of each image, and the shading it has to learn is tenths deep. Measured on the quick
/// scale (seed 0, Basic + Lpc's pixel L1): 0.0968 at 10 and 30 times, 0.1007 at 100 (the
/// skip affine's rate), 0.0993 at 1, the level without a map.
pub const SHADING_MAP_LR_SCALE: f64 = 10.0;

impl CycleGanConfig {
    /// Both generators under `vb` (`G_A`, `G_B`) as this configuration builds them: residual or
    /// not, with a skip affine or not, G_A grey when domain B is.
    pub(crate) fn generators(&self, vb: &VarBuilder) -> Result<(Generator, Generator)> {
        let generator = |name: &str| {
            let vb = vb.pp(name);
            Generator::new(self.generator, vb.clone())?
                .with_residual(self.residual)
                .with_skip_affine(self.skip_affine, vb.clone())?
                .with_shading_map(self.shading_map, vb)
        };
        let g_a = generator("G_A")?.with_monochrome(self.monochrome_b);
        let g_b = generator("G_B")?;
        Ok((g_a, g_b))
    }
}

/// The four networks with their variables (names `G_A.*`, `G_B.*`, `D_A.*`, `D_B.*`) and
/// both optimisers.
pub struct CycleGan {
    /// A -> B (VIS -> NIR).
    pub g_a: Generator,
    /// B -> A (NIR -> VIS).
    pub g_b: Generator,
    /// Judges domain B.
    pub d_a: NLayerDiscriminator,
    /// Judges domain A.
    pub d_b: NLayerDiscriminator,
    varmap: VarMap,
    opt_g: Adam,
    opt_d: Adam,
    judge: Option<EmbeddingJudge>,
    prototypes: Option<SubjectPrototypes>,
    average: Option<WeightAverage>,
}

/// The variables under `prefixes`, in name order, without those in `fixed`.
fn trainable_vars(
    varmap: &VarMap,
    prefixes: &[&str],
    fixed: &[Tensor],
) -> Result<Vec<candle_core::Var>> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("poisoned var map".into()))?;
    let fixed: std::collections::HashSet<_> = fixed.iter().map(Tensor::id).collect();
    let mut names: Vec<&String> = data
        .keys()
        .filter(|k| prefixes.iter().any(|p| k.starts_with(p)))
        .filter(|k| !fixed.contains(&data[*k].as_tensor().id()))
        .collect();
    names.sort();
    Ok(names.into_iter().map(|n| data[n].clone()).collect())
}

/// Sets the variable holding `tensor` to zero.
fn zero_var(varmap: &VarMap, tensor: &Tensor) -> Result<()> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("poisoned var map".into()))?;
    for var in data.values() {
        if var.as_tensor().id() == tensor.id() {
            var.set(&var.zeros_like()?)?;
        }
    }
    Ok(())
}

impl CycleGan {
    /// Builds the networks with fresh weights drawn from `seed` (convolution weights N(0, 0.02),
    /// biases 0; FFE trunks from the pretrained embedder; a residual generator's output
    /// convolution 0) on `device`.
    pub fn new(
        config: CycleGanConfig,
        adam: AdamConfig,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let (g_a, g_b) = config.generators(&vb)?;
        let d_a = NLayerDiscriminator::new(config.discriminator, vb.pp("D_A"))?;
        let d_b = NLayerDiscriminator::new(config.discriminator, vb.pp("D_B"))?;
        visnir_nn::reseed_weights(&varmap, seed)?;
        if config.residual {
            for weight in [g_a.output_weight(), g_b.output_weight()]
                .into_iter()
                .flatten()
            {
                zero_var(&varmap, weight)?;
            }
        }
        if config.generator.uses_ffe() {
            for prefix in ["G_A.ffe.", "G_B.ffe."] {
                visnir_ffe::FfeTrunk::load_pretrained_with_prefix(&varmap, prefix)?;
            }
        }
        // Biases an instance norm cancels stay fixed: PyTorch moves them by up to lr per step
        // on rounding noise alone, which changes nothing but makes runs irreproducible.
        let fixed_g = [g_a.norm_cancelled_biases(), g_b.norm_cancelled_biases()].concat();
        let fixed_d = [d_a.norm_cancelled_biases(), d_b.norm_cancelled_biases()].concat();
        let skips = [g_a.skip_affine_vars(), g_b.skip_affine_vars()].concat();
        let opt_g = Adam::new(trainable_vars(&varmap, &["G_A.", "G_B."], &fixed_g)?, adam)?
            .with_lr_scale(&skips, SKIP_AFFINE_LR_SCALE)
            .with_lr_scale(
                &[g_a.shading_map_vars(), g_b.shading_map_vars()].concat(),
                SHADING_MAP_LR_SCALE,
            );
        let opt_d = Adam::new(trainable_vars(&varmap, &["D_A.", "D_B."], &fixed_d)?, adam)?;
        Ok(Self {
            g_a,
            g_b,
            d_a,
            d_b,
            varmap,
            opt_g,
            opt_d,
            judge: None,
            prototypes: None,
            average: None,
        })
    }

    /// Keeps an exponential moving average of the generators' weights from now on (see
    /// [`WeightAverage`]); [`Self::translator`] then translates with it.
    pub fn set_weight_average(&mut self, average: WeightAverage) {
        self.average = Some(average);
    }

    /// The weight average, when one is kept.
    pub fn weight_average(&self) -> Option<&WeightAverage> {
        self.average.as_ref()
    }

    /// The generator that translates A -> B (VIS -> NIR): the weight average when one is kept,
    /// otherwise `g_a` itself.
    pub fn translator(&self) -> &Generator {
        self.average
            .as_ref()
            .map_or(&self.g_a, |average| &average.g_a)
    }

    /// Gives the model the frozen embedder its embedding-consistency loss needs.
    pub fn set_judge(&mut self, judge: EmbeddingJudge) {
        self.judge = Some(judge);
    }

    /// Gives the model the training subjects' prototypes its subject-contrast loss needs.
    pub fn set_subject_prototypes(&mut self, prototypes: SubjectPrototypes) {
        self.prototypes = Some(prototypes);
    }

    /// The frozen embedder of the embedding losses, if it was given one.
    pub fn judge(&self) -> Option<&EmbeddingJudge> {
        self.judge.as_ref()
    }

    /// All variables, by name.
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    /// The generator and discriminator optimisers.
    pub fn optimizers_mut(&mut self) -> (&mut Adam, &mut Adam) {
        (&mut self.opt_g, &mut self.opt_d)
    }

    /// Both optimisers, read-only.
    pub fn optimizers(&self) -> (&Adam, &Adam) {
        (&self.opt_g, &self.opt_d)
    }

    /// One iteration on a batch of `real_a` and `real_b` (paired when `weights.pixel > 0`) and
    /// the subject index of each pair (`(N,)` u32, needed when `weights.subject > 0`):
    /// generator step with the discriminators frozen, then discriminator step on fakes drawn
    /// through the image pools (pass pools of size 0 to use the current fakes).
    pub fn train_step(
        &mut self,
        real_a: &Tensor,
        real_b: &Tensor,
        subjects: Option<&Tensor>,
        weights: LossWeights,
        pools: (&mut ImagePool, &mut ImagePool),
    ) -> std::result::Result<StepLosses, StepError> {
        if real_a.device().is_cpu() {
            visnir_nn::on_cpu_workers(|| self.step(real_a, real_b, subjects, weights, pools))
        } else {
            self.step(real_a, real_b, subjects, weights, pools)
        }
    }

    fn step(
        &mut self,
        real_a: &Tensor,
        real_b: &Tensor,
        subjects: Option<&Tensor>,
        weights: LossWeights,
        pools: (&mut ImagePool, &mut ImagePool),
    ) -> std::result::Result<StepLosses, StepError> {
        let fake_b = self.g_a.forward(real_a)?;
        let rec_a = self.g_b.forward(&fake_b)?;
        let fake_a = self.g_b.forward(real_b)?;
        let rec_b = self.g_a.forward(&fake_a)?;
        let scalar = |t: &Tensor| t.to_scalar::<f32>();

        let (g_a, g_b) = if weights.adversarial == 0.0 {
            let zero = Tensor::zeros((), fake_b.dtype(), fake_b.device())?;
            (zero.clone(), zero)
        } else {
            let g_a = lsgan_loss(&self.d_a.frozen().forward(&fake_b)?, true)?;
            let g_b = lsgan_loss(&self.d_b.frozen().forward(&fake_a)?, true)?;
            ((g_a * weights.adversarial)?, (g_b * weights.adversarial)?)
        };
        let cycle_a = (cycle_loss(&rec_a, real_a)? * weights.cycle)?;
        let cycle_b = (cycle_loss(&rec_b, real_b)? * weights.cycle)?;
        let mut total = (((&g_a + &g_b)? + &cycle_a)? + &cycle_b)?;
        let mut losses = StepLosses {
            g_a: scalar(&g_a)?,
            g_b: scalar(&g_b)?,
            cycle_a: scalar(&cycle_a)?,
            cycle_b: scalar(&cycle_b)?,
            ..Default::default()
        };
        if weights.identity > 0.0 {
            let w = weights.cycle * weights.identity;
            let idt_a = (identity_loss(&self.g_a.forward(real_b)?, real_b)? * w)?;
            let idt_b = (identity_loss(&self.g_b.forward(real_a)?, real_a)? * w)?;
            (losses.idt_a, losses.idt_b) = (scalar(&idt_a)?, scalar(&idt_b)?);
            total = ((total + idt_a)? + idt_b)?;
        }
        if weights.pixel > 0.0 {
            let pix_a = (pixel_consistency_loss(&fake_b, real_b)? * weights.pixel)?;
            let pix_b = (pixel_consistency_loss(&fake_a, real_a)? * weights.pixel)?;
            (losses.pix_a, losses.pix_b) = (scalar(&pix_a)?, scalar(&pix_b)?);
            total = ((total + pix_a)? + pix_b)?;
        }
        if weights.embedding > 0.0 || weights.subject > 0.0 {
            let judge = self.judge.as_ref().ok_or(StepError::NoJudge)?;
            // One pass of the judge for both directions (its layers are per image).
            let n = fake_b.dim(0)?;
            let fakes = judge.embed(&Tensor::cat(&[&fake_b, &fake_a], 0)?)?;
            let (fake_b_embedding, fake_a_embedding) =
                (fakes.narrow(0, 0, n)?, fakes.narrow(0, n, n)?);
            if weights.embedding > 0.0 {
                let w = weights.embedding;
                let reals = judge.embed(&Tensor::cat(&[real_b, real_a], 0)?.detach())?;
                let emb_a = (embedding_distance(&fake_b_embedding, &reals.narrow(0, 0, n)?)? * w)?;
                let emb_b = (embedding_distance(&fake_a_embedding, &reals.narrow(0, n, n)?)? * w)?;
                (losses.emb_a, losses.emb_b) = (scalar(&emb_a)?, scalar(&emb_b)?);
                total = ((total + emb_a)? + emb_b)?;
            }
            if weights.subject > 0.0 {
                let prototypes = self.prototypes.as_ref().ok_or(StepError::NoSubjects)?;
                let subjects = subjects.ok_or(StepError::NoSubjects)?;
                let w = weights.subject;
                let sub_a =
                    (subject_contrast_loss(&fake_b_embedding, &prototypes.b, subjects)? * w)?;
                let sub_b =
                    (subject_contrast_loss(&fake_a_embedding, &prototypes.a, subjects)? * w)?;
                (losses.sub_a, losses.sub_b) = (scalar(&sub_a)?, scalar(&sub_b)?);
                total = ((total + sub_a)? + sub_b)?;
            }
        }
        losses.g = scalar(&total)?;
        if !losses.all_finite() {
            return Err(StepError::NonFinite {
                stage: "generator",
                losses,
            });
        }
        let grads = total.backward()?;
        self.opt_g.step(&grads)?;
        if let Some(average) = &self.average {
            average.update()?;
        }

        let pooled_b = pools.0.query(&fake_b.detach())?;
        let pooled_a = pools.1.query(&fake_a.detach())?;
        let d_a = ((lsgan_loss(&self.d_a.forward(real_b)?, true)?
            + lsgan_loss(&self.d_a.forward(&pooled_b)?, false)?)?
            * 0.5)?;
        let d_b = ((lsgan_loss(&self.d_b.forward(real_a)?, true)?
            + lsgan_loss(&self.d_b.forward(&pooled_a)?, false)?)?
            * 0.5)?;
        (losses.d_a, losses.d_b) = (scalar(&d_a)?, scalar(&d_b)?);
        if !losses.all_finite() {
            return Err(StepError::NonFinite {
                stage: "discriminator",
                losses,
            });
        }
        let grads = (d_a + d_b)?.backward()?;
        self.opt_d.step(&grads)?;
        Ok(losses)
    }
}
