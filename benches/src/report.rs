//! Aggregating rounds into medians and ratios, and writing the markdown table and the SVG
//! chart of `benches/results/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{Entry, Flavor};

/// Every sample of one run of the suite: `(flavor, case row, subject) -> metric -> values`.
#[derive(Debug, Default)]
pub struct Samples {
    /// The case rows in suite order.
    pub cases: Vec<String>,
    /// The subjects in report order.
    pub subjects: Vec<Entry>,
    values: BTreeMap<(Flavor, usize, usize, String), Vec<f64>>,
}

impl Samples {
    /// An empty set for these cases and subjects.
    #[must_use]
    pub fn new(cases: Vec<String>, subjects: Vec<Entry>) -> Self {
        Self {
            cases,
            subjects,
            values: BTreeMap::new(),
        }
    }

    /// Records one value.
    pub fn add(&mut self, flavor: Flavor, case: usize, subject: usize, metric: &str, value: f64) {
        self.values
            .entry((flavor, case, subject, metric.to_owned()))
            .or_default()
            .push(value);
    }

    /// Every value as tab-separated lines (`flavor case subject metric value`), the raw data
    /// behind the medians.
    #[must_use]
    pub fn tsv(&self) -> String {
        let mut out = String::from("flavor\tcase\tsubject\tmetric\tvalue\n");
        for ((flavor, case, subject, metric), values) in &self.values {
            for value in values {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{metric}\t{value}",
                    flavor.name(),
                    self.cases[*case],
                    self.subjects[*subject].name
                );
            }
        }
        out
    }

    /// The median and the spread (`(max - min) / median`) of one figure.
    #[must_use]
    pub fn stat(&self, flavor: Flavor, case: usize, subject: usize, metric: &str) -> Option<Stat> {
        let values = self
            .values
            .get(&(flavor, case, subject, metric.to_owned()))?;
        Stat::of(values)
    }

    /// The metrics measured for a case, in first-seen order.
    #[must_use]
    pub fn metrics(&self, flavor: Flavor, case: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (f, c, _, metric) in self.values.keys() {
            if *f == flavor && *c == case && !out.contains(metric) {
                out.push(metric.clone());
            }
        }
        out.sort_by_key(|m| metric_order(m));
        out
    }

    /// The raw-tokio baseline of the same kind (bounded or not) as `subject`.
    #[must_use]
    pub fn baseline_for(&self, subject: usize) -> Option<usize> {
        let bounded = self.subjects[subject].bounded;
        self.subjects
            .iter()
            .position(|e| e.baseline && e.bounded == bounded)
    }

    /// The best (lowest) median among the other frameworks.
    #[must_use]
    pub fn best_peer(&self, flavor: Flavor, case: usize, metric: &str) -> Option<(usize, f64)> {
        (0..self.subjects.len())
            .filter(|&s| !self.subjects[s].baseline && !self.subjects[s].ours)
            .filter_map(|s| Some((s, self.stat(flavor, case, s, metric)?.median)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

fn metric_order(metric: &str) -> usize {
    [
        "ns/op",
        "spawn ns/actor",
        "bytes/actor",
        "stop ns/actor",
        "allocs/op",
    ]
    .iter()
    .position(|m| *m == metric)
    .unwrap_or(usize::MAX)
}

/// A median with its spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// The median of the rounds.
    pub median: f64,
    /// `(max - min) / median`, 0 for a single round.
    pub spread: f64,
}

impl Stat {
    /// The statistic of `values` (`None` if empty).
    #[must_use]
    pub fn of(values: &[f64]) -> Option<Self> {
        if values.is_empty() {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        } else {
            sorted[mid]
        };
        let spread = if median > 0.0 {
            (sorted[sorted.len() - 1] - sorted[0]) / median
        } else {
            0.0
        };
        Some(Self { median, spread })
    }
}

fn fmt_value(metric: &str, v: f64) -> String {
    match metric {
        "allocs/op" => format!("{v:.2}"),
        "bytes/actor" => format!("{v:.0} B"),
        _ if v >= 10_000.0 => format!("{:.1} µs", v / 1000.0),
        _ => format!("{v:.1} ns"),
    }
}

/// The markdown report: a stamp, then one table per flavor.
#[must_use]
pub fn markdown(samples: &Samples, stamp: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# beam versus raw tokio and other actor frameworks\n");
    let _ = writeln!(out, "{stamp}\n");
    let _ = writeln!(
        out,
        "Each cell: the median of the rounds, ± half their range relative to the median, and \
         the ratio to raw tokio of the same kind (bounded or unbounded). The last column \
         divides beam (unbounded) by the best other framework: below 1.00 means beam is \
         ahead. Lower is better everywhere.\n"
    );
    for flavor in Flavor::ALL {
        let title = match flavor {
            Flavor::MultiThread => "multi-thread runtime, 2 workers",
            Flavor::CurrentThread => "current_thread runtime",
        };
        let _ = writeln!(out, "## {title}\n");
        let _ = write!(out, "| case | metric |");
        for e in &samples.subjects {
            let _ = write!(out, " {} |", e.name);
        }
        let _ = writeln!(out, " beam ÷ best peer |");
        let _ = write!(out, "|---|---|");
        for _ in &samples.subjects {
            let _ = write!(out, "---:|");
        }
        let _ = writeln!(out, "---:|");
        let beam = samples.subjects.iter().position(|e| e.ours && !e.bounded);
        for (c, case) in samples.cases.iter().enumerate() {
            for metric in samples.metrics(flavor, c) {
                let _ = write!(out, "| {case} | {metric} |");
                for s in 0..samples.subjects.len() {
                    let cell = match samples.stat(flavor, c, s, &metric) {
                        None => "–".to_owned(),
                        Some(stat) => {
                            let mut cell = fmt_value(&metric, stat.median);
                            if stat.spread > 0.0 {
                                let _ = write!(cell, " ±{:.0}%", stat.spread * 50.0);
                            }
                            let base = samples
                                .baseline_for(s)
                                .filter(|&b| b != s)
                                .and_then(|b| samples.stat(flavor, c, b, &metric));
                            // Ratios of allocation counts near zero say nothing.
                            let comparable = metric != "allocs/op";
                            if let Some(base) = base.filter(|b| comparable && b.median > 0.0) {
                                let _ = write!(cell, " ({:.2}×)", stat.median / base.median);
                            }
                            cell
                        }
                    };
                    let _ = write!(out, " {cell} |");
                }
                let versus = beam
                    .and_then(|b| samples.stat(flavor, c, b, &metric))
                    .zip(samples.best_peer(flavor, c, &metric))
                    .filter(|(_, (_, best))| *best > 0.0)
                    .map(|(ours, (peer, best))| {
                        format!(
                            "{:.2} ({})",
                            ours.median / best,
                            samples.subjects[peer].name
                        )
                    })
                    .unwrap_or_else(|| "–".to_owned());
                let _ = writeln!(out, " {versus} |");
            }
        }
        let _ = writeln!(out);
    }
    out
}

/// The SVG chart: for each flavor, each subject's time per operation as a ratio to raw
/// tokio of the same kind, case by case (1.0 = raw tokio; lower is better).
pub fn chart(samples: &Samples, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let subjects: Vec<usize> = (0..samples.subjects.len())
        .filter(|&s| !samples.subjects[s].baseline)
        .collect();
    let cases: Vec<usize> = (0..samples.cases.len()).collect();
    let ratio = |flavor: Flavor, c: usize, s: usize| -> Option<f64> {
        let metric = if samples.stat(flavor, c, s, "ns/op").is_some() {
            "ns/op"
        } else {
            "spawn ns/actor"
        };
        let ours = samples.stat(flavor, c, s, metric)?.median;
        let base = samples
            .stat(flavor, c, samples.baseline_for(s)?, metric)?
            .median;
        (base > 0.0).then(|| ours / base)
    };
    let mut top = 1.0_f64;
    for flavor in Flavor::ALL {
        for &c in &cases {
            for &s in &subjects {
                if let Some(r) = ratio(flavor, c, s) {
                    top = top.max(r);
                }
            }
        }
    }
    // A log scale: ratios run from a tenth of raw tokio to a hundred times it.
    let top = top.max(2.0) * 1.5;
    let (floor, label_y, bar_base) = (0.04, 0.05, 0.065);

    let width = 160 + 120 * cases.len() as u32;
    let root = SVGBackend::new(path, (width, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((2, 1));
    let palette = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    for (panel, flavor) in panels.iter().zip(Flavor::ALL) {
        let title = match flavor {
            Flavor::MultiThread => "time per operation ÷ raw tokio — multi-thread, 2 workers",
            Flavor::CurrentThread => "time per operation ÷ raw tokio — current_thread",
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(60)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..cases.len() as f64, (floor..top).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_x_axis()
            .y_desc("ratio to raw tokio (log scale)")
            .y_label_formatter(&|y| format!("{y}"))
            .draw()?;
        // Case names centred under their group of bars.
        let label = ("sans-serif", 11)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart.draw_series(cases.iter().map(|&c| {
            Text::new(
                samples.cases[c].clone(),
                (c as f64 + 0.5, label_y),
                label.clone(),
            )
        }))?;
        let bar = 0.8 / subjects.len() as f64;
        for (k, &s) in subjects.iter().enumerate() {
            let color = palette[k % palette.len()];
            let bars = cases.iter().filter_map(|&c| {
                let r = ratio(flavor, c, s)?.clamp(bar_base, top);
                let x0 = c as f64 + 0.1 + k as f64 * bar;
                Some(Rectangle::new(
                    [(x0, bar_base), (x0 + bar * 0.9, r)],
                    color.filled(),
                ))
            });
            chart
                .draw_series(bars)?
                .label(samples.subjects[s].name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 1.0), (cases.len() as f64, 1.0)],
            BLACK.stroke_width(1),
        )))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
