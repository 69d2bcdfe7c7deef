//! tradeflow market: reference prices for risk's price collar and position's exits.
//!
//! ```text
//!  synthetic price paths (GBM | fixed) ─┐
//!  Binance markPrice / bookTicker ───────┴► MarketStage ─► internal.market_tick ─► risk, position
//! ```
//!
//! - Thread: none of its own; the runtime polls it on a timer (usually on the feed thread
//!   with `ingress`). Later sources (Binance bookTicker / markPrice streams) sit behind the
//!   same stage in their own modules.
//! - Input: none (it is polled). Output: one `MarketTick` per instrument per tick, seq = the
//!   stage's own counter, `ts_origin_ns` = the tick's scheduled time, trace id empty.
//! - Latency budget: a GBM step is one normal draw and one `exp` per instrument, ≈ 20–30 ns.
//! - Allocation: paths are built in `try_new`; `poll` does not allocate.
//! - Determinism: the paths depend only on the seed and the number of ticks published.

#![forbid(unsafe_code)]

pub mod binance;
mod config;
mod normal;
mod stage;
mod synthetic;

pub use binance::{BinanceFeed, FeedStats};
pub use config::{
    BinanceMarketConfig, BinanceStream, MarketConfig, PathParams, PriceModel, PriceSourceKind, MAX_TICK_INTERVAL_US,
};
pub use normal::StandardNormal;
pub use stage::{MarketStage, MAX_TICKS_PER_POLL};
pub use synthetic::{round_to_tick, SyntheticMarket, SECONDS_PER_YEAR};

/// Why the market stage cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarketError {
    /// The config or the path parameters have problems (every one listed).
    #[error("invalid market config: {}", .0.join("; "))]
    Config(Vec<String>),
}
