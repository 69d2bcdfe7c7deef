//! The risk stage: the reference's SignalSubscriber — PolicyStore risk profiles, position
//! sizing, and RiskGuard's pre-trade checks.
//!
//! ```text
//!  signal.generated ─┐                            ┌─► trade.execution_requested (gateway)
//!  market ticks ─────┼─► RiskStage (PolicyStore, ─┤
//!  policy updates ───┤    sizing, RiskGuard)      └─► signal.denied (code, observed, limit)
//!  exposure updates ─┘
//! ```
//!
//! - Thread: a hot-path stage; it runs on the hot core (alone or grouped with the other hot
//!   stages) and owns no thread or clock of its own: time comes from `Ctx`.
//! - Input: `SignalGenerated` (decide), `MarketTick` (reference price, EMA, timestamp per
//!   instrument), `PolicyUpdate` (learning / control: multipliers, weights, allowed models,
//!   active profile), `ExposureUpdate` (position: release a reservation, realize PnL).
//! - Output: exactly one `ExecutionRequested` or `SignalDenied` per signal; nothing otherwise.
//! - Latency budget: well under 1 µs per signal (a few table lookups and float operations);
//!   ticks and updates are O(1).
//! - Allocation: every table is sized in [`RiskStage::try_new`] from config and the catalog
//!   (prices and exposure per instrument, policy per model, a reservation table of
//!   2 × `max_open_positions` rounded up to a power of two, a `dedupe_window` trace-id ring);
//!   `on_event` never allocates, locks, logs or panics.
//!
//! Decisions:
//! - RiskGuard's checks run in this order and the first failure denies with its stable
//!   [`tradeflow_core::DenialCode`]: kill switch (HALTED, REDUCING — every signal opens new
//!   exposure, so REDUCING denies them all) → confidence → signal time (future, stale) →
//!   duplicate trace id → model allowed → reference price (missing, stale, collar) → sizing
//!   (zero) → max notional → max leverage → open positions (total, symbol) → exposure (symbol,
//!   total) → order rate → daily loss → drawdown → exchange filters (min qty, min notional).
//! - The denial's `observed` / `limit` carry the numbers that failed (ages and durations in
//!   ms, amounts in USD, percentages in percent).
//! - Every signal's trace id is recorded on arrival, before any check, so a replayed trace id
//!   is denied `DUPLICATE_TRACE_ID` even when the first copy was denied for another reason.
//!   The window remembers the last `dedupe_window` distinct ids.
//! - Exposure is reserved at approval under the signal's `seq` with the order notional and
//!   released exactly by the matching `ExposureUpdate`, whatever the fill price. An update for
//!   an unknown `seq` is counted and ignored (its PnL too).
//! - A token of the order-rate bucket is used only when an order is approved.

#![forbid(unsafe_code)]

mod config;
mod guard;
mod policy;
mod sizing;
mod stage;
mod state;
mod tables;
mod warnings;

pub use config::{profile_names, GuardConfig, RiskConfig, RiskProfileConfig, MAX_DEDUPE_WINDOW, MAX_LEVERAGE, MAX_USD};
pub use policy::MAX_POLICY_VALUE;
pub use sizing::{size_order, size_position, Multipliers, OrderSize, Sizing, LEVERAGE_FRACTION};
pub use stage::{RiskStage, RiskStats, DENIAL_SLOTS};
pub use state::{SymbolExposure, DAY_NS};

/// Why the risk stage cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    /// The `[risk]` config has problems (every one listed).
    #[error("invalid risk config: {}", .0.join("; "))]
    Config(Vec<String>),
}
