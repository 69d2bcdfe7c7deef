//! What RiskGuard tracks between signals: reference prices, the order-rate bucket, the
//! account (balance, peak, UTC-day PnL) and the book of reserved exposure. All sized at start.

use crate::tables::{Reservation, ReservationTable, ReserveError};
use tradeflow_core::{InstrumentIdx, MarketTick, Price, Usd};

/// Nanoseconds in a UTC day.
pub const DAY_NS: i64 = 86_400_000_000_000;

/// The latest reference price of one instrument and its EMA.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct RefPrice {
    /// Latest price (zero = never seen).
    pub(crate) price: Price,
    /// When it was observed (the tick's `ts_origin_ns`).
    pub(crate) ts_ns: u64,
    /// Distance of `price` from the EMA of the prices before it, percent.
    pub(crate) deviation_pct: f64,
    /// EMA of the prices so far (in price units).
    ema: f64,
}

/// Reference prices by `InstrumentIdx`.
#[derive(Debug)]
pub(crate) struct PriceBook {
    entries: Vec<RefPrice>,
    alpha: f64,
}

impl PriceBook {
    pub(crate) fn new(instruments: usize, alpha: f64) -> PriceBook {
        PriceBook { entries: vec![RefPrice::default(); instruments], alpha }
    }

    /// Takes a tick; false (ignored) for an unknown instrument or a non-positive price.
    pub(crate) fn on_tick(&mut self, t: &MarketTick) -> bool {
        let alpha = self.alpha;
        let Some(e) = self.entries.get_mut(t.header.instrument.get()) else { return false };
        if t.price.0 <= 0 {
            return false;
        }
        let p = t.price.0 as f64;
        if e.price.0 <= 0 {
            e.ema = p;
        }
        e.deviation_pct = (p - e.ema).abs() / e.ema * 100.0;
        e.ema += alpha * (p - e.ema);
        e.price = t.price;
        e.ts_ns = t.header.ts_origin_ns;
        true
    }

    /// The reference price of `idx`, if one was seen.
    #[inline]
    pub(crate) fn get(&self, idx: InstrumentIdx) -> Option<RefPrice> {
        self.entries.get(idx.get()).copied().filter(|e| e.price.0 > 0)
    }
}

/// Token bucket for the order-rate throttle (disabled when the rate is zero).
#[derive(Debug)]
pub(crate) struct TokenBucket {
    per_ns: f64,
    burst: f64,
    tokens: f64,
    last_ns: Option<u64>,
}

impl TokenBucket {
    pub(crate) fn new(per_sec: f64, burst: u32) -> TokenBucket {
        let burst = f64::from(burst);
        TokenBucket { per_ns: per_sec / 1e9, burst, tokens: burst, last_ns: None }
    }

    /// Whether the throttle is on.
    pub(crate) fn enabled(&self) -> bool {
        self.per_ns > 0.0
    }

    /// Tokens available at `now_ns` (after refilling).
    pub(crate) fn available(&mut self, now_ns: u64) -> f64 {
        if let Some(last) = self.last_ns {
            let dt = now_ns.saturating_sub(last) as f64;
            self.tokens = (self.tokens + dt * self.per_ns).min(self.burst);
        }
        self.last_ns = Some(self.last_ns.map_or(now_ns, |l| l.max(now_ns)));
        self.tokens
    }

    /// Uses one token (call after `available` said one is there).
    pub(crate) fn take(&mut self) {
        if self.enabled() {
            self.tokens -= 1.0;
        }
    }
}

/// Balance, its peak, and realized PnL of the current UTC day.
#[derive(Debug)]
pub(crate) struct Account {
    pub(crate) balance: Usd,
    pub(crate) peak: Usd,
    pub(crate) daily_pnl: Usd,
    day: i64,
}

impl Account {
    pub(crate) fn new(balance: Usd) -> Account {
        Account { balance, peak: balance, daily_pnl: Usd::ZERO, day: i64::MIN }
    }

    /// Starts a new day's PnL when `epoch_ns` falls on another UTC day.
    pub(crate) fn roll_day(&mut self, epoch_ns: i64) {
        let day = epoch_ns.div_euclid(DAY_NS);
        if day != self.day {
            self.day = day;
            self.daily_pnl = Usd::ZERO;
        }
    }

    /// Books realized PnL at `epoch_ns`.
    pub(crate) fn realize(&mut self, pnl: Usd, epoch_ns: i64) {
        self.roll_day(epoch_ns);
        self.daily_pnl = self.daily_pnl.saturating_add(pnl);
        self.balance = self.balance.saturating_add(pnl);
        self.peak = self.peak.max(self.balance);
    }

    /// Today's realized loss in USD (zero when in profit).
    pub(crate) fn daily_loss_usd(&self) -> f64 {
        (-self.daily_pnl.to_f64()).max(0.0)
    }

    /// Drawdown of the balance from its peak, percent.
    pub(crate) fn drawdown_pct(&self) -> f64 {
        if self.peak.0 <= 0 {
            return 0.0;
        }
        (self.peak.0 - self.balance.0) as f64 / self.peak.0 as f64 * 100.0
    }
}

/// Open positions and exposure of one symbol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SymbolExposure {
    /// Open (reserved) positions.
    pub positions: u32,
    /// Reserved notional.
    pub exposure_usd: Usd,
}

/// Reserved exposure, per signal and aggregated per symbol and in total.
#[derive(Debug)]
pub(crate) struct Book {
    table: ReservationTable,
    symbols: Vec<SymbolExposure>,
    pub(crate) total: Usd,
}

impl Book {
    pub(crate) fn new(instruments: usize, max_open: usize) -> Book {
        Book {
            table: ReservationTable::new(max_open),
            symbols: vec![SymbolExposure::default(); instruments],
            total: Usd::ZERO,
        }
    }

    /// Slots of the reservation table.
    pub(crate) fn capacity(&self) -> usize {
        self.table.capacity()
    }

    /// Open positions in total.
    pub(crate) fn open_positions(&self) -> usize {
        self.table.len()
    }

    /// Open positions and exposure of `idx` (zero for an unknown index).
    pub(crate) fn symbol(&self, idx: InstrumentIdx) -> SymbolExposure {
        self.symbols.get(idx.get()).copied().unwrap_or_default()
    }

    /// Reserves `r.notional` on `r.instrument` under `r.seq`.
    pub(crate) fn reserve(&mut self, r: Reservation) -> Result<(), ReserveError> {
        let Some(s) = self.symbols.get_mut(r.instrument.get()) else { return Err(ReserveError::Full) };
        self.table.insert(r)?;
        s.positions += 1;
        s.exposure_usd = s.exposure_usd.saturating_add(r.notional);
        self.total = self.total.saturating_add(r.notional);
        Ok(())
    }

    /// Releases exactly what was reserved under `seq`; `None` for an unknown `seq`.
    pub(crate) fn release(&mut self, seq: u64) -> Option<Reservation> {
        let r = self.table.remove(seq)?;
        if let Some(s) = self.symbols.get_mut(r.instrument.get()) {
            s.positions = s.positions.saturating_sub(1);
            s.exposure_usd = s.exposure_usd.saturating_sub(r.notional);
        }
        self.total = self.total.saturating_sub(r.notional);
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeflow_core::{Header, TraceId};

    fn tick(price: f64, ts_ns: u64) -> MarketTick {
        MarketTick {
            header: Header::origin(0, TraceId::EMPTY, InstrumentIdx(0), ts_ns),
            price: Price::from_f64(price).unwrap(),
        }
    }

    #[test]
    fn ema_and_deviation() {
        let mut b = PriceBook::new(1, 0.5);
        assert!(b.get(InstrumentIdx(0)).is_none());
        assert!(b.on_tick(&tick(100.0, 1)));
        assert_eq!(b.get(InstrumentIdx(0)).unwrap().deviation_pct, 0.0);
        assert!(b.on_tick(&tick(110.0, 2)));
        let e = b.get(InstrumentIdx(0)).unwrap();
        assert!((e.deviation_pct - 10.0).abs() < 1e-9);
        assert_eq!(e.ts_ns, 2);
        assert!(b.on_tick(&tick(105.0, 3))); // EMA is now 105
        assert!(b.get(InstrumentIdx(0)).unwrap().deviation_pct.abs() < 1e-9);
        assert!(!b.on_tick(&MarketTick { price: Price(0), ..tick(1.0, 4) }));
        let mut bad = tick(1.0, 4);
        bad.header.instrument = InstrumentIdx(3);
        assert!(!b.on_tick(&bad));
    }

    #[test]
    fn bucket_refills_up_to_burst() {
        let mut t = TokenBucket::new(10.0, 2);
        assert_eq!(t.available(0), 2.0);
        t.take();
        t.take();
        assert_eq!(t.available(0), 0.0);
        assert!((t.available(100_000_000) - 1.0).abs() < 1e-9);
        assert_eq!(t.available(10_000_000_000), 2.0);
    }

    #[test]
    fn account_day_and_drawdown() {
        let mut a = Account::new(Usd::from_f64(1000.0).unwrap());
        a.roll_day(DAY_NS * 5 + 1);
        a.realize(Usd::from_f64(-100.0).unwrap(), DAY_NS * 5 + 2);
        assert_eq!(a.daily_loss_usd(), 100.0);
        assert!((a.drawdown_pct() - 10.0).abs() < 1e-9);
        a.roll_day(DAY_NS * 6);
        assert_eq!(a.daily_loss_usd(), 0.0);
        assert!((a.drawdown_pct() - 10.0).abs() < 1e-9);
    }
}
