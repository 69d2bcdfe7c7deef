//! Each learner, driven through the stage on seeded synthetic outcome streams.

mod util;

use tradeflow_core::{
    AlertAction, AlertType, Event, MarketCondition, ModelIdx, PolicyKind, RecordingCtx, Severity, Stage, StageId,
};
use tradeflow_learning::{ChallengerPair, LearningConfig, LearningStage};
use util::{all_off, catalog, closed, feed, policies, Rng};

const BULL: MarketCondition = MarketCondition::Bullish;
const BEAR: MarketCondition = MarketCondition::Bearish;

fn stage(cfg: &LearningConfig, models: &[&str]) -> LearningStage {
    LearningStage::try_new(cfg, catalog(models)).unwrap_or_else(|e| panic!("{e}"))
}

/// Feeds `n` outcomes of `model` drawn by `draw` (pnl_pct, confidence); returns all emitted.
fn run(
    s: &mut LearningStage,
    seq: &mut u64,
    n: usize,
    model: u16,
    cond: MarketCondition,
    mut draw: impl FnMut() -> (f64, f64),
) -> Vec<Event> {
    let mut out = Vec::new();
    for _ in 0..n {
        *seq += 1;
        let (pnl, conf) = draw();
        out.extend(feed(s, &closed(*seq, model, pnl, conf, cond)));
    }
    out
}

fn sizing_only() -> LearningConfig {
    let mut c = all_off();
    c.sizing.enabled = true;
    c
}

#[test]
fn sizing_shrinks_a_losing_model_to_the_smallest_arm() {
    let mut s = stage(&sizing_only(), &["m1"]);
    let mut rng = Rng::new(1);
    let out = run(&mut s, &mut 0, 200, 0, BULL, || (rng.range(-1.0, -0.2), 0.6));
    let ups = policies(&out, PolicyKind::SizingMultiplier);
    assert_eq!(ups.last(), Some(&(0, 0.25)), "{ups:?}");
    assert_eq!(s.sizing_multiplier(ModelIdx(0)), Some(0.25));
    assert_eq!(s.stats().sizing_updates, ups.len() as u64);
}

#[test]
fn sizing_grows_a_steady_low_variance_winner() {
    let mut s = stage(&sizing_only(), &["m1", "m2"]);
    let mut rng = Rng::new(2);
    let out = run(&mut s, &mut 0, 300, 1, BULL, || (rng.range(0.4, 0.6), 0.6));
    assert_eq!(policies(&out, PolicyKind::SizingMultiplier).last(), Some(&(1, 1.25)));
    assert_eq!(s.sizing_multiplier(ModelIdx(1)), Some(1.25));
    assert_eq!(s.sizing_multiplier(ModelIdx(0)), Some(1.0), "untouched model keeps 1.0");
}

#[test]
fn sizing_never_proposes_beyond_the_hard_bounds() {
    let mut cfg = sizing_only();
    cfg.sizing.max_multiplier = 1.0;
    cfg.sizing.min_multiplier = 0.5;
    let mut s = stage(&cfg, &["m1", "m2"]);
    let mut rng = Rng::new(3);
    let win = run(&mut s, &mut 0, 300, 0, BULL, || (rng.range(0.4, 0.6), 0.6));
    assert!(policies(&win, PolicyKind::SizingMultiplier).is_empty(), "1.0 is already in force");
    let lose = run(&mut s, &mut 0, 300, 1, BULL, || (rng.range(-1.0, -0.2), 0.6));
    assert_eq!(policies(&lose, PolicyKind::SizingMultiplier).last(), Some(&(1, 0.5)), "clamped up to the bound");
}

fn meta_only() -> LearningConfig {
    let mut c = all_off();
    c.meta.enabled = true;
    c
}

#[test]
fn meta_gives_the_better_model_the_higher_weight() {
    let mut s = stage(&meta_only(), &["m1", "m2"]);
    let mut rng = Rng::new(4);
    let mut seq = 0;
    let mut out = Vec::new();
    for _ in 0..300 {
        let w1 = rng.bernoulli(0.7);
        let w2 = rng.bernoulli(0.3);
        out.extend(run(&mut s, &mut seq, 1, 0, BULL, || (if w1 { 1.0 } else { -1.0 }, 0.6)));
        out.extend(run(&mut s, &mut seq, 1, 1, BULL, || (if w2 { 1.0 } else { -1.0 }, 0.6)));
    }
    let (w1, w2) = (s.model_weight(ModelIdx(0)).unwrap_or(0.0), s.model_weight(ModelIdx(1)).unwrap_or(0.0));
    assert!(w1 > w2, "m1 {w1} vs m2 {w2}");
    assert!((0.25..0.65).contains(&w2), "about 0.3 / 0.7: {w2}");
    let ups = policies(&out, PolicyKind::ModelWeight);
    assert_eq!(ups.last().map(|u| u.0), Some(1));
    assert_eq!(s.stats().weight_updates, ups.len() as u64);
}

#[test]
fn meta_weights_follow_the_market_condition() {
    let mut s = stage(&meta_only(), &["m1", "m2"]);
    let mut seq = 0;
    // m1 wins in bull markets and loses in bear markets; m2 the opposite.
    for _ in 0..40 {
        run(&mut s, &mut seq, 1, 0, BULL, || (1.0, 0.6));
        run(&mut s, &mut seq, 1, 1, BULL, || (-1.0, 0.6));
        run(&mut s, &mut seq, 1, 0, BEAR, || (-1.0, 0.6));
        run(&mut s, &mut seq, 1, 1, BEAR, || (1.0, 0.6));
    }
    let bear = (s.model_weight(ModelIdx(0)), s.model_weight(ModelIdx(1)));
    run(&mut s, &mut seq, 1, 0, BULL, || (1.0, 0.6));
    run(&mut s, &mut seq, 1, 1, BULL, || (-1.0, 0.6));
    let bull = (s.model_weight(ModelIdx(0)), s.model_weight(ModelIdx(1)));
    assert!(bear.1 > bear.0, "bear market favours m2: {bear:?}");
    assert!(bull.0 > bull.1, "bull market favours m1: {bull:?}");
}

#[test]
fn meta_deadband_suppresses_small_moves() {
    let mut cfg = meta_only();
    cfg.meta.deadband = 0.99;
    let mut s = stage(&cfg, &["m1", "m2"]);
    let mut seq = 0;
    let mut out = run(&mut s, &mut seq, 50, 0, BULL, || (1.0, 0.6));
    out.extend(run(&mut s, &mut seq, 50, 1, BULL, || (-1.0, 0.6)));
    assert!(policies(&out, PolicyKind::ModelWeight).is_empty());
}

fn supervisor_only(window: u32, disable: Option<f64>) -> LearningConfig {
    let mut c = all_off();
    c.supervisor.enabled = true;
    c.supervisor.window = window;
    c.supervisor.min_win_rate = 0.4;
    c.supervisor.min_mean_pnl_pct = -0.2;
    c.supervisor.disable_below_win_rate = disable;
    c
}

fn alerts(events: &[Event]) -> Vec<tradeflow_core::RiskAlert> {
    events.iter().filter_map(|e| if let Event::RiskAlert(a) = e { Some(*a) } else { None }).collect()
}

#[test]
fn supervisor_requests_retraining_once_until_recovered() {
    let mut s = stage(&supervisor_only(20, None), &["m1", "m2"]);
    let mut rng = Rng::new(5);
    let mut seq = 0;
    let good = run(&mut s, &mut seq, 40, 1, BULL, || (rng.range(-0.5, 1.5), 0.6));
    assert!(alerts(&good).is_empty());
    let bad = run(&mut s, &mut seq, 60, 1, BULL, || (rng.range(-1.5, 0.2), 0.6));
    let a = alerts(&bad);
    assert_eq!(a.len(), 1, "once per episode: {a:?}");
    let a = a[0];
    assert_eq!(
        (a.alert_type, a.severity, a.action, a.source),
        (AlertType::ModelDegraded, Severity::Medium, AlertAction::RetrainRequested, StageId::Learning)
    );
    assert_eq!(a.model, ModelIdx(1));
    assert!(a.observed < a.limit, "{a:?}");
    assert!(s.is_degraded(ModelIdx(1)) && !s.is_degraded(ModelIdx(0)));
    assert!(policies(&bad, PolicyKind::ModelAllowed).is_empty(), "no disabling unless configured");
    run(&mut s, &mut seq, 20, 1, BULL, || (1.0, 0.6));
    assert!(!s.is_degraded(ModelIdx(1)), "recovered");
    assert_eq!(s.supervisor_metrics(ModelIdx(1)), Some((1.0, 1.0)));
    let again = run(&mut s, &mut seq, 20, 1, BULL, || (-1.0, 0.6));
    assert_eq!(alerts(&again).len(), 1, "a new episode alerts again");
    assert_eq!(s.stats().degraded_alerts, 2);
}

#[test]
fn supervisor_disallows_a_model_below_the_disable_rate() {
    let mut s = stage(&supervisor_only(10, Some(0.2)), &["m1"]);
    let mut seq = 0;
    let out = run(&mut s, &mut seq, 10, 0, BULL, || (-1.0, 0.6));
    assert_eq!(policies(&out, PolicyKind::ModelAllowed), vec![(0, 0.0)]);
    assert_eq!(alerts(&out).len(), 1);
    let more = run(&mut s, &mut seq, 10, 0, BULL, || (-1.0, 0.6));
    assert!(more.is_empty(), "{more:?}");
    let back = run(&mut s, &mut seq, 10, 0, BULL, || (1.0, 0.6));
    assert_eq!(policies(&back, PolicyKind::ModelAllowed), vec![(0, 1.0)]);
}

fn drift_only() -> LearningConfig {
    let mut c = all_off();
    c.drift.enabled = true;
    c
}

fn drifts(events: &[Event]) -> Vec<tradeflow_core::ModelDriftDetected> {
    events.iter().filter_map(|e| if let Event::ModelDriftDetected(d) = e { Some(*d) } else { None }).collect()
}

/// One calibrated outcome: confidence c, win with probability c + `bias`.
fn calibrated(rng: &mut Rng, lo: f64, hi: f64, bias: f64) -> (f64, f64) {
    let c = rng.range(lo, hi);
    (if rng.bernoulli(c + bias) { 1.0 } else { -1.0 }, c)
}

#[test]
fn drift_stays_quiet_on_a_calibrated_stream() {
    for seed in 10..15 {
        let mut s = stage(&drift_only(), &["m1"]);
        let mut rng = Rng::new(seed);
        let out = run(&mut s, &mut 0, 2000, 0, BULL, || calibrated(&mut rng, 0.5, 0.9, 0.0));
        assert!(out.is_empty(), "seed {seed}: {:?}", drifts(&out).first());
        assert_eq!(s.drift_samples(ModelIdx(0)), Some(2000));
    }
}

#[test]
fn drift_fires_soon_after_the_model_turns_overconfident() {
    let mut s = stage(&drift_only(), &["m1", "m2"]);
    let mut rng = Rng::new(20);
    let mut seq = 0;
    assert!(run(&mut s, &mut seq, 500, 1, BULL, || calibrated(&mut rng, 0.5, 0.9, 0.0)).is_empty());
    let mut fired = None;
    for i in 0..300 {
        let out = run(&mut s, &mut seq, 1, 1, BULL, || calibrated(&mut rng, 0.5, 0.9, -0.3));
        if let Some(d) = drifts(&out).first() {
            fired = Some((i, *d));
            break;
        }
    }
    let (i, d) = fired.expect("drift detected within 300 samples of the shift");
    assert!(i < 300);
    assert_eq!(d.model, ModelIdx(1));
    assert_eq!(d.threshold, 20.0);
    assert!(d.statistic > d.threshold);
    assert!(d.mean_recent < d.mean_before - 0.15, "{d:?}");
    assert!(d.samples > 500);
    assert_eq!(s.drift_samples(ModelIdx(1)), Some(0), "reset after firing");
    assert_eq!(s.stats().drift_detections, 1);
}

#[test]
fn drift_fires_when_the_model_turns_underconfident() {
    let mut s = stage(&drift_only(), &["m1"]);
    let mut rng = Rng::new(21);
    let mut seq = 0;
    assert!(run(&mut s, &mut seq, 300, 0, BEAR, || calibrated(&mut rng, 0.2, 0.6, 0.0)).is_empty());
    let out = run(&mut s, &mut seq, 300, 0, BEAR, || calibrated(&mut rng, 0.2, 0.6, 0.35));
    let d = drifts(&out);
    assert!(!d.is_empty());
    assert!(d[0].mean_recent > d[0].mean_before + 0.15, "{:?}", d[0]);
}

fn clm_only(min_trades: u32) -> LearningConfig {
    let mut c = all_off();
    c.clm.enabled = true;
    c.meta.enabled = true;
    c.meta.deadband = 0.99; // keep the meta agent quiet; it is here to be capped
    c.clm.min_trades = min_trades;
    c.clm.shadow_weight = 0.2;
    c.clm.challengers = vec![ChallengerPair { challenger: "m2".into(), incumbent: "m1".into() }];
    c
}

fn promotions(events: &[Event]) -> Vec<tradeflow_core::ModelPromoted> {
    events.iter().filter_map(|e| if let Event::ModelPromoted(p) = e { Some(*p) } else { None }).collect()
}

/// Interleaves outcomes of m1 (incumbent) and m2 (challenger) drawn around the given means.
fn duel(s: &mut LearningStage, rng: &mut Rng, n: usize, mean1: f64, mean2: f64) -> Vec<Event> {
    let mut seq = 10_000;
    let mut out = Vec::new();
    for _ in 0..n {
        let (a, b) = (rng.range(-1.0, 1.0), rng.range(-1.0, 1.0));
        out.extend(run(s, &mut seq, 1, 0, BULL, || (mean1 + a, 0.6)));
        out.extend(run(s, &mut seq, 1, 1, BULL, || (mean2 + b, 0.6)));
    }
    out
}

#[test]
fn clm_promotes_a_better_challenger_once() {
    let mut s = stage(&clm_only(30), &["m1", "m2"]);
    let mut rng = Rng::new(30);
    let out = duel(&mut s, &mut rng, 200, 0.0, 0.6);
    let p = promotions(&out);
    assert_eq!(p.len(), 1, "once per pair");
    let p = p[0];
    assert_eq!((p.promoted, p.replaced), (ModelIdx(1), ModelIdx(0)));
    assert!(p.statistic > 2.0 && p.challenger_trades >= 30 && p.incumbent_trades >= 30, "{p:?}");
    assert!(p.challenger_mean_pnl_pct > p.incumbent_mean_pnl_pct);
    let at = out.iter().position(|e| matches!(e, Event::ModelPromoted(_))).unwrap_or(0);
    assert_eq!(policies(&out[at..at + 4], PolicyKind::ModelWeight), vec![(1, 1.0), (0, 0.2)]);
    assert_eq!(policies(&out[at..at + 4], PolicyKind::ModelAllowed), vec![(1, 1.0)]);
    assert!(s.is_promoted(0));
    assert_eq!(s.model_weight(ModelIdx(0)), Some(0.2), "the meta agent is capped at the shadow weight");
    assert_eq!(s.stats().promotions, 1);
}

#[test]
fn clm_keeps_a_worse_or_equal_challenger_in_the_shadow() {
    for (mean2, seed) in [(-0.6, 31), (0.0, 32)] {
        let mut s = stage(&clm_only(30), &["m1", "m2"]);
        let out = duel(&mut s, &mut Rng::new(seed), 300, 0.0, mean2);
        assert!(promotions(&out).is_empty(), "challenger mean {mean2}");
        assert!(!s.is_promoted(0));
    }
}

#[test]
fn clm_waits_for_min_trades() {
    let mut s = stage(&clm_only(50), &["m1", "m2"]);
    let out = duel(&mut s, &mut Rng::new(33), 49, 0.0, 2.0);
    assert!(promotions(&out).is_empty());
    let out = duel(&mut s, &mut Rng::new(34), 1, 0.0, 2.0);
    assert_eq!(promotions(&out).len(), 1);
}

#[test]
fn emit_bound_covers_every_pair_of_a_model() {
    let mut cfg = LearningConfig::default();
    cfg.clm.challengers = vec![
        ChallengerPair { challenger: "m2".into(), incumbent: "m1".into() },
        ChallengerPair { challenger: "m3".into(), incumbent: "m1".into() },
    ];
    let s = stage(&cfg, &["m1", "m2", "m3"]);
    assert_eq!(s.max_emits_per_call(), 5 + 4 * 2);
    assert_eq!(s.id(), StageId::Learning);
}

#[test]
fn ignores_unknown_models_bad_numbers_and_other_events() {
    let mut s = stage(&LearningConfig::default(), &["m1"]);
    assert!(feed(&mut s, &closed(1, 7, 1.0, 0.5, BULL)).is_empty());
    assert!(feed(&mut s, &closed(2, 0, f64::NAN, 0.5, BULL)).is_empty());
    assert!(feed(&mut s, &closed(3, 0, 1.0, f64::INFINITY, BULL)).is_empty());
    let mut ctx = RecordingCtx::new(0);
    let other = Event::MarketTick(tradeflow_core::MarketTick {
        header: tradeflow_core::Header::default(),
        price: tradeflow_core::Price(1),
    });
    s.on_event(&other, &mut ctx);
    assert!(ctx.take().is_empty());
    let st = s.stats();
    assert_eq!((st.unknown_model, st.invalid_outcomes, st.ignored_events, st.outcomes), (1, 2, 1, 0));
}

#[test]
fn disabled_components_stay_silent() {
    let mut s = stage(&all_off(), &["m1"]);
    let mut rng = Rng::new(40);
    let out = run(&mut s, &mut 0, 500, 0, BULL, || (rng.range(-2.0, 0.1), 0.9));
    assert!(out.is_empty());
    assert_eq!(s.sizing_multiplier(ModelIdx(0)), None);
    assert_eq!(s.model_weight(ModelIdx(0)), None);
    assert_eq!(s.drift_samples(ModelIdx(0)), None);
    assert_eq!(s.stats().outcomes, 500);
}

#[test]
fn a_model_registered_at_run_time_is_learned_from_neutral_values() {
    let spec = tradeflow_core::InstrumentSpec::with_unit_filters("BTCUSDT");
    let cat = tradeflow_core::Catalog::try_new(vec![spec], vec!["m1".into()], vec!["NORMAL".into()])
        .and_then(|c| c.with_model_capacity(4))
        .unwrap();
    let cat = std::sync::Arc::new(cat);
    let mut s = LearningStage::try_new(&LearningConfig::default(), cat.clone()).unwrap();
    // Ingress registers a model no config named, after the stage was built.
    let new = cat.register_model(b"test_v1").unwrap();
    assert_eq!(new, ModelIdx(1));
    assert_eq!(s.sizing_multiplier(new), Some(1.0), "starts at the neutral multiplier");
    assert_eq!(s.model_weight(new), Some(1.0), "starts at the neutral weight");
    assert_eq!(s.drift_samples(new), Some(0));
    let mut rng = Rng::new(9);
    run(&mut s, &mut 0, 60, new.0, BULL, || (rng.range(-1.0, 1.0), 0.6));
    assert_eq!((s.stats().outcomes, s.stats().unknown_model), (60, 0), "its outcomes are learned");
    assert!(s.supervisor_metrics(new).is_some(), "a full supervisor window");
    assert_eq!(s.sizing_multiplier(ModelIdx(0)), Some(1.0), "the configured model is untouched");
    // Beyond the capacity an index is still ignored.
    assert!(feed(&mut s, &closed(99, 4, 1.0, 0.5, BULL)).is_empty());
    assert_eq!(s.stats().unknown_model, 1);
}
