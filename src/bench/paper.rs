//! The paper-venue scenario of `tradeflow bench`: the real pipeline with the Binance venue and
//! Binance market streams, against [`tradeflow_binance::mock::MockExchange`] started in this
//! process, over loopback WebSocket.
//!
//! The mock gets rate limits far above the offered load (the scenario measures tradeflow, not
//! the mock's throttle), prices that step every 10 ms, and a fresh HMAC key pair handed to the
//! venue through two process environment variables. Every thread of the scenario yields
//! instead of spinning, so the mock's own threads get CPU on a small machine.

use tradeflow_binance::keys::{KeyKind, KeySpec};
use tradeflow_binance::mock::{MockAccount, MockConfig, MockExchange, MockLimits};

use crate::config::Config;
use crate::report::RunReport;
use crate::runtime::RuntimeError;

const KEY_ENV: &str = "TRADEFLOW_BENCH_PAPER_API_KEY";
const SECRET_ENV: &str = "TRADEFLOW_BENCH_PAPER_API_SECRET";

/// `cfg` pointed at `mock` (venue, user stream, market stream), threads yielding.
pub fn paper_config(cfg: &Config, mock: &MockExchange) -> Config {
    let mut cfg = cfg.clone();
    super::client::yield_instead_of_spin(&mut cfg);
    cfg.gateway.venue = "binance".into();
    let b = &mut cfg.gateway.binance;
    b.ws_api_url = mock.ws_api_url();
    b.stream_url = mock.stream_url();
    b.rest_url = mock.rest_url();
    b.key = KeySpec { api_key_env: KEY_ENV.into(), secret_env: Some(SECRET_ENV.into()), ..KeySpec::new(KeyKind::Hmac) };
    b.max_pending = b.max_pending.max(8192);
    cfg.market.source = tradeflow_market::PriceSourceKind::Binance;
    cfg.market.binance.url = mock.stream_url();
    cfg
}

/// Runs the pipeline against a fresh mock: `signals` synthetic signals at `rate`.
pub fn run_paper(cfg: &Config, rate: f64, signals: u64, warmup_s: f64) -> Result<RunReport, RuntimeError> {
    let secret = format!("bench-{}-{}", std::process::id(), signals);
    let mock = MockExchange::start(MockConfig {
        accounts: vec![MockAccount::hmac("tradeflow-bench", &secret, "100000000")],
        price_step_ms: 10,
        limits: MockLimits { weight_per_min: u32::MAX / 4, orders_per_10s: u32::MAX / 4, orders_per_min: u32::MAX / 4 },
        ..MockConfig::default()
    })
    .map_err(|e| RuntimeError::Stage { stage: "mock-exchange", message: e.to_string() })?;
    std::env::set_var(KEY_ENV, "tradeflow-bench");
    std::env::set_var(SECRET_ENV, &secret);
    // Instruments the mock does not list are refused by the venue at startup.
    let cfg = paper_config(cfg, &mock);
    let report = super::runner::run_pipeline(&cfg, crate::config::TransportKind::Rtrb, rate, signals, warmup_s);
    mock.shutdown();
    report
}
