//! The HdrHistogram "percentile distribution" text format (`.hgrm`).
//!
//! Laid out as HdrHistogram's `outputPercentileDistribution` prints it, so that the HdrHistogram
//! plotter and other tools read it:
//!
//! ```text
//!        Value     Percentile TotalCount 1/(1-Percentile)
//!
//!        0.250 0.000000000000          1           1.00
//!        …
//!      812.031 0.999023437500      99903        1024.00
//!      950.271 1.000000000000     100000
//! #[Mean    =        1.234, StdDeviation   =        5.678]
//! #[Max     =      950.271, Total count    =       100000]
//! #[Buckets =           24, SubBuckets     =         2048]
//! ```
//!
//! Columns: the value (divided by `unit_scale`, with as many decimals as the histogram has
//! significant digits), the percentile *level iterated to* as a fraction (12 decimals), the count
//! of values at or below that value, and `1/(1-percentile)` (2 decimals) — absent on the final
//! 100% row. Rows step through percentiles with 5 ticks per half-distance to 100%
//! (`iter_quantiles(5)`): 0%, 10%, …, 50%, 55%, …, 75%, 77.5%, …, 99.0234375%, …

use super::ReportError;
use hdrhistogram::Histogram;
use std::io::{self, Write};

/// Percentile ticks per half-distance to 100%, as in HdrHistogram's own output.
const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// One data row of a `.hgrm` file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HgrmRow {
    /// The value, in the file's unit (already divided by `unit_scale`).
    pub value: f64,
    /// Percentile level as printed: a fraction in `[0, 1]`, not a percentage.
    pub percentile: f64,
    /// Count of recorded values at or below `value`.
    pub total_count: u64,
}

/// The three `#[…]` footer lines of a `.hgrm` file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HgrmFooter {
    /// Mean, in the file's unit.
    pub mean: f64,
    /// Standard deviation, in the file's unit.
    pub std_deviation: f64,
    /// Largest recorded value (highest equivalent), in the file's unit.
    pub max: f64,
    /// Number of recorded values.
    pub total_count: u64,
    /// The histogram's bucket count.
    pub buckets: u64,
    /// The histogram's sub-bucket count.
    pub sub_buckets: u64,
}

/// Writes `h` as a percentile distribution, every value divided by `unit_scale` (1000.0 turns
/// nanoseconds into microseconds). An empty histogram gives the header and footer only.
pub fn write_hgrm(h: &Histogram<u64>, w: &mut impl Write, unit_scale: f64) -> io::Result<()> {
    let prec = usize::from(h.sigfig());
    writeln!(w, "{:>12} {:>14} {:>10} {:>14}", "Value", "Percentile", "TotalCount", "1/(1-Percentile)")?;
    writeln!(w)?;
    let mut total_count = 0_u64;
    for v in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
        total_count += v.count_since_last_iteration();
        let value = v.value_iterated_to() as f64 / unit_scale;
        let level = v.quantile_iterated_to();
        if level < 1.0 {
            writeln!(w, "{value:12.prec$} {level:2.12} {total_count:10} {:14.2}", 1.0 / (1.0 - level))?;
        } else {
            writeln!(w, "{value:12.prec$} {level:2.12} {total_count:10}")?;
        }
    }
    let (mean, stddev, max) = (h.mean() / unit_scale, h.stdev() / unit_scale, h.max() as f64 / unit_scale);
    writeln!(w, "#[Mean    = {mean:12.prec$}, StdDeviation   = {stddev:12.prec$}]")?;
    writeln!(w, "#[Max     = {max:12.prec$}, Total count    = {:12}]", h.len())?;
    writeln!(w, "#[Buckets = {:12}, SubBuckets     = {:12}]", h.buckets(), sub_bucket_count(h.sigfig()))
}

/// HdrHistogram's sub-bucket count for `sigfig` significant digits: the smallest power of two
/// that holds `2 × 10^sigfig` (2048 for 3 digits).
fn sub_bucket_count(sigfig: u8) -> u64 {
    (2 * 10_u64.pow(u32::from(sigfig))).next_power_of_two()
}

/// Reads the data rows of a `.hgrm` text: skips the header, blank lines and `#` lines; each
/// other line must hold value, percentile, total count and optionally `1/(1-percentile)`.
pub fn parse_hgrm(text: &str) -> Result<Vec<HgrmRow>, ReportError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("Value") {
            continue;
        }
        let fields: Vec<&str> = trimmed.split_whitespace().collect();
        if !(3..=4).contains(&fields.len()) {
            return Err(parse_error(line_no, format!("expected 3 or 4 columns, found {}", fields.len())));
        }
        rows.push(HgrmRow {
            value: parse_field(line_no, "value", fields[0])?,
            percentile: parse_field(line_no, "percentile", fields[1])?,
            total_count: parse_field(line_no, "total count", fields[2])?,
        });
        if let Some(inverse) = fields.get(3) {
            parse_field::<f64>(line_no, "1/(1-percentile)", inverse)?;
        }
    }
    Ok(rows)
}

/// Reads the `#[Mean …]`, `#[Max …]` and `#[Buckets …]` footer lines of a `.hgrm` text.
pub fn parse_hgrm_footer(text: &str) -> Result<HgrmFooter, ReportError> {
    let mut pairs: Vec<(usize, &str, &str)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(inner) = line.trim().strip_prefix("#[").and_then(|l| l.strip_suffix(']')) else { continue };
        for item in inner.split(',') {
            let (key, value) =
                item.split_once('=').ok_or_else(|| parse_error(i + 1, format!("expected `key = value`: {item:?}")))?;
            pairs.push((i + 1, key.trim(), value.trim()));
        }
    }
    let last_line = text.lines().count();
    let field = |key: &str| {
        pairs
            .iter()
            .find(|(_, k, _)| *k == key)
            .map(|(line, _, v)| (*line, *v))
            .ok_or_else(|| parse_error(last_line, format!("footer has no {key:?}")))
    };
    let float = |key: &str| field(key).and_then(|(line, v)| parse_field::<f64>(line, key, v));
    let int = |key: &str| field(key).and_then(|(line, v)| parse_field::<u64>(line, key, v));
    Ok(HgrmFooter {
        mean: float("Mean")?,
        std_deviation: float("StdDeviation")?,
        max: float("Max")?,
        total_count: int("Total count")?,
        buckets: int("Buckets")?,
        sub_buckets: int("SubBuckets")?,
    })
}

/// Parses one column, naming it and the line on failure.
fn parse_field<T: std::str::FromStr>(line: usize, what: &str, text: &str) -> Result<T, ReportError> {
    text.parse().map_err(|_| parse_error(line, format!("bad {what}: {text:?}")))
}

fn parse_error(line: usize, message: String) -> ReportError {
    ReportError::Parse { line, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_bucket_count_matches_hdrhistogram() {
        assert_eq!(sub_bucket_count(1), 32);
        assert_eq!(sub_bucket_count(2), 256);
        assert_eq!(sub_bucket_count(3), 2048);
        assert_eq!(sub_bucket_count(5), 262_144);
    }

    #[test]
    fn inf_column_parses() {
        let rows = parse_hgrm("       1.000 1.000000000000          1            inf\n").unwrap();
        assert_eq!(rows, vec![HgrmRow { value: 1.0, percentile: 1.0, total_count: 1 }]);
    }
}
