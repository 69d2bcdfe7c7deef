//! The market stage: schedule, determinism, tick-size rounding, fixed prices, GBM statistics.
#![allow(clippy::unwrap_used)] // test helpers: a failed unwrap is a failed test

use std::sync::Arc;
use tradeflow_core::{
    Catalog, Event, InstrumentIdx, InstrumentSpec, MarketTick, Phase, Price, Qty, RecordingCtx, SourceState, Stage,
    TraceId, Usd,
};
use tradeflow_market::{
    MarketConfig, MarketError, MarketStage, PathParams, PriceModel, SyntheticMarket, MAX_TICKS_PER_POLL,
    SECONDS_PER_YEAR,
};

fn spec(symbol: &str, tick: f64) -> InstrumentSpec {
    InstrumentSpec {
        symbol: symbol.into(),
        tick_size: Price::from_f64(tick).unwrap(),
        step_size: Qty(1),
        min_qty: Qty(1),
        min_notional: Usd(0),
    }
}

fn catalog() -> Arc<Catalog> {
    Arc::new(Catalog::try_new(vec![spec("BTCUSDT", 0.1), spec("ETHUSDT", 0.01)], vec![], vec![]).unwrap())
}

fn paths() -> Vec<PathParams> {
    vec![
        PathParams { initial_price: Price::from_f64(40_000.0).unwrap(), annual_volatility: 0.6, annual_drift: 0.0 },
        PathParams { initial_price: Price::from_f64(2_000.0).unwrap(), annual_volatility: 0.8, annual_drift: 0.1 },
    ]
}

fn ticks(events: &[Event]) -> Vec<MarketTick> {
    events
        .iter()
        .map(|e| match e {
            Event::MarketTick(t) => *t,
            other => panic!("{other:?}"),
        })
        .collect()
}

/// Polls every 1 ms for `ms` ms; returns the ticks.
fn run(cfg: &MarketConfig, ms: u64) -> Vec<MarketTick> {
    let mut stage = MarketStage::try_new(cfg, catalog(), paths()).unwrap();
    let mut ctx = RecordingCtx::new(0);
    for t in 0..=ms {
        ctx.now_ns = t * 1_000_000;
        stage.poll(&mut ctx);
    }
    ticks(&ctx.take())
}

#[test]
fn ticks_every_instrument_on_schedule() {
    const MS: u64 = 1_000_000;
    let mut stage = MarketStage::try_new(&MarketConfig::default(), catalog(), paths()).unwrap();
    assert_eq!(stage.source_state(), SourceState::NotASource);
    assert_eq!(stage.next_wakeup_ns(), Some(0));
    let mut ctx = RecordingCtx::new(5 * MS);
    assert_eq!(stage.poll(&mut ctx), 2);
    assert_eq!(stage.next_wakeup_ns(), Some(6 * MS));
    assert_eq!(stage.poll(&mut ctx), 0, "nothing due until the next tick");
    ctx.now_ns = 7 * MS + MS / 2;
    assert_eq!(stage.poll(&mut ctx), 4);
    let got = ticks(&ctx.take());
    let headers: Vec<_> = got.iter().map(|t| (t.header.seq, t.header.instrument, t.header.ts_origin_ns)).collect();
    assert_eq!(
        headers,
        [
            (1, InstrumentIdx(0), 5 * MS),
            (2, InstrumentIdx(1), 5 * MS),
            (3, InstrumentIdx(0), 6 * MS),
            (4, InstrumentIdx(1), 6 * MS),
            (5, InstrumentIdx(0), 7 * MS),
            (6, InstrumentIdx(1), 7 * MS),
        ]
    );
    assert!(got.iter().all(|t| t.header.trace_id == TraceId::EMPTY));
    assert!(got[2..].iter().all(|t| t.header.ts_emit_ns == 7 * MS + MS / 2));
    // Tick 0 publishes the initial prices.
    assert_eq!((got[0].price, got[1].price), (paths()[0].initial_price, paths()[1].initial_price));
    assert_eq!(stage.price(InstrumentIdx(1)), Some(got[5].price));
    // Far behind: a bounded batch per poll, the rest on the next.
    ctx.now_ns = 100 * MS;
    assert_eq!(stage.poll(&mut ctx), MAX_TICKS_PER_POLL * 2);
    assert_eq!(stage.max_emits_per_call(), MAX_TICKS_PER_POLL * 2);
    assert_eq!(stage.next_wakeup_ns(), Some((8 + MAX_TICKS_PER_POLL as u64) * MS));
    assert_eq!(stage.ticks(), 3 + MAX_TICKS_PER_POLL as u64);
}

#[test]
fn same_seed_same_path_other_seed_other_path() {
    let cfg = MarketConfig::default();
    let a = run(&cfg, 50);
    assert_eq!(a.len(), 2 * 51);
    assert_eq!(a, run(&cfg, 50));
    let b = run(&MarketConfig { seed: 8, ..cfg }, 50);
    assert_ne!(a, b);
    assert!(a.windows(2).any(|w| w[0].header.instrument == w[1].header.instrument || w[0].price != w[1].price));
}

#[test]
fn prices_are_multiples_of_the_tick_size_and_positive() {
    // Extreme volatility to exercise the floor at one tick.
    let cat = Arc::new(Catalog::try_new(vec![spec("A", 0.5), spec("B", 0.001)], vec![], vec![]).unwrap());
    let p = vec![
        PathParams { initial_price: Price::from_f64(3.0).unwrap(), annual_volatility: 50.0, annual_drift: -50.0 },
        PathParams { initial_price: Price::from_f64(123.456_789).unwrap(), annual_volatility: 1.0, annual_drift: 0.0 },
    ];
    // About a simulated year per pipeline second.
    let cfg = MarketConfig { time_scale: 3.0e7, ..Default::default() };
    let mut stage = MarketStage::try_new(&cfg, cat.clone(), p).unwrap();
    let mut ctx = RecordingCtx::new(0);
    for t in 0..2000 {
        ctx.now_ns = t * 1_000_000;
        stage.poll(&mut ctx);
    }
    let got = ticks(&ctx.take());
    assert!(got.len() > 1000);
    let mut min_a = i64::MAX;
    for t in &got {
        let tick = cat.instrument(t.header.instrument).unwrap().tick_size;
        assert!(t.price.is_multiple_of(tick), "{:?} not a multiple of {:?}", t.price, tick);
        assert!(t.price.units() >= tick.units());
        if t.header.instrument == InstrumentIdx(0) {
            min_a = min_a.min(t.price.units());
        }
    }
    assert_eq!(min_a, Price::from_f64(0.5).unwrap().units(), "a crashing path stops at one tick");
    assert_eq!(got[1].price, Price::from_f64(123.457).unwrap(), "initial price rounded to the nearest tick");
}

#[test]
fn fixed_model_is_constant() {
    let cfg = MarketConfig { model: PriceModel::Fixed, ..Default::default() };
    let got = run(&cfg, 20);
    assert!(!got.is_empty());
    for t in got {
        assert_eq!(t.price, paths()[t.header.instrument.get()].initial_price);
    }
}

#[test]
fn gbm_log_returns_match_drift_and_volatility() {
    // 200 independent paths, 1000 steps of 1/1000 year: ln(S_T/S_0) ~ N(μ − σ²/2, σ²).
    let (mu, sigma, k, steps) = (0.8, 0.5, 200usize, 1000);
    let specs: Vec<_> = (0..k).map(|i| spec(&format!("S{i}"), 0.00000001)).collect();
    let params =
        vec![
            PathParams { initial_price: Price::from_f64(100.0).unwrap(), annual_volatility: sigma, annual_drift: mu };
            k
        ];
    let cfg = MarketConfig {
        tick_interval_us: 1_000_000,
        time_scale: SECONDS_PER_YEAR / 1000.0,
        seed: 99,
        ..Default::default()
    };
    let mut m = SyntheticMarket::new(&cfg, &specs, &params);
    for _ in 0..steps {
        m.step();
    }
    let rets: Vec<f64> = (0..k).map(|i| (m.price(i).unwrap().to_f64() / 100.0).ln()).collect();
    let mean = rets.iter().sum::<f64>() / k as f64;
    let var = rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
    let expected = mu - sigma * sigma / 2.0; // 0.675; standard error of the mean 0.035
    assert!((mean - expected).abs() < 0.15, "mean log-return {mean}, expected {expected}");
    assert!((var - sigma * sigma).abs() < 0.25 * sigma * sigma, "variance {var}, expected {}", sigma * sigma);
}

#[test]
fn stops_when_the_run_leaves_running() {
    let mut stage = MarketStage::try_new(&MarketConfig::default(), catalog(), paths()).unwrap();
    let mut ctx = RecordingCtx::new(0);
    for (phase, expect) in [(Phase::Running, 2), (Phase::Draining, 0), (Phase::Flatten, 0), (Phase::Stopping, 0)] {
        ctx.now_ns += 1_000_000;
        ctx.phase = phase;
        assert!(stage.poll(&mut ctx) >= expect, "{phase:?}");
        if expect == 0 {
            assert_eq!(stage.poll(&mut ctx), 0);
        }
    }
    // Ignores input.
    let before = ctx.take().len();
    stage.on_event(&ctx_tick(), &mut ctx);
    assert!(ctx.take().is_empty() && before > 0);
}

fn ctx_tick() -> Event {
    Event::MarketTick(MarketTick { header: Default::default(), price: Price(1) })
}

#[test]
fn rejects_bad_config_and_mismatched_paths() {
    let bad = MarketConfig { tick_interval_us: 0, time_scale: -1.0, ..Default::default() };
    let mut p = paths();
    p[1].initial_price = Price(0);
    let Err(MarketError::Config(e)) = MarketStage::try_new(&bad, catalog(), p) else { panic!() };
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(e[2].starts_with("paths[1].initial_price"));
    let Err(MarketError::Config(e)) = MarketStage::try_new(&MarketConfig::default(), catalog(), vec![paths()[0]])
    else {
        panic!()
    };
    assert!(e[0].contains("1 path parameter sets for 2 catalog instruments"), "{e:?}");
}
