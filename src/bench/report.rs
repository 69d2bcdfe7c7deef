//! Reports of a `tradeflow bench` run: what was measured, in four formats.
//!
//! The runner hands over a list of [`Scenario`]s (one measured configuration each: tradeflow or a
//! baseline at one rate, or in burst mode, or a floor), the [`Ratio`]s computed by [`ratios`], and
//! the [`HostInfo`]. Everything here runs after the measurement, on the cold path: it allocates
//! freely and never touches a running pipeline. All latencies in a [`Scenario`] are nanoseconds.
//!
//! Formats, all written by [`write_all`] into one directory:
//!
//! - **`<scenario>.<histogram>.hgrm`**, one per (scenario, histogram): the HdrHistogram
//!   "percentile distribution" text, laid out as HdrHistogram's `outputPercentileDistribution`
//!   prints it, values in microseconds. The HdrHistogram plotter
//!   (<https://hdrhistogram.github.io/HdrHistogram/plotFiles.html>) loads these files. Written by
//!   [`write_hgrm`], read back by [`parse_hgrm`] and [`parse_hgrm_footer`]. Names are made
//!   filesystem-safe (every character outside `[A-Za-z0-9._-]` becomes `_`; a clash gets `-2`,
//!   `-3`, …).
//! - **`summary.json`**: every percentile, throughput, the host, the config and the command, as
//!   described by the JSON Schema `bench/summary.schema.json` ([`summary_json`],
//!   [`SCHEMA_VERSION`]).
//! - **`<histogram>.svg`**, one per histogram name: a percentile plot of every scenario that
//!   recorded that histogram ([`write_svg`]).
//! - The **terminal table** ([`terminal_table`]) is returned as a string, not written.
//!
//! Ratios are always tradeflow ÷ baseline: below 1 is better for latency, above 1 is better for
//! throughput.

mod hgrm;
mod host;
mod summary;
mod svg;
mod table;

pub use hgrm::{parse_hgrm, parse_hgrm_footer, write_hgrm, HgrmFooter, HgrmRow};
pub use host::HostInfo;
pub use summary::{summary_json, SCHEMA_VERSION};
pub use svg::write_svg;
pub use table::terminal_table;

use hdrhistogram::Histogram;
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// [`Scenario::kind`] of the system under test; every other kind is a baseline.
pub const KIND_TRADEFLOW: &str = "tradeflow";

/// Nanoseconds per microsecond: the `unit_scale` [`write_all`] uses for `.hgrm` files.
pub const NS_PER_US: f64 = 1_000.0;

/// One measured configuration: tradeflow or a baseline at one rate (or burst), or a floor.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Display name, e.g. `"tradeflow@100000/s"`, `"crossbeam@100000/s"`, `"floor:rtrb-pingpong"`.
    pub name: String,
    /// `"tradeflow"`, `"crossbeam"`, `"disruptor"` or `"floor"`.
    pub kind: String,
    /// Offered load in signals per second; `None` for burst runs and floors.
    pub rate_per_sec: Option<f64>,
    /// Signals measured (after warm-up).
    pub signals: u64,
    /// Measured wall time, seconds.
    pub elapsed_s: f64,
    /// Signals completed per second of `elapsed_s`.
    pub throughput_per_s: f64,
    /// Named latency histograms, values in nanoseconds, e.g. `"signal_to_order_to_venue"`.
    pub histograms: Vec<(String, Histogram<u64>)>,
}

impl Scenario {
    /// The histogram called `name`, if this scenario recorded one.
    pub fn histogram(&self, name: &str) -> Option<&Histogram<u64>> {
        self.histograms.iter().find(|(n, _)| n == name).map(|(_, h)| h)
    }
}

/// tradeflow measured against one baseline on one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Ratio {
    /// Name of the tradeflow scenario.
    pub scenario: String,
    /// `"p50"`, `"p99"`, `"p99.9"` or `"throughput"`.
    pub metric: String,
    /// Histogram the latency metrics come from (also set on throughput rows).
    pub histogram: String,
    /// Name of the baseline scenario.
    pub baseline: String,
    /// tradeflow's figure: nanoseconds for latency metrics, signals/s for throughput.
    pub tradeflow: f64,
    /// The baseline's figure, same unit.
    pub other: f64,
    /// `tradeflow / other`: lower is better for latency, higher is better for throughput.
    pub ratio: f64,
}

/// The latency metrics of a ratio table and their quantiles.
const RATIO_QUANTILES: [(&str, f64); 3] = [("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)];

/// Everything that can go wrong while writing or reading reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Creating, writing or reading a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A report file does not have the expected layout.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// plotters failed to draw or write a plot.
    #[error("plot {}: {message}", path.display())]
    Plot {
        /// The SVG file.
        path: PathBuf,
        /// plotters' error, as text.
        message: String,
    },
}

/// tradeflow against every baseline of another kind at the same rate (or both burst/unpaced),
/// on `histogram`: p50, p99 and p99.9 latency, then throughput. Pairs where either side lacks
/// the histogram or has recorded nothing are skipped, as are metrics whose baseline figure is 0.
pub fn ratios(scenarios: &[Scenario], histogram: &str) -> Vec<Ratio> {
    let mut out = Vec::new();
    for tf in scenarios.iter().filter(|s| s.kind == KIND_TRADEFLOW) {
        let Some(tf_h) = tf.histogram(histogram).filter(|h| !h.is_empty()) else { continue };
        for other in scenarios.iter().filter(|s| s.kind != KIND_TRADEFLOW && same_rate(s.rate_per_sec, tf.rate_per_sec))
        {
            let Some(other_h) = other.histogram(histogram).filter(|h| !h.is_empty()) else { continue };
            let row = |metric: &str, tradeflow: f64, other_value: f64| Ratio {
                scenario: tf.name.clone(),
                metric: metric.to_owned(),
                histogram: histogram.to_owned(),
                baseline: other.name.clone(),
                tradeflow,
                other: other_value,
                ratio: tradeflow / other_value,
            };
            for (metric, q) in RATIO_QUANTILES {
                let (a, b) = (tf_h.value_at_quantile(q) as f64, other_h.value_at_quantile(q) as f64);
                if b > 0.0 {
                    out.push(row(metric, a, b));
                }
            }
            if other.throughput_per_s > 0.0 {
                out.push(row("throughput", tf.throughput_per_s, other.throughput_per_s));
            }
        }
    }
    out
}

/// Two offered loads are the same if both are unpaced or they agree to 1e-9 (relative).
fn same_rate(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => false,
    }
}

/// Writes every report file into `dir` (created if missing): one `.hgrm` per (scenario,
/// histogram) in microseconds, `summary.json`, and one SVG per histogram name. Returns the
/// paths written, in that order.
pub fn write_all(
    dir: &Path,
    scenarios: &[Scenario],
    ratios: &[Ratio],
    host: &HostInfo,
    config_toml: &str,
    command: &str,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io { path: dir.to_owned(), source })?;
    let mut names = FileNames::default();
    let mut written = Vec::new();
    for s in scenarios {
        for (name, h) in &s.histograms {
            let path = dir.join(names.claim(&format!("{}.{}", safe_file_stem(&s.name), safe_file_stem(name)), "hgrm"));
            write_file(&path, |w| write_hgrm(h, w, NS_PER_US))?;
            written.push(path);
        }
    }
    let path = dir.join(names.claim("summary", "json"));
    let summary = summary_json(scenarios, ratios, host, config_toml, command);
    write_file(&path, |w| {
        serde_json::to_writer_pretty(&mut *w, &summary)?;
        writeln!(w)
    })?;
    written.push(path);
    for name in histogram_names(scenarios) {
        let path = dir.join(names.claim(&safe_file_stem(&name), "svg"));
        write_svg(scenarios, &name, &path)?;
        written.push(path);
    }
    Ok(written)
}

/// Every histogram name in `scenarios`, first-seen order, no repeats.
fn histogram_names(scenarios: &[Scenario]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (name, _) in scenarios.iter().flat_map(|s| &s.histograms) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// `name` with every character outside `[A-Za-z0-9._-]` replaced by `_` (and never empty).
fn safe_file_stem(name: &str) -> String {
    let stem: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    if stem.is_empty() || stem.chars().all(|c| c == '.') {
        format!("_{stem}")
    } else {
        stem
    }
}

/// File names handed out so far in one report directory.
#[derive(Debug, Default)]
struct FileNames(HashSet<String>);

impl FileNames {
    /// `stem.ext`, or `stem-2.ext`, `stem-3.ext`, … if already taken.
    fn claim(&mut self, stem: &str, ext: &str) -> String {
        let mut candidate = format!("{stem}.{ext}");
        let mut n = 2;
        while self.0.contains(&candidate) {
            candidate = format!("{stem}-{n}.{ext}");
            n += 1;
        }
        self.0.insert(candidate.clone());
        candidate
    }
}

/// Creates `path` and runs `body` on a buffered writer to it; errors carry the path.
fn write_file(path: &Path, body: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) -> Result<(), ReportError> {
    let io_err = |source| ReportError::Io { path: path.to_owned(), source };
    let mut w = BufWriter::new(File::create(path).map_err(io_err)?);
    body(&mut w).map_err(io_err)?;
    w.flush().map_err(io_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe_and_unique() {
        assert_eq!(safe_file_stem("tradeflow@100000/s"), "tradeflow_100000_s");
        assert_eq!(safe_file_stem("floor:rtrb-pingpong"), "floor_rtrb-pingpong");
        assert_eq!(safe_file_stem(".."), "_..");
        assert_eq!(safe_file_stem(""), "_");
        let mut names = FileNames::default();
        assert_eq!(names.claim("a_b", "hgrm"), "a_b.hgrm");
        assert_eq!(names.claim("a_b", "hgrm"), "a_b-2.hgrm");
        assert_eq!(names.claim("a_b", "svg"), "a_b.svg");
    }

    #[test]
    fn rates_match_within_rounding_only() {
        assert!(same_rate(None, None));
        assert!(same_rate(Some(100_000.0), Some(100_000.000_000_01)));
        assert!(!same_rate(Some(100_000.0), Some(10_000.0)));
        assert!(!same_rate(Some(100_000.0), None));
    }
}
