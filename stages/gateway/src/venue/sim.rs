//! The simulated venue: fills at the order's reference price moved adversely by a fixed
//! slippage, tick/step rounded, with a fixed commission and an optional fixed latency.
//!
//! With `latency_us = 0` every order fills inside [`Venue::submit`]. Otherwise accepted orders
//! wait in a FIFO (due times never decrease, since the latency is constant and the clock is
//! monotonic) and come out of [`Venue::poll_report`] once due. Both queues are allocated at
//! construction and never grow: the queue-full check counts everything still to be reported.

use std::collections::VecDeque;
use std::sync::Arc;

use tradeflow_core::{Catalog, FillPurpose, InstrumentSpec, Price, Qty, Side};

use super::{Fill, Order, RejectReason, Report, Submitted, Venue, VenueReject};
use crate::config::SimVenueConfig;

/// The in-process venue.
#[derive(Debug)]
pub struct SimVenue {
    catalog: Arc<Catalog>,
    slippage_bps: f64,
    commission_bps: f64,
    latency_ns: u64,
    capacity: usize,
    /// Accepted orders, priced, with the time their fill is due.
    pending: VecDeque<(u64, Fill)>,
    /// Cancelled orders not yet reported.
    cancelled: VecDeque<Order>,
    last_now_ns: u64,
}

impl SimVenue {
    /// A venue with queues of `cfg.max_pending` orders (allocated now).
    pub fn new(cfg: &SimVenueConfig, catalog: Arc<Catalog>) -> SimVenue {
        SimVenue {
            catalog,
            slippage_bps: cfg.slippage_bps,
            commission_bps: cfg.commission_bps,
            latency_ns: cfg.latency_us.saturating_mul(1_000),
            capacity: cfg.max_pending,
            pending: VecDeque::with_capacity(cfg.max_pending),
            cancelled: VecDeque::with_capacity(cfg.max_pending),
            last_now_ns: 0,
        }
    }

    /// Prices `order`, or says why the venue refuses it.
    fn price(&self, order: Order) -> Result<Fill, RejectReason> {
        let spec = self.catalog.instrument(order.instrument()).ok_or(RejectReason::UnknownInstrument)?;
        let ref_price = order.ref_price();
        if ref_price.units() <= 0 {
            return Err(RejectReason::NoPrice);
        }
        let qty = order.qty().floor_to(spec.step_size);
        let below_min = order.purpose() == FillPurpose::Entry && qty < spec.min_qty;
        if qty.units() <= 0 || below_min {
            return Err(RejectReason::QtyBelowMinimum);
        }
        let price = adverse_price(ref_price, order.side(), self.slippage_bps, spec);
        let commission = price.notional(qty).bps(self.commission_bps);
        Ok(Fill { order, price, qty, commission })
    }
}

/// `ref_price` moved against the taker by `slippage_bps`, rounded to the tick size in the
/// taker's disfavour too (buys up, sells down): a fill is never better than modelled.
pub fn adverse_price(ref_price: Price, side: Side, slippage_bps: f64, spec: &InstrumentSpec) -> Price {
    let tick = spec.tick_size;
    match side {
        Side::Buy => ceil_to(ref_price.offset_bps(slippage_bps), tick),
        Side::Sell => ref_price.offset_bps(-slippage_bps).floor_to(tick),
    }
}

/// Rounds a non-negative price up to a multiple of `tick` (unchanged for a non-positive tick).
fn ceil_to(p: Price, tick: Price) -> Price {
    let down = p.floor_to(tick);
    if down == p || tick.units() <= 0 {
        p
    } else {
        down.saturating_add(tick)
    }
}

/// The requested quantity as the venue fills it (step rounded).
pub fn fill_qty(qty: Qty, spec: &InstrumentSpec) -> Qty {
    qty.floor_to(spec.step_size)
}

impl Venue for SimVenue {
    fn submit(&mut self, order: Order, now_ns: u64) -> Submitted {
        self.last_now_ns = now_ns;
        let fill = match self.price(order) {
            Ok(f) => f,
            Err(reason) => return Submitted::Rejected(order, VenueReject::local(reason)),
        };
        if self.latency_ns == 0 {
            return Submitted::Filled(fill);
        }
        if self.working() >= self.capacity {
            return Submitted::Rejected(order, VenueReject::local(RejectReason::QueueFull));
        }
        self.pending.push_back((now_ns.saturating_add(self.latency_ns), fill));
        Submitted::Accepted
    }

    fn poll_report(&mut self, now_ns: u64, entries_allowed: bool) -> Option<Report> {
        self.last_now_ns = now_ns;
        if let Some(order) = self.cancelled.pop_front() {
            return Some(Report::Cancelled(order));
        }
        match self.pending.front() {
            Some(&(due, _)) if due <= now_ns => {}
            _ => return None,
        }
        let (_, fill) = self.pending.pop_front()?;
        if !entries_allowed && fill.order.purpose() == FillPurpose::Entry {
            return Some(Report::Cancelled(fill.order));
        }
        Some(Report::Filled(fill))
    }

    fn cancel_entries(&mut self, now_ns: u64) {
        self.last_now_ns = now_ns;
        // Rotate once through the queue: exits keep their place, entries move to `cancelled`.
        // Neither queue grows past `capacity` (their sum never exceeds it).
        for _ in 0..self.pending.len() {
            let Some(item) = self.pending.pop_front() else { break };
            if item.1.order.purpose() == FillPurpose::Entry {
                self.cancelled.push_back(item.1.order);
            } else {
                self.pending.push_back(item);
            }
        }
    }

    fn next_wakeup_ns(&self) -> Option<u64> {
        if self.cancelled.is_empty() {
            self.pending.front().map(|&(due, _)| due)
        } else {
            Some(self.last_now_ns)
        }
    }

    fn working(&self) -> usize {
        self.pending.len() + self.cancelled.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tradeflow_core::Usd;

    fn spec(tick: i64, step: i64) -> InstrumentSpec {
        InstrumentSpec {
            symbol: "BTCUSDT".into(),
            tick_size: Price(tick),
            step_size: Qty(step),
            min_qty: Qty(step),
            min_notional: Usd(0),
        }
    }

    #[test]
    fn ceil_rounds_up_only_off_tick() {
        assert_eq!(ceil_to(Price(1_000), Price(10)), Price(1_000));
        assert_eq!(ceil_to(Price(1_001), Price(10)), Price(1_010));
        assert_eq!(ceil_to(Price(1_001), Price(0)), Price(1_001));
    }

    proptest! {
        #[test]
        fn adverse_price_is_on_tick_and_never_favourable(
            ref_units in 1_000_000i64..10_000_000_000_000,
            tick in 1i64..1_000_000_000,
            slip in 0.0f64..100.0,
        ) {
            let s = spec(tick, 1);
            let buy = adverse_price(Price(ref_units), Side::Buy, slip, &s);
            let sell = adverse_price(Price(ref_units), Side::Sell, slip, &s);
            prop_assert!(buy.is_multiple_of(Price(tick)) && sell.is_multiple_of(Price(tick)));
            prop_assert!(buy.units() >= ref_units);
            prop_assert!(sell.units() <= ref_units);
        }

        #[test]
        fn fill_qty_is_on_step_and_not_above_request(q in 0i64..1_000_000_000_000, step in 1i64..100_000_000) {
            let f = fill_qty(Qty(q), &spec(1, step));
            prop_assert!(f.units() <= q && f.is_multiple_of(Qty(step)));
        }
    }
}
