//! The summary of a run repeated with several training seeds on one fixed split: each seed's
//! rows side by side, and per method the mean and sample standard deviation across seeds.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::evaluate::RowMetrics;

/// Mean and sample standard deviation (divisor n - 1; 0 for a single value).
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

type Pick = fn(&RowMetrics) -> f64;

const QUANTITIES: [(&str, &str, Pick); 3] = [
    ("Rank-1", "rank1", |r| r.rank1),
    ("TAR@FAR=1%", "tar_far_1e2", |r| r.tar_far_1e2),
    ("TAR@FAR=0.1%", "tar_far_1e3", |r| r.tar_far_1e3),
];

/// The methods in the order of the first run's rows, each with its row of every run.
fn by_method(runs: &[(u64, Vec<RowMetrics>)]) -> Vec<(&str, Vec<&RowMetrics>)> {
    let Some((_, first)) = runs.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|row| {
            let rows = runs
                .iter()
                .filter_map(|(_, rows)| rows.iter().find(|r| r.method == row.method))
                .collect();
            (row.method.as_str(), rows)
        })
        .collect()
}

/// The summary as Markdown (percent): one column per seed, then mean +- standard deviation.
pub fn markdown(runs: &[(u64, Vec<RowMetrics>)], data_seed: u64) -> String {
    let mut s = String::new();
    let seeds: Vec<String> = runs.iter().map(|(seed, _)| seed.to_string()).collect();
    let _ = writeln!(
        s,
        "# Training seeds {}\n\nThe data and the split (seed {data_seed}) are the same in every run; only training (initialisation, image pool, pair order) changes. Values in percent; mean +- sample standard deviation across seeds.\n",
        seeds.join(", ")
    );
    for (name, _, pick) in QUANTITIES {
        let _ = writeln!(s, "{name}:\n");
        let _ = writeln!(
            s,
            "| Method | {} | mean +- sd |",
            seeds
                .iter()
                .map(|x| format!("seed {x}"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(s, "|---|{}---|", "---|".repeat(seeds.len()));
        for (method, rows) in by_method(runs) {
            let values: Vec<f64> = rows.iter().map(|r| pick(r)).collect();
            let (mean, sd) = mean_std(&values);
            let _ = writeln!(
                s,
                "| {method} | {} | {:.1} +- {:.1} |",
                values
                    .iter()
                    .map(|v| format!("{:.1}", 100.0 * v))
                    .collect::<Vec<_>>()
                    .join(" | "),
                100.0 * mean,
                100.0 * sd
            );
        }
        s.push('\n');
    }
    s
}

/// The summary as JSON (fractions): per method, each seed's values and their mean and sd.
pub fn json(runs: &[(u64, Vec<RowMetrics>)], data_seed: u64) -> Value {
    let methods: Vec<Value> = by_method(runs)
        .into_iter()
        .map(|(method, rows)| {
            let mut entry = json!({"method": method});
            for (_, key, pick) in QUANTITIES {
                let values: Vec<f64> = rows.iter().map(|r| pick(r)).collect();
                let (mean, sd) = mean_std(&values);
                entry[key] = json!({"per_seed": values, "mean": mean, "sd": sd});
            }
            entry
        })
        .collect();
    json!({
        "data_seed": data_seed,
        "training_seeds": runs.iter().map(|(seed, _)| *seed).collect::<Vec<_>>(),
        "methods": methods,
    })
}
