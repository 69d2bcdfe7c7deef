//! SVG percentile plot: every scenario's latency distribution for one histogram, drawn the way
//! the HdrHistogram plotter draws it.
//!
//! - x: percentile on the classic "1/(1-p)" log scale, i.e. `log10(1/(1-p))`: 0% at 0, 90% at 1,
//!   99% at 2, 99.9% at 3, … The axis runs to 99.999% or, for larger histograms, to the nine
//!   count that their sample size resolves (at most 99.99999%).
//! - y: latency in microseconds on a **log** scale (values below 1 ns are drawn at 1 ns).
//! - One line per scenario, named in the legend; the chart title is the histogram name.
//!
//! Text is plain SVG `<text>` (no font files are read); its layout uses plotters' size estimate.

use super::{ReportError, Scenario, NS_PER_US};
use hdrhistogram::Histogram;
use plotters::prelude::*;
use std::path::Path;

/// Plot size in pixels.
const SIZE: (u32, u32) = (1024, 640);
/// x-axis resolution: points per decade of `1/(1-p)`.
const POINTS_PER_DECADE: u32 = 40;
/// Smallest plotted latency, µs (the log axis cannot show 0).
const FLOOR_US: f64 = 0.001;
/// Line colours, cycled.
const COLOURS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
];

/// Draws the percentile plot of `histogram` for every scenario that recorded it (and is not
/// empty) into the SVG file `path`.
pub fn write_svg(scenarios: &[Scenario], histogram: &str, path: &Path) -> Result<(), ReportError> {
    let series: Vec<(&str, &Histogram<u64>)> = scenarios
        .iter()
        .filter_map(|s| s.histogram(histogram).filter(|h| !h.is_empty()).map(|h| (s.name.as_str(), h)))
        .collect();
    let decades = x_decades(&series);
    let curves: Vec<(&str, Vec<(f64, f64)>)> = series.iter().map(|(name, h)| (*name, curve(h, decades))).collect();
    draw(path, histogram, decades, &curves).map_err(|message| ReportError::Plot { path: path.to_owned(), message })
}

/// How many decades of `1/(1-p)` the x axis spans: 5 (99.999%), more if a histogram holds
/// enough values to resolve further, at most 7.
fn x_decades(series: &[(&str, &Histogram<u64>)]) -> u32 {
    let most = series.iter().map(|(_, h)| h.len()).max().unwrap_or(0);
    let mut decades = 5;
    while decades < 7 && most > 10_u64.pow(decades) {
        decades += 1;
    }
    decades
}

/// (x, latency µs) points: x = log10(1/(1-p)) from 0 to `decades`.
fn curve(h: &Histogram<u64>, decades: u32) -> Vec<(f64, f64)> {
    (0..=decades * POINTS_PER_DECADE)
        .map(|i| {
            let x = f64::from(i) / f64::from(POINTS_PER_DECADE);
            let quantile = 1.0 - 10_f64.powf(-x);
            (x, (h.value_at_quantile(quantile) as f64 / NS_PER_US).max(FLOOR_US))
        })
        .collect()
}

/// The axis label of x = log10(1/(1-p)): "0%", "90%", "99%", "99.9%", …
fn percentile_label(x: f64) -> String {
    let nines = x.round();
    if (x - nines).abs() > 1e-9 {
        return format!("{:.4}%", 100.0 * (1.0 - 10_f64.powf(-x)));
    }
    match nines as u32 {
        0 => "0%".to_owned(),
        1 => "90%".to_owned(),
        2 => "99%".to_owned(),
        n => format!("99.{}%", "9".repeat(n as usize - 2)),
    }
}

/// A latency axis label in µs: at most 3 decimals, no trailing zeros.
fn latency_label(us: f64) -> String {
    let text = format!("{us:.3}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The y range covering every curve with some headroom on the log axis.
fn y_range(curves: &[(&str, Vec<(f64, f64)>)]) -> (f64, f64) {
    let ys = || curves.iter().flat_map(|(_, pts)| pts.iter().map(|&(_, y)| y));
    let lo = ys().fold(f64::INFINITY, f64::min);
    let hi = ys().fold(0.0, f64::max);
    if lo.is_finite() && hi > lo {
        (lo / 1.5, hi * 1.5)
    } else if lo.is_finite() {
        (lo / 2.0, lo * 2.0)
    } else {
        (FLOOR_US, 1.0)
    }
}

/// Renders the chart; plotters' errors come back as text.
fn draw(path: &Path, title: &str, decades: u32, curves: &[(&str, Vec<(f64, f64)>)]) -> Result<(), String> {
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (y_lo, y_hi) = y_range(curves);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..f64::from(decades), (y_lo..y_hi).log_scale())
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_labels(decades as usize + 1)
        .x_desc("percentile")
        .y_desc("latency (µs)")
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| latency_label(*y))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (name, points)) in curves.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_labels() {
        let labels: Vec<String> = (0..=5).map(|x| percentile_label(f64::from(x))).collect();
        assert_eq!(labels, ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]);
        assert_eq!(percentile_label(0.5), "68.3772%");
        assert_eq!(latency_label(20.0), "20");
        assert_eq!(latency_label(0.25), "0.25");
    }
}
