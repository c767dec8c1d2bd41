//! The report's figures, drawn with plotters into PNG files: ROC curves on a log FAR axis, the
//! translation grid (as the paper's Fig. 6), the training losses and the learning curves.

use std::path::{Path, PathBuf};
use std::sync::Once;

use image::imageops::FilterType;
use image::RgbImage;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

use crate::curves::CurvePoint;
use crate::error::{PipelineError, Result};
use crate::evaluate::RowMetrics;
use crate::experiment::Examples;
use crate::method::Method;

/// DejaVu Sans (licence in `data/fonts/LICENSE-DejaVu.txt`): plots need no system fonts.
const FONT: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans.ttf");

pub(crate) const COLOURS: [RGBColor; 6] = [
    RGBColor(90, 90, 90),
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

pub(crate) fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            tracing::warn!("bundled font rejected; plots will lack text");
        }
    });
}

/// Draws the chart's legend the one way every figure of the report does: a framed, nearly
/// opaque box at `position`, labels in `font_size` point.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    font_size: u32,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", f64::from(font_size)))
        .draw()
}

pub(crate) fn plot_error(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Io {
        path: path.to_path_buf(),
        message: format!("drawing: {e}"),
    }
}

/// ROC curves of every row, FAR on a log axis from 1e-4 to 1.
pub fn roc(path: &Path, rows: &[RowMetrics], title: &str) -> Result<()> {
    fonts();
    let fail = |e: &dyn std::fmt::Display| plot_error(path, e);
    let root = BitMapBackend::new(path, (900, 650)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d((1e-4f64..1.0f64).log_scale(), 0f64..1f64)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("FAR (log scale)")
        .y_desc("TAR")
        .draw()
        .map_err(|e| fail(&e))?;
    for (k, row) in rows.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points: Vec<(f64, f64)> = row
            .roc
            .iter()
            .map(|&(far, tar)| (far.max(1e-4), tar))
            .collect();
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(format!("{} (Rank-1 {:.1}%)", row.method, 100.0 * row.rank1))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight, 15).map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

/// The translation grid: one row per example; columns input VIS, true NIR, then each method.
pub fn translations(path: &Path, examples: &Examples) -> Result<()> {
    fonts();
    let cell = 128u32;
    let header = 28u32;
    let mut columns: Vec<(String, &Vec<RgbImage>)> = vec![
        ("input VIS".into(), &examples.vis),
        ("true NIR".into(), &examples.nir),
    ];
    for (label, images) in &examples.translated {
        columns.push((label.clone(), images));
    }
    let rows = examples.vis.len() as u32;
    let (w, h) = (cell * columns.len() as u32, header + cell * rows.max(1));
    let mut canvas = RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    for (c, (_, images)) in columns.iter().enumerate() {
        for (r, img) in images.iter().enumerate() {
            let scaled = image::imageops::resize(img, cell, cell, FilterType::Triangle);
            image::imageops::replace(
                &mut canvas,
                &scaled,
                (c as u32 * cell) as i64,
                (header + r as u32 * cell) as i64,
            );
        }
    }
    {
        let fail = |e: &dyn std::fmt::Display| plot_error(path, e);
        let root = BitMapBackend::with_buffer(canvas.as_mut(), (w, h)).into_drawing_area();
        for (c, (name, _)) in columns.iter().enumerate() {
            root.draw(&Text::new(
                name.clone(),
                (c as i32 * cell as i32 + 6, 6),
                ("sans-serif", 14),
            ))
            .map_err(|e| fail(&e))?;
        }
        root.present().map_err(|e| fail(&e))?;
    }
    canvas.save(path).map_err(|e| plot_error(path, e))
}

/// `(step, G, D_A + D_B)` per logged step.
type LossSeries = Vec<(f64, f64, f64)>;

fn read_log(path: &Path) -> LossSeries {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v["step"].as_f64()?,
                v["G"].as_f64()?,
                v["D_A"].as_f64()? + v["D_B"].as_f64()?,
            ))
        })
        .collect()
}

fn smooth(values: &[(f64, f64)], window: usize) -> Vec<(f64, f64)> {
    (0..values.len())
        .map(|i| {
            let lo = i.saturating_sub(window - 1);
            let mean = values[lo..=i].iter().map(|v| v.1).sum::<f64>() / (i - lo + 1) as f64;
            (values[i].0, mean)
        })
        .collect()
}

/// Generator and discriminator losses per step of every trained method (moving average of 10).
pub fn losses(path: &Path, logs: &[(Method, PathBuf)]) -> Result<()> {
    fonts();
    let fail = |e: &dyn std::fmt::Display| plot_error(path, e);
    let series: Vec<(Method, LossSeries)> = logs.iter().map(|(m, p)| (*m, read_log(p))).collect();
    let max_step = series
        .iter()
        .flat_map(|(_, s)| s.iter().map(|v| v.0))
        .fold(1.0, f64::max);
    let root = BitMapBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let panels = root.split_evenly((1, 2));
    for (p, area) in panels.iter().enumerate() {
        let pick = |v: &(f64, f64, f64)| (v.0, if p == 0 { v.1 } else { v.2 });
        let max_y = series
            .iter()
            .flat_map(|(_, s)| s.iter().map(|v| pick(v).1))
            .fold(0.1, f64::max);
        let caption = if p == 0 {
            "generator loss (total)"
        } else {
            "discriminator loss (D_A + D_B)"
        };
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..max_step, 0f64..max_y * 1.05)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("step")
            .draw()
            .map_err(|e| fail(&e))?;
        for (k, (method, s)) in series.iter().enumerate() {
            let colour = COLOURS[(k + 1) % COLOURS.len()];
            let values: Vec<(f64, f64)> = s.iter().map(pick).collect();
            chart
                .draw_series(LineSeries::new(smooth(&values, 10), colour.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(method.label())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
        }
        legend(&mut chart, SeriesLabelPosition::MiddleRight, 14).map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))
}

/// The learning curves: validation Rank-1, TAR@FAR=1% and pixel L1 to the true NIR per step,
/// one line per method, the untranslated validation set as a dashed level.
pub fn curves(
    path: &Path,
    curves: &[(Method, Vec<CurvePoint>)],
    level: Option<&CurvePoint>,
) -> Result<()> {
    fonts();
    let fail = |e: &dyn std::fmt::Display| plot_error(path, e);
    let max_step = curves
        .iter()
        .flat_map(|(_, c)| c.iter().map(|p| p.step as f64))
        .fold(1.0, f64::max);
    let root = BitMapBackend::new(path, (1500, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    type Pick = fn(&CurvePoint) -> f64;
    // Each legend goes where its panel's lines are not: below rising rates, below-left of a
    // falling error (the axes start at 0).
    let panels: [(&str, Pick, SeriesLabelPosition); 3] = [
        (
            "validation Rank-1 (%)",
            |p| 100.0 * p.rank1,
            SeriesLabelPosition::LowerRight,
        ),
        (
            "validation TAR@FAR=1% (%)",
            |p| 100.0 * p.tar_far_1e2,
            SeriesLabelPosition::LowerRight,
        ),
        (
            "pixel L1 to the true NIR",
            |p| p.pixel_l1,
            SeriesLabelPosition::LowerLeft,
        ),
    ];
    for ((caption, pick, position), area) in panels.iter().zip(root.split_evenly((1, 3)).iter()) {
        let max_y = curves
            .iter()
            .flat_map(|(_, c)| c.iter().map(pick))
            .chain(level.map(pick))
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(area)
            .caption(*caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..max_step, 0f64..(max_y * 1.1).max(1e-3))
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("iteration")
            .draw()
            .map_err(|e| fail(&e))?;
        if let Some(level) = level {
            let y = pick(level);
            let grey = COLOURS[0];
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, y), (max_step, y)],
                    8,
                    5,
                    grey.stroke_width(2),
                ))
                .map_err(|e| fail(&e))?
                .label("No translation")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
        }
        for (k, (method, points)) in curves.iter().enumerate() {
            let colour = COLOURS[(k + 1) % COLOURS.len()];
            let values: Vec<(f64, f64)> = points.iter().map(|p| (p.step as f64, pick(p))).collect();
            chart
                .draw_series(LineSeries::new(values.clone(), colour.stroke_width(2)))
                .map_err(|e| fail(&e))?
                .label(method.label())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(
                    values
                        .into_iter()
                        .map(|v| Circle::new(v, 3, colour.filled())),
                )
                .map_err(|e| fail(&e))?;
        }
        legend(&mut chart, position.clone(), 14).map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))
}
