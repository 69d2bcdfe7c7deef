//! `[gateway]` parsing and validation.

mod util;

use tradeflow_gateway::{GatewayConfig, GatewayError, GatewayStage, SimVenueConfig};

#[test]
fn parses_toml_with_defaults() {
    let cfg: GatewayConfig = toml::from_str("venue = \"sim\"\n[sim]\nlatency_us = 250\n").unwrap();
    assert_eq!(cfg.sim, SimVenueConfig { latency_us: 250, ..SimVenueConfig::default() });
    assert_eq!(cfg.sim.commission_bps, 4.0);
    assert_eq!(cfg.sim.slippage_bps, 1.0);
    assert_eq!(cfg.sim.max_pending, 1024);
    let empty: GatewayConfig = toml::from_str("").unwrap();
    assert_eq!(empty, GatewayConfig::default());
}

#[test]
fn unknown_fields_are_refused() {
    assert!(toml::from_str::<GatewayConfig>("[sim]\nlatency_ms = 1\n").is_err());
    assert!(toml::from_str::<GatewayConfig>("venu = \"sim\"\n").is_err());
}

#[test]
fn unknown_venue_fails_construction_with_a_clear_message() {
    let cfg = GatewayConfig { venue: "ftx".into(), ..GatewayConfig::default() };
    let err = GatewayStage::try_new(&cfg, util::catalog(), Default::default()).unwrap_err();
    let GatewayError::InvalidConfig(errs) = &err else { panic!("{err}") };
    assert_eq!(errs.len(), 1);
    assert!(
        err.to_string().contains("gateway.venue: unknown venue \"ftx\" (this build supports: sim, binance)"),
        "{err}"
    );
}
