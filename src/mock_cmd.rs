//! `tradeflow mock-exchange`: runs the local Binance USDⓈ-M futures mock
//! ([`tradeflow_binance::mock`]) until Ctrl-C, for dry runs of the gateway and market stages.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use tradeflow_binance::mock::{MockAccount, MockConfig, MockExchange, TEST_API_KEY};

/// Options of the mock exchange.
#[derive(clap::Args, Debug)]
pub struct MockArgs {
    /// Address to listen on (one port serves REST, the WebSocket API and the streams).
    #[arg(long, default_value = "127.0.0.1:9100")]
    pub listen: SocketAddr,
    /// Seed of the price random walk.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// API key of the account to create. Without it, the documented Binance example HMAC key
    /// pair is used.
    #[arg(long)]
    pub api_key: Option<String>,
    /// Environment variable holding the HMAC secret of `--api-key`.
    #[arg(long, default_value = "BINANCE_API_SECRET")]
    pub hmac_secret_env: String,
    /// Ed25519 public key (PEM file) of `--api-key`, for `session.logon`.
    #[arg(long)]
    pub ed25519_public_key: Option<PathBuf>,
    /// Milliseconds between price steps (0 = prices move only through `POST /mock/price`).
    #[arg(long, default_value_t = 1000)]
    pub price_step_ms: u64,
    /// Server ping interval on WebSocket connections.
    #[arg(long, default_value_t = 180_000)]
    pub ping_interval_ms: u64,
    /// Server clock minus wall clock, to provoke `-1021`.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub clock_skew_ms: i64,
    /// Fee on every fill, in basis points.
    #[arg(long, default_value_t = 4.0)]
    pub fee_bps: f64,
}

/// The mock configuration these options describe.
pub fn config(args: &MockArgs) -> anyhow::Result<MockConfig> {
    let mut cfg = MockConfig {
        bind: args.listen,
        seed: args.seed,
        price_step_ms: args.price_step_ms,
        ping_interval_ms: args.ping_interval_ms,
        clock_skew_ms: args.clock_skew_ms,
        taker_fee_bps: args.fee_bps,
        ..MockConfig::default()
    };
    let Some(api_key) = &args.api_key else {
        if args.ed25519_public_key.is_some() {
            bail!("--ed25519-public-key needs --api-key");
        }
        return Ok(cfg);
    };
    let hmac_secret = std::env::var(&args.hmac_secret_env).ok().filter(|s| !s.is_empty());
    let ed25519_public_pem = match &args.ed25519_public_key {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?),
        None => None,
    };
    if hmac_secret.is_none() && ed25519_public_pem.is_none() {
        bail!("--api-key needs an HMAC secret in ${} or --ed25519-public-key", args.hmac_secret_env);
    }
    cfg.accounts =
        vec![MockAccount { api_key: api_key.clone(), hmac_secret, ed25519_public_pem, balance_usdt: "10000".into() }];
    Ok(cfg)
}

/// Starts the mock, prints its URLs and API keys (never secrets), serves until Ctrl-C.
pub fn run(args: &MockArgs) -> anyhow::Result<()> {
    let cfg = config(args)?;
    let accounts: Vec<String> = cfg
        .accounts
        .iter()
        .map(|a| {
            let kinds: Vec<&str> = [("HMAC", a.hmac_secret.is_some()), ("Ed25519", a.ed25519_public_pem.is_some())]
                .into_iter()
                .filter_map(|(k, on)| on.then_some(k))
                .collect();
            let note = if a.api_key == TEST_API_KEY { ", documented example key" } else { "" };
            format!("{} ({}{note})", a.api_key, kinds.join("+"))
        })
        .collect();
    let mock = MockExchange::start(cfg).with_context(|| format!("starting the mock exchange on {}", args.listen))?;
    println!("mock exchange (Binance USD-M futures) on {}", mock.addr());
    println!("  WebSocket API  {}", mock.ws_api_url());
    println!(
        "  streams        {}  (/market/ws/<s>@markPrice@1s, /public/ws/<s>@bookTicker, /private/ws/<listenKey>)",
        mock.stream_url()
    );
    println!(
        "  REST           {}  (/fapi/v1/time, /fapi/v1/exchangeInfo, /fapi/v1/leverage, /fapi/v1/listenKey)",
        mock.rest_url()
    );
    println!("  control        GET /mock/orders, POST /mock/price, POST /mock/fault, POST /mock/disconnect");
    for a in &accounts {
        println!("  account        {a}");
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    crate::shutdown::install("mock-exchange", stop, move || {
        let _ = tx.send(());
    })
    .context("installing the stop-signal handler")?;
    let _ = rx.recv();
    println!("stopping the mock exchange ({} orders accepted)", mock.orders().len());
    mock.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: MockArgs,
    }

    #[test]
    fn options_map_onto_the_mock_config() {
        let cli = Cli::try_parse_from(["t", "--listen", "127.0.0.1:0", "--seed", "9", "--clock-skew-ms", "-2500"]);
        let Ok(cli) = cli else { panic!("parse: {cli:?}") };
        let Ok(cfg) = config(&cli.args) else { panic!("config") };
        assert_eq!((cfg.seed, cfg.clock_skew_ms, cfg.price_step_ms), (9, -2500, 1000));
        assert_eq!(cfg.accounts[0].api_key, TEST_API_KEY);
        let cli = Cli::try_parse_from(["t", "--api-key", "k", "--hmac-secret-env", "TRADEFLOW_TEST_UNSET_VAR_X"]);
        let Ok(cli) = cli else { panic!("parse") };
        assert!(config(&cli.args).is_err(), "no secret and no public key");
    }
}
