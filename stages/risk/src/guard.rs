//! RiskGuard: the pre-trade checks, in their fixed order, each with its stable `DenialCode`.
//!
//! Order: kill switch → confidence → signal time → duplicate trace id → model allowed →
//! reference price (missing / stale / collar) → sizing (zero) → max notional → max leverage →
//! open positions (total, symbol) → exposure (symbol, total) → order rate → daily loss →
//! drawdown → exchange filters (min qty, min notional). The first failing check denies.

use crate::config::{GuardConfig, RiskProfileConfig};
use crate::sizing::{size_order, size_position, OrderSize, Sizing};
use crate::stage::RiskStage;
use tradeflow_core::{DenialCode, Leverage, Price, ProfileIdx, SignalGenerated, TradingState, Usd};

/// A failed check: its code and the numbers that failed (`observed` against `limit`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Denial {
    pub(crate) code: DenialCode,
    pub(crate) observed: f64,
    pub(crate) limit: f64,
}

#[inline]
fn deny<T>(code: DenialCode, observed: f64, limit: f64) -> Result<T, Denial> {
    Err(Denial { code, observed, limit })
}

/// What the signal would have become, reported with a denial (zero before sizing ran).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Draft {
    pub(crate) notional: Usd,
    pub(crate) leverage: Leverage,
}

/// A signal that passed every check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Approval {
    pub(crate) profile_idx: ProfileIdx,
    pub(crate) profile: RiskProfileConfig,
    pub(crate) sizing: Sizing,
    pub(crate) order: OrderSize,
    pub(crate) ref_price: Price,
}

/// The guard's limits in the units the checks use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limits {
    max_notional: Usd,
    max_leverage: Leverage,
    max_open: usize,
    max_per_symbol: u32,
    max_exposure_symbol: Usd,
    max_exposure_total: Usd,
    price_max_age_ns: u64,
    collar_pct: f64,
    daily_loss_usd: f64,
    max_drawdown_pct: f64,
    max_signal_age_ratio: f64,
    future_tolerance_us: i64,
}

fn usd(v: f64) -> Usd {
    Usd::from_f64(v).unwrap_or(Usd(i64::MAX))
}

impl Limits {
    /// From a validated config.
    pub(crate) fn new(g: &GuardConfig) -> Limits {
        Limits {
            max_notional: usd(g.max_notional_per_order_usd),
            max_leverage: Leverage::from_f64(g.max_leverage),
            max_open: g.max_open_positions as usize,
            max_per_symbol: g.max_positions_per_symbol,
            max_exposure_symbol: usd(g.max_exposure_per_symbol_usd),
            max_exposure_total: usd(g.max_exposure_total_usd),
            price_max_age_ns: g.price_max_age_ms.saturating_mul(1_000_000),
            collar_pct: g.collar_pct,
            daily_loss_usd: g.daily_loss_limit_usd,
            max_drawdown_pct: g.max_drawdown_pct,
            max_signal_age_ratio: g.max_signal_age_ratio,
            future_tolerance_us: (g.future_tolerance_ms as i64).saturating_mul(1000),
        }
    }

    /// Most open positions in total.
    pub(crate) fn max_open(&self) -> usize {
        self.max_open
    }
}

impl RiskStage {
    /// Runs every check on `sig`; `dup` says whether its trace id was already in the window.
    pub(crate) fn evaluate(
        &mut self,
        sig: &SignalGenerated,
        dup: bool,
        now_ns: u64,
        epoch_ns: i64,
        draft: &mut Draft,
    ) -> Result<Approval, Denial> {
        self.check_trading_state()?;
        let (profile_idx, profile) = self.policy.active();
        if sig.confidence.is_nan() || sig.confidence < profile.min_confidence as f32 {
            return deny(DenialCode::LowConfidence, f64::from(sig.confidence), profile.min_confidence);
        }
        self.check_signal_time(sig, epoch_ns)?;
        if dup {
            return deny(DenialCode::DuplicateTraceId, 1.0, 0.0);
        }
        let model = match self.policy.model(sig.model) {
            Some(m) if m.allowed => m,
            _ => return deny(DenialCode::ModelNotAllowed, f64::from(sig.model.0), self.catalog.model_count() as f64),
        };
        let ref_price = self.check_price(sig, now_ns)?;
        let sizing = size_position(&profile, self.account.balance, model.mult);
        *draft = Draft { notional: sizing.position_size_usd, leverage: Leverage::from_f64(sizing.leverage) };
        if sizing.position_size_usd.0 <= 0 || draft.leverage.0 == 0 {
            return deny(DenialCode::ZeroSize, sizing.position_size_usd.to_f64(), 0.0);
        }
        let Some(spec) = self.catalog.instrument(sig.header.instrument) else {
            return deny(DenialCode::PriceMissing, 0.0, 0.0);
        };
        let order = size_order(sizing.position_size_usd, ref_price, spec);
        let (min_qty, min_notional) = (spec.min_qty, spec.min_notional);
        draft.notional = order.notional;
        self.check_limits(sig, order.notional, draft.leverage)?;
        self.check_rate_and_losses(now_ns)?;
        if order.qty.0 <= 0 || order.qty < min_qty {
            return deny(DenialCode::FilterMinQty, order.qty.to_f64(), min_qty.to_f64());
        }
        if order.notional < min_notional {
            return deny(DenialCode::FilterMinNotional, order.notional.to_f64(), min_notional.to_f64());
        }
        Ok(Approval { profile_idx, profile, sizing, order, ref_price })
    }

    fn check_trading_state(&self) -> Result<(), Denial> {
        match self.kill.state() {
            TradingState::Active => Ok(()),
            TradingState::Reducing => deny(DenialCode::TradingReducing, 1.0, 0.0),
            TradingState::Halted => deny(DenialCode::KillSwitchHalted, 2.0, 0.0),
        }
    }

    /// Future beyond tolerance, or older than `max_signal_age_ratio` timeframes (both in ms).
    fn check_signal_time(&self, sig: &SignalGenerated, epoch_ns: i64) -> Result<(), Denial> {
        let l = &self.limits;
        let age_us = epoch_ns.div_euclid(1000).saturating_sub(sig.signal_ts_us);
        if age_us < -l.future_tolerance_us {
            return deny(DenialCode::FutureSignal, -age_us as f64 / 1e3, l.future_tolerance_us as f64 / 1e3);
        }
        let allowed_ms = l.max_signal_age_ratio * sig.timeframe.seconds() as f64 * 1e3;
        let age_ms = age_us as f64 / 1e3;
        if l.max_signal_age_ratio > 0.0 && age_ms > allowed_ms {
            return deny(DenialCode::StaleSignal, age_ms, allowed_ms);
        }
        Ok(())
    }

    /// The reference price: present, fresh, and within the collar around its EMA.
    fn check_price(&self, sig: &SignalGenerated, now_ns: u64) -> Result<Price, Denial> {
        let l = &self.limits;
        let Some(p) = self.prices.get(sig.header.instrument) else {
            return deny(DenialCode::PriceMissing, 0.0, 0.0);
        };
        let age_ns = now_ns.saturating_sub(p.ts_ns);
        if age_ns > l.price_max_age_ns {
            return deny(DenialCode::PriceStale, age_ns as f64 / 1e6, l.price_max_age_ns as f64 / 1e6);
        }
        if l.collar_pct > 0.0 && p.deviation_pct > l.collar_pct {
            return deny(DenialCode::PriceCollar, p.deviation_pct, l.collar_pct);
        }
        Ok(p.price)
    }

    /// Per-order, position-count and exposure limits.
    fn check_limits(&self, sig: &SignalGenerated, notional: Usd, leverage: Leverage) -> Result<(), Denial> {
        let l = &self.limits;
        if notional > l.max_notional {
            return deny(DenialCode::MaxNotional, notional.to_f64(), l.max_notional.to_f64());
        }
        if leverage > l.max_leverage {
            return deny(DenialCode::MaxLeverage, leverage.to_f64(), l.max_leverage.to_f64());
        }
        let open = self.book.open_positions();
        if open >= l.max_open {
            return deny(DenialCode::MaxPositionsTotal, open as f64, l.max_open as f64);
        }
        let sym = self.book.symbol(sig.header.instrument);
        if sym.positions >= l.max_per_symbol {
            return deny(DenialCode::MaxPositionsSymbol, f64::from(sym.positions), f64::from(l.max_per_symbol));
        }
        let after = sym.exposure_usd.saturating_add(notional);
        if after > l.max_exposure_symbol {
            return deny(DenialCode::MaxExposureSymbol, after.to_f64(), l.max_exposure_symbol.to_f64());
        }
        let after = self.book.total.saturating_add(notional);
        if after > l.max_exposure_total {
            return deny(DenialCode::MaxExposureTotal, after.to_f64(), l.max_exposure_total.to_f64());
        }
        Ok(())
    }

    /// Order-rate throttle (a token is taken only on approval), daily loss and drawdown.
    fn check_rate_and_losses(&mut self, now_ns: u64) -> Result<(), Denial> {
        if self.bucket.enabled() {
            let tokens = self.bucket.available(now_ns);
            if tokens < 1.0 {
                return deny(DenialCode::OrderRate, tokens, 1.0);
            }
        }
        let l = &self.limits;
        let loss = self.account.daily_loss_usd();
        if l.daily_loss_usd > 0.0 && loss >= l.daily_loss_usd {
            return deny(DenialCode::DailyLossLimit, loss, l.daily_loss_usd);
        }
        let dd = self.account.drawdown_pct();
        if l.max_drawdown_pct > 0.0 && dd >= l.max_drawdown_pct {
            return deny(DenialCode::DrawdownLimit, dd, l.max_drawdown_pct);
        }
        Ok(())
    }
}
