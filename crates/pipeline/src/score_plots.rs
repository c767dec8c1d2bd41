//! The report's score figures, one PNG each with every row: the DET curve on normal-deviate
//! axes (as bob.measure draws it), the CMC curve, and the genuine / impostor score histograms
//! with the EER and FAR thresholds marked.

use std::path::Path;

use plotters::prelude::*;

use crate::error::Result;
use crate::evaluate::RowMetrics;
use crate::plots::{fonts, legend, plot_error, COLOURS};

/// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9):
/// the DET plot's axis transform.
pub fn probit(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

const DET_TICKS: [f64; 9] = [1e-4, 1e-3, 0.01, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95];

/// DET curves: FRR against FAR, both on normal-deviate axes.
pub fn det(path: &Path, rows: &[RowMetrics], title: &str) -> Result<()> {
    fonts();
    let fail = |e: &dyn std::fmt::Display| plot_error(path, e);
    let root = BitMapBackend::new(path, (800, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let ticks: Vec<f64> = DET_TICKS.iter().map(|&p| probit(p)).collect();
    let (lo, hi) = (probit(1e-4), probit(0.95));
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("DET: {title}"), ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, lo..hi)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc("FAR (normal deviate scale)")
        .y_desc("FRR (normal deviate scale)")
        .draw()
        .map_err(|e| fail(&e))?;
    // The probit axes get their ticks at round probabilities, drawn by hand.
    let grey = RGBColor(210, 210, 210);
    for (k, (&p, &t)) in DET_TICKS.iter().zip(&ticks).enumerate() {
        let label = format!("{}%", 100.0 * p);
        for line in [[(t, lo), (t, hi)], [(lo, t), (hi, t)]] {
            chart
                .draw_series(LineSeries::new(line, grey.stroke_width(1)))
                .map_err(|e| fail(&e))?;
        }
        let font = ("sans-serif", 12).into_font().color(&BLACK);
        let mut labels = vec![Text::new(
            label.clone(),
            (t, lo + 0.02 * (hi - lo)),
            font.clone(),
        )];
        if k > 0 {
            // The corner holds the x axis's first label already.
            labels.push(Text::new(label, (lo + 0.01 * (hi - lo), t), font));
        }
        chart.draw_series(labels).map_err(|e| fail(&e))?;
    }
    for (k, row) in rows.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points: Vec<(f64, f64)> = row
            .roc
            .iter()
            .filter(|(far, tar)| *far > 0.0 && *tar < 1.0)
            .map(|&(far, tar)| (probit(far).clamp(lo, hi), probit(1.0 - tar).clamp(lo, hi)))
            .collect();
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(format!("{} (EER {:.1}%)", row.method, 100.0 * row.eer))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, 14).map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

/// CMC curves: the identification rate at ranks 1 to 20.
pub fn cmc(path: &Path, rows: &[RowMetrics], title: &str) -> Result<()> {
    fonts();
    let fail = |e: &dyn std::fmt::Display| plot_error(path, e);
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let max_rank = rows.iter().map(|r| r.cmc.len()).max().unwrap_or(1).max(2) as f64;
    let low = rows
        .iter()
        .flat_map(|r| r.cmc.iter().copied())
        .fold(1.0, f64::min);
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("CMC: {title}"), ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(1f64..max_rank, (low - 0.05).max(0.0)..1.0f64)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc("rank")
        .y_desc("identification rate")
        .draw()
        .map_err(|e| fail(&e))?;
    for (k, row) in rows.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points: Vec<(f64, f64)> = (1..).map(f64::from).zip(row.cmc.iter().copied()).collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(|e| fail(&e))?
            .label(format!("{} (Rank-1 {:.1}%)", row.method, 100.0 * row.rank1))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )
            .map_err(|e| fail(&e))?;
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight, 14).map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

/// Genuine and impostor score densities per row, with the EER threshold (solid) and the
/// FAR = 1e-2 / 1e-3 thresholds (dashed) marked.
pub fn score_histograms(path: &Path, rows: &[RowMetrics]) -> Result<()> {
    fonts();
    let fail = |e: &dyn std::fmt::Display| plot_error(path, e);
    let columns = rows.len().clamp(1, 3);
    let lines = rows.len().div_ceil(columns).max(1);
    let root =
        BitMapBackend::new(path, (460 * columns as u32, 340 * lines as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    for (row, area) in rows.iter().zip(root.split_evenly((lines, columns)).iter()) {
        let h = &row.scores;
        let bins = h.bins.max(1);
        let width = 2.0 / bins as f64;
        let density = |counts: &[u64]| -> Vec<f64> {
            let total = counts.iter().sum::<u64>().max(1) as f64;
            counts.iter().map(|&c| c as f64 / total / width).collect()
        };
        let (genuine, impostor) = (density(&h.genuine), density(&h.impostor));
        let top = genuine
            .iter()
            .chain(&impostor)
            .fold(0.1, |a: f64, &b| a.max(b));
        let mut chart = ChartBuilder::on(area)
            .caption(&row.method, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(-1f64..1f64, 0f64..top * 1.1)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("cosine score")
            .y_desc("density")
            .draw()
            .map_err(|e| fail(&e))?;
        for (values, colour, name) in [
            (&impostor, COLOURS[4], "impostor"),
            (&genuine, COLOURS[1], "genuine"),
        ] {
            chart
                .draw_series(values.iter().enumerate().map(|(i, &v)| {
                    let x = -1.0 + i as f64 * width;
                    Rectangle::new([(x, 0.0), (x + width, v)], colour.mix(0.45).filled())
                }))
                .map_err(|e| fail(&e))?
                .label(name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 15, y + 5)], colour.mix(0.45).filled())
                });
        }
        let marks = [
            (h.eer_threshold, false, "EER", 1.05),
            (h.far_thresholds[0], true, "FAR 1e-2", 0.95),
            (h.far_thresholds[1], true, "FAR 1e-3", 0.85),
        ];
        for (t, dashed, name, height) in marks {
            if !t.is_finite() {
                continue;
            }
            let points = [(t, 0.0), (t, top * 1.05)];
            let series = if dashed {
                chart.draw_series(DashedLineSeries::new(points, 6, 4, BLACK.stroke_width(1)))
            } else {
                chart.draw_series(LineSeries::new(points, BLACK.stroke_width(2)))
            };
            series.map_err(|e| fail(&e))?;
            chart
                .draw_series(std::iter::once(Text::new(
                    name,
                    (t + 0.01, top * height),
                    ("sans-serif", 12),
                )))
                .map_err(|e| fail(&e))?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 13).map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))
}
