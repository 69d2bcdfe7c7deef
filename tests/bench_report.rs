//! `tradeflow bench` report formats: a `.hgrm` parses back to the histogram's percentiles,
//! `summary.json` matches `bench/summary.schema.json` (and broken documents do not), the SVG and
//! the terminal table name every scenario, `write_all` writes every file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

mod util;

use hdrhistogram::Histogram;
use serde_json::Value;
use tradeflow::bench::report::{
    parse_hgrm, parse_hgrm_footer, ratios, summary_json, terminal_table, write_all, write_hgrm, write_svg, HgrmRow,
    HostInfo, Ratio, ReportError, Scenario,
};

const SCHEMA_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/summary.schema.json");
/// The `.hgrm` value column has 3 decimals for a 3-significant-digit histogram.
const HGRM_ROUNDING: f64 = 0.0005 + 1e-9;

/// splitmix64: a fixed-seed source of uniform floats in (0, 1].
struct Rng(u64);

impl Rng {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        ((z >> 11) as f64 + 1.0) / (1_u64 << 53) as f64
    }
}

/// `n` latencies (ns): 300 ns plus an exponential body (mean 700 ns) and a 1% tail up to 2 ms.
fn seeded_histogram(seed: u64, n: usize) -> Histogram<u64> {
    let mut rng = Rng(seed);
    let mut h = Histogram::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    for _ in 0..n {
        let body = 300.0 - 700.0 * rng.next_unit().ln();
        let tail = if rng.next_unit() < 0.01 { 2_000_000.0 * rng.next_unit() } else { 0.0 };
        h.record((body + tail) as u64).unwrap();
    }
    h
}

/// A histogram holding `value` `n` times.
fn constant_histogram(value: u64, n: u64) -> Histogram<u64> {
    let mut h = Histogram::new(3).unwrap();
    h.record_n(value, n).unwrap();
    h
}

fn scenario(
    name: &str,
    kind: &str,
    rate: Option<f64>,
    throughput: f64,
    hists: Vec<(&str, Histogram<u64>)>,
) -> Scenario {
    Scenario {
        name: name.to_owned(),
        kind: kind.to_owned(),
        rate_per_sec: rate,
        signals: 100_000,
        elapsed_s: 1.0,
        throughput_per_s: throughput,
        histograms: hists.into_iter().map(|(n, h)| (n.to_owned(), h)).collect(),
    }
}

/// tradeflow and two baselines at 100k/s, a crossbeam run at 10k/s, a burst pair and a floor.
fn sample_scenarios() -> Vec<Scenario> {
    vec![
        scenario(
            "tradeflow@100000/s",
            "tradeflow",
            Some(100_000.0),
            99_990.0,
            vec![("e2e", constant_histogram(1_000, 50))],
        ),
        scenario(
            "crossbeam@100000/s",
            "crossbeam",
            Some(100_000.0),
            99_980.0,
            vec![("e2e", constant_histogram(2_000, 50))],
        ),
        scenario(
            "crossbeam@10000/s",
            "crossbeam",
            Some(10_000.0),
            9_999.0,
            vec![("e2e", constant_histogram(1_500, 50))],
        ),
        scenario("tradeflow burst", "tradeflow", None, 4_000_000.0, vec![("e2e", seeded_histogram(7, 10_000))]),
        scenario("disruptor burst", "disruptor", None, 2_000_000.0, vec![("e2e", seeded_histogram(8, 10_000))]),
        scenario("floor:rtrb-pingpong", "floor", None, 9_000_000.0, vec![("hop", constant_histogram(80, 1_000))]),
    ]
}

fn sample_host() -> HostInfo {
    HostInfo {
        cpu_model: "Test CPU".to_owned(),
        cores_online: 2,
        cores_used: vec![0, 1],
        kernel: "6.0.0-test".to_owned(),
        governor: None,
        isolated_cores: Some(String::new()),
        git_commit: None,
    }
}

fn hgrm_text(h: &Histogram<u64>, unit_scale: f64) -> String {
    let mut buf = Vec::new();
    write_hgrm(h, &mut buf, unit_scale).unwrap();
    String::from_utf8(buf).unwrap()
}

#[test]
fn hgrm_parses_back_to_the_histograms_percentiles() {
    let h = seeded_histogram(42, 100_000);
    let text = hgrm_text(&h, 1_000.0);
    let rows = parse_hgrm(&text).unwrap();
    let scaled = |q: f64| h.value_at_quantile(q.min(1.0)) as f64 / 1_000.0;
    // The value the file gives at a printed percentile level is the histogram's value there. The
    // level is printed to 12 decimals and accumulated in f64 by the iterator, so it may stand for
    // a level up to 1e-12 above the printed one (a tick of 0.75 may really be 0.75 + 1 ulp).
    let agrees =
        |r: &HgrmRow, q: f64| scaled(q) - HGRM_ROUNDING <= r.value && r.value <= scaled(q + 1e-12) + HGRM_ROUNDING;
    for r in &rows {
        assert!(agrees(r, r.percentile), "{r:?} vs {}", scaled(r.percentile));
    }
    for p in [50.0, 90.0, 99.0, 99.9, 100.0] {
        let q = p / 100.0;
        let i = rows.iter().position(|r| r.percentile >= q - 1e-12).unwrap();
        if (rows[i].percentile - q).abs() < 1e-12 {
            // 50%, 90% and 100% are iteration ticks: the first row at or past p is p.
            assert!(agrees(&rows[i], q), "p{p}: file {} vs histogram {}", rows[i].value, scaled(q));
        } else {
            // 99% and 99.9% fall between ticks (99.0625%, 99.90234375%): the rows bracket them.
            let exact = scaled(q);
            assert!(rows[i - 1].value - HGRM_ROUNDING <= exact && exact <= rows[i].value + HGRM_ROUNDING, "p{p}");
        }
    }
    let last = rows.last().unwrap();
    assert_eq!((last.percentile, last.total_count), (1.0, h.len()));
    assert!(rows.windows(2).all(|w| w[0].percentile < w[1].percentile && w[0].total_count <= w[1].total_count));

    let footer = parse_hgrm_footer(&text).unwrap();
    assert_eq!(footer.total_count, 100_000);
    assert!((footer.max - h.max() as f64 / 1_000.0).abs() <= HGRM_ROUNDING);
    assert!((footer.mean - h.mean() / 1_000.0).abs() <= HGRM_ROUNDING);
    assert_eq!((footer.buckets, footer.sub_buckets), (u64::from(h.buckets()), 2048));
}

#[test]
fn hgrm_layout_is_hdrhistograms() {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
    for v in [500, 1_000, 1_500, 2_000] {
        h.record(v).unwrap();
    }
    let text = hgrm_text(&h, 500.0);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "       Value     Percentile TotalCount 1/(1-Percentile)");
    assert_eq!(lines[1], "");
    assert_eq!(lines[2], "       1.000 0.000000000000          1           1.00");
    assert_eq!(lines[3], "       1.000 0.100000000000          1           1.11");
    let footer_at = lines.iter().position(|l| l.starts_with("#[")).unwrap();
    assert_eq!(lines[footer_at - 1], "       4.000 1.000000000000          4");
    assert!(lines[2..footer_at - 1].iter().all(|l| l.len() == 53 && l.split_whitespace().count() == 4));
    assert_eq!(
        &lines[footer_at..],
        [
            "#[Mean    =        2.500, StdDeviation   =        1.118]",
            "#[Max     =        4.000, Total count    =            4]",
            &format!("#[Buckets = {:12}, SubBuckets     =         2048]", h.buckets()),
        ]
    );
}

#[test]
fn hgrm_parse_errors_name_the_line() {
    let bad_row = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n       1.000 zero   1  1.00\n";
    match parse_hgrm(bad_row) {
        Err(ReportError::Parse { line, message }) => assert_eq!((line, message.contains("percentile")), (3, true)),
        other => panic!("expected a parse error, got {other:?}"),
    }
    assert!(matches!(parse_hgrm("1.0 0.5\n"), Err(ReportError::Parse { line: 1, .. })));
    assert!(matches!(parse_hgrm_footer("#[Mean = 1.0, StdDeviation = 0.5]\n"), Err(ReportError::Parse { .. })));
    assert_eq!(parse_hgrm("# only a comment\n").unwrap(), Vec::<HgrmRow>::new());
}

#[test]
fn ratios_pair_tradeflow_with_baselines_at_the_same_rate() {
    let scenarios = sample_scenarios();
    let rs = ratios(&scenarios, "e2e");
    let pairs: Vec<(&str, &str, &str)> =
        rs.iter().map(|r| (r.scenario.as_str(), r.baseline.as_str(), r.metric.as_str())).collect();
    let expected: Vec<(&str, &str, &str)> =
        [("tradeflow@100000/s", "crossbeam@100000/s"), ("tradeflow burst", "disruptor burst")]
            .into_iter()
            .flat_map(|(a, b)| ["p50", "p99", "p99.9", "throughput"].map(|m| (a, b, m)))
            .collect();
    assert_eq!(pairs, expected);
    let p50 = &rs[0];
    assert_eq!((p50.histogram.as_str(), p50.tradeflow, p50.other, p50.ratio), ("e2e", 1_000.0, 2_000.0, 0.5));
    assert!((rs[3].ratio - 99_990.0 / 99_980.0).abs() < 1e-12);
    assert!(ratios(&scenarios, "hop").is_empty(), "no tradeflow scenario records `hop`");
}

#[test]
fn summary_json_matches_the_schema() {
    let scenarios = sample_scenarios();
    let rs = ratios(&scenarios, "e2e");
    let schema = load_schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    for host in [sample_host(), HostInfo::detect(vec![0])] {
        let doc = summary_json(&scenarios, &rs, &host, "[run]\nsignals = 10\n", "tradeflow bench --compare");
        assert_eq!(schema_errors(&schema, &doc), Vec::<String>::new());
    }
    let doc = summary_json(&scenarios, &rs, &sample_host(), "[run]\n", "tradeflow bench");
    let burst = &doc["scenarios"][3];
    assert_eq!(burst["rate_per_sec"], Value::Null);
    let h = scenarios[3].histogram("e2e").unwrap();
    assert_eq!(burst["histograms"]["e2e"]["p99_9_ns"], h.value_at_quantile(0.999));
    assert_eq!(burst["histograms"]["e2e"]["count"], 10_000);
    assert_eq!(doc["ratios"].as_array().unwrap().len(), rs.len());
    assert_eq!(doc["host"]["isolated_cores"], "");
}

/// One way to spoil a valid summary document.
type Breakage = fn(&mut Value);

#[test]
fn broken_summaries_do_not_match_the_schema() {
    let schema = load_schema();
    let scenarios = sample_scenarios();
    let good = summary_json(&scenarios, &ratios(&scenarios, "e2e"), &sample_host(), "", "tradeflow bench");
    let breakages: [(&str, Breakage); 7] = [
        ("missing host field", |d| {
            d["host"].as_object_mut().unwrap().remove("kernel");
        }),
        ("missing percentile", |d| {
            d["scenarios"][0]["histograms"]["e2e"].as_object_mut().unwrap().remove("p99_ns");
        }),
        ("signals as a string", |d| d["scenarios"][0]["signals"] = "100000".into()),
        ("fractional count", |d| d["scenarios"][1]["histograms"]["e2e"]["count"] = 1.5.into()),
        ("unknown metric", |d| d["ratios"][0]["metric"] = "p42".into()),
        ("negative elapsed", |d| d["scenarios"][2]["elapsed_s"] = (-1.0).into()),
        ("unknown top-level field", |d| d["extra"] = true.into()),
    ];
    for (what, breakage) in breakages {
        let mut doc = good.clone();
        breakage(&mut doc);
        assert!(!schema_errors(&schema, &doc).is_empty(), "{what}: the broken document validated");
    }
}

#[test]
fn svg_plots_every_scenario_with_the_histogram() {
    let scenarios = sample_scenarios();
    let path = util::temp_path("bench-report-e2e.svg");
    write_svg(&scenarios, "e2e", &path).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{}", &svg[..40]);
    assert!(svg.trim_end().ends_with("</svg>"));
    // The text of every <text> element: title, axis names, tick labels, legend.
    let texts: Vec<&str> =
        svg.split("</text>").filter_map(|chunk| chunk.rsplit_once('>')).map(|(_, text)| text.trim()).collect();
    assert_eq!(texts[0], "e2e", "the title comes first");
    for s in scenarios.iter().filter(|s| s.histogram("e2e").is_some()) {
        assert!(texts.contains(&s.name.as_str()), "legend lacks {}", s.name);
    }
    assert!(!svg.contains("floor:rtrb-pingpong"), "the floor has no e2e histogram");
    for label in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "percentile", "latency (µs)"] {
        assert!(texts.contains(&label), "no {label} in {texts:?}");
    }
}

#[test]
fn terminal_table_lists_latencies_and_ratios() {
    let scenarios = sample_scenarios();
    let rs = ratios(&scenarios, "e2e");
    let table = terminal_table(&scenarios, &rs);
    let header = table.lines().next().unwrap();
    for column in ["scenario", "histogram", "count", "p50", "p90", "p99", "p99.9", "max", "throughput"] {
        assert!(header.split_whitespace().any(|c| c == column), "header lacks {column}: {header}");
    }
    let row = table.lines().find(|l| l.starts_with("crossbeam@100000/s")).unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        [
            "crossbeam@100000/s",
            "e2e",
            "50",
            "2.00",
            "µs",
            "2.00",
            "µs",
            "2.00",
            "µs",
            "2.00",
            "µs",
            "2.00",
            "µs",
            "100.0",
            "k/s"
        ]
    );
    assert!(table
        .lines()
        .any(|l| l.starts_with("floor:rtrb-pingpong") && l.contains("80 ns") && l.contains("9.00 M/s")));
    assert!(table.contains("ratios: tradeflow / baseline"));
    let ratio_line = table.lines().find(|l| l.starts_with("tradeflow@100000/s") && l.contains(" p50 ")).unwrap();
    assert!(ratio_line.contains("crossbeam@100000/s") && ratio_line.ends_with("0.50x"), "{ratio_line}");
    assert!(!terminal_table(&scenarios, &[]).contains("ratios"));
}

#[test]
fn write_all_writes_hgrm_summary_and_svg() {
    let scenarios = sample_scenarios();
    let rs: Vec<Ratio> = ratios(&scenarios, "e2e");
    let dir = util::temp_path("bench-report-all").join("nested");
    let written = write_all(&dir, &scenarios, &rs, &sample_host(), "[run]\n", "tradeflow bench").unwrap();
    let names: Vec<String> = written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        names,
        [
            "tradeflow_100000_s.e2e.hgrm",
            "crossbeam_100000_s.e2e.hgrm",
            "crossbeam_10000_s.e2e.hgrm",
            "tradeflow_burst.e2e.hgrm",
            "disruptor_burst.e2e.hgrm",
            "floor_rtrb-pingpong.hop.hgrm",
            "summary.json",
            "e2e.svg",
            "hop.svg",
        ]
    );
    let hgrm = std::fs::read_to_string(&written[0]).unwrap();
    assert_eq!(parse_hgrm_footer(&hgrm).unwrap().max, 1.0, "hgrm values are in µs");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&written[6]).unwrap()).unwrap();
    assert_eq!(schema_errors(&load_schema(), &summary), Vec::<String>::new());
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn write_all_reports_the_path_it_could_not_create() {
    let file = util::temp_path("bench-report-not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = write_all(&file.join("out"), &sample_scenarios(), &[], &sample_host(), "", "").unwrap_err();
    std::fs::remove_file(&file).unwrap();
    match &err {
        ReportError::Io { path, .. } => assert_eq!(path, &file.join("out")),
        other => panic!("expected an Io error, got {other:?}"),
    }
    assert!(err.to_string().contains("bench-report-not-a-dir"), "{err}");
}

#[test]
fn host_detection_reads_this_machine() {
    let host = HostInfo::detect(vec![1, 0]);
    assert!(host.cores_online >= 1);
    assert_eq!(host.cores_used, [1, 0]);
    assert!(!host.cpu_model.is_empty() && !host.kernel.is_empty());
    if cfg!(target_os = "linux") {
        assert_ne!(host.kernel, "unknown");
    }
    if let Some(commit) = &host.git_commit {
        assert!(commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()), "{commit}");
    }
}

// ---- a validator for the subset of JSON Schema 2020-12 that bench/summary.schema.json uses ----

fn load_schema() -> Value {
    serde_json::from_str(&std::fs::read_to_string(SCHEMA_PATH).unwrap()).unwrap()
}

/// Every violation of `schema` by `doc`, as "pointer: problem". Panics on a keyword it does not
/// implement, so the schema cannot silently rely on an unchecked rule.
fn schema_errors(schema: &Value, doc: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, doc, "", &mut errors);
    errors
}

fn check(root: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let rules = schema.as_object().expect("a schema is an object");
    for (keyword, arg) in rules {
        match keyword.as_str() {
            "$schema" | "title" | "description" | "$defs" => {}
            "$ref" => {
                let pointer = arg.as_str().and_then(|r| r.strip_prefix('#')).expect("local $ref");
                check(root, root.pointer(pointer).expect("$ref target exists"), v, at, errors);
            }
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::Array(list) => list.iter().map(|t| t.as_str().unwrap()).collect(),
                    other => vec![other.as_str().unwrap()],
                };
                if !types.iter().any(|t| has_type(v, t)) {
                    errors.push(format!("{at}: {v} is not {types:?}"));
                }
            }
            "const" if v != arg => errors.push(format!("{at}: {v} is not {arg}")),
            "enum" if !arg.as_array().unwrap().contains(v) => errors.push(format!("{at}: {v} not in {arg}")),
            "minimum" if v.as_f64().is_some_and(|n| n < arg.as_f64().unwrap()) => {
                errors.push(format!("{at}: {v} < {arg}"));
            }
            "const" | "enum" | "minimum" => {}
            "required" => {
                for field in arg.as_array().unwrap().iter().map(|f| f.as_str().unwrap()) {
                    if v.as_object().is_some_and(|o| !o.contains_key(field)) {
                        errors.push(format!("{at}: missing {field}"));
                    }
                }
            }
            "properties" => check_properties(root, arg, v, at, errors),
            "additionalProperties" => check_additional(root, rules.get("properties"), arg, v, at, errors),
            "items" => {
                for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                    check(root, arg, item, &format!("{at}/{i}"), errors);
                }
            }
            other => panic!("the schema uses `{other}`, which this test's validator does not implement"),
        }
    }
}

fn check_properties(root: &Value, props: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(object) = v.as_object() else { return };
    for (name, sub) in props.as_object().unwrap() {
        if let Some(value) = object.get(name) {
            check(root, sub, value, &format!("{at}/{name}"), errors);
        }
    }
}

fn check_additional(root: &Value, props: Option<&Value>, arg: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(object) = v.as_object() else { return };
    let declared = |name: &str| props.and_then(Value::as_object).is_some_and(|p| p.contains_key(name));
    for (name, value) in object.iter().filter(|(name, _)| !declared(name)) {
        match arg {
            Value::Bool(true) => {}
            Value::Bool(false) => errors.push(format!("{at}: unexpected field {name}")),
            sub => check(root, sub, value, &format!("{at}/{name}"), errors),
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        other => panic!("unknown type {other}"),
    }
}

#[test]
fn the_validator_catches_each_keyword() {
    let schema: Value = serde_json::json!({
        "type": "object", "required": ["a"], "additionalProperties": false,
        "properties": { "a": { "type": "array", "items": { "enum": [1, 2] } }, "b": { "const": "x" },
                        "c": { "type": "number", "minimum": 0 } }
    });
    assert!(schema_errors(&schema, &serde_json::json!({ "a": [1, 2], "b": "x", "c": 0 })).is_empty());
    for bad in [
        serde_json::json!({}),
        serde_json::json!({ "a": [3] }),
        serde_json::json!({ "a": [], "b": "y" }),
        serde_json::json!({ "a": [], "c": -1 }),
        serde_json::json!({ "a": [], "d": 1 }),
        serde_json::json!([]),
    ] {
        assert_eq!(schema_errors(&schema, &bad).len(), 1, "{bad}");
    }
}
