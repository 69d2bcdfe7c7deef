//! The terminal table: one latency row per (scenario, histogram), then the ratio table.
//!
//! Latencies are printed with automatic units (`ns`, `µs`, `ms`, `s`), throughput in signals per
//! second (`/s`, `k/s`, `M/s`), ratios as `0.83x` (tradeflow ÷ baseline).

use super::{Ratio, Scenario};
use std::fmt::Write;

/// Header of the latency table.
const LATENCY_HEADER: [&str; 9] = ["scenario", "histogram", "count", "p50", "p90", "p99", "p99.9", "max", "throughput"];
/// Header of the ratio table.
const RATIO_HEADER: [&str; 7] = ["scenario", "baseline", "histogram", "metric", "tradeflow", "baseline value", "ratio"];

/// The latency table of every scenario, then (if any) the ratio table.
pub fn terminal_table(scenarios: &[Scenario], ratios: &[Ratio]) -> String {
    let mut rows = vec![LATENCY_HEADER.map(str::to_owned).to_vec()];
    for s in scenarios {
        if s.histograms.is_empty() {
            // Throughput-only scenarios (the inline compute floor, the mirror's sustained rate).
            let mut row = vec![s.name.clone(), "-".to_owned(), s.signals.to_string()];
            row.extend((0..5).map(|_| "-".to_owned()));
            row.push(format_rate(s.throughput_per_s));
            rows.push(row);
        }
        for (name, h) in &s.histograms {
            let q = |q: f64| format_ns(h.value_at_quantile(q) as f64);
            rows.push(vec![
                s.name.clone(),
                name.clone(),
                h.len().to_string(),
                q(0.5),
                q(0.9),
                q(0.99),
                q(0.999),
                format_ns(h.max() as f64),
                format_rate(s.throughput_per_s),
            ]);
        }
    }
    let mut out = render(&rows, 2);
    if !ratios.is_empty() {
        out.push_str("\nratios: tradeflow / baseline (latency: lower is better; throughput: higher is better)\n");
        let mut rows = vec![RATIO_HEADER.map(str::to_owned).to_vec()];
        rows.extend(ratios.iter().map(ratio_row));
        out.push_str(&render(&rows, 4));
    }
    out
}

fn ratio_row(r: &Ratio) -> Vec<String> {
    let value = |v: f64| if r.metric == "throughput" { format_rate(v) } else { format_ns(v) };
    vec![
        r.scenario.clone(),
        r.baseline.clone(),
        r.histogram.clone(),
        r.metric.clone(),
        value(r.tradeflow),
        value(r.other),
        format!("{:.2}x", r.ratio),
    ]
}

/// Aligns `rows` into columns: the first `left` left-aligned (names), the rest right-aligned.
fn render(rows: &[Vec<String>], left: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|cell| cell.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let sep = if c == 0 { "" } else { "  " };
            let w = widths[c];
            // Writing to a String cannot fail.
            let _ = if c < left { write!(line, "{sep}{cell:<w$}") } else { write!(line, "{sep}{cell:>w$}") };
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A duration in nanoseconds with a readable unit: `850 ns`, `12.35 µs`, `4.10 ms`, `1.20 s`.
fn format_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// A rate in signals per second: `950 /s`, `99.9 k/s`, `5.12 M/s`.
fn format_rate(per_s: f64) -> String {
    if per_s < 1e3 {
        format!("{per_s:.0} /s")
    } else if per_s < 1e6 {
        format!("{:.1} k/s", per_s / 1e3)
    } else {
        format!("{:.2} M/s", per_s / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(format_ns(850.0), "850 ns");
        assert_eq!(format_ns(12_345.0), "12.35 µs");
        assert_eq!(format_ns(4_100_000.0), "4.10 ms");
        assert_eq!(format_ns(1.2e9), "1.20 s");
        assert_eq!(format_rate(950.0), "950 /s");
        assert_eq!(format_rate(99_900.0), "99.9 k/s");
        assert_eq!(format_rate(5_120_000.0), "5.12 M/s");
    }

    #[test]
    fn columns_align_with_multibyte_units() {
        let rows = vec![
            vec!["a".to_owned(), "b".to_owned(), "1.00 µs".to_owned()],
            vec!["long".to_owned(), "x".to_owned(), "5 ns".to_owned()],
        ];
        let text = render(&rows, 2);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a     b  1.00 µs");
        assert_eq!(lines[1], "long  x     5 ns");
    }
}
