//! The kill switch: one shared, latched trading state read by risk and gateway on every event.

use crate::enums::TradingState;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// Shared trading state. Only control (and an operator reset) writes it.
///
/// Transitions latch: ACTIVE → REDUCING → HALTED, never back, until [`KillSwitch::reset`].
#[derive(Debug, Default)]
pub struct KillSwitch {
    state: CachePadded<AtomicU8>,
    trips: AtomicU64,
}

impl KillSwitch {
    /// A switch in state ACTIVE.
    pub fn new() -> KillSwitch {
        KillSwitch::default()
    }

    /// The current state (one relaxed-acquire load).
    #[inline]
    pub fn state(&self) -> TradingState {
        match self.state.load(Ordering::Acquire) {
            0 => TradingState::Active,
            1 => TradingState::Reducing,
            _ => TradingState::Halted,
        }
    }

    /// Escalates to `to` if that is stricter than the current state; returns the state now in force.
    pub fn escalate(&self, to: TradingState) -> TradingState {
        let prev = self.state.fetch_max(to as u8, Ordering::AcqRel);
        if prev < to as u8 {
            self.trips.fetch_add(1, Ordering::Relaxed);
        }
        self.state()
    }

    /// Back to ACTIVE (an explicit operator action).
    pub fn reset(&self) {
        self.state.store(TradingState::Active as u8, Ordering::Release);
    }

    /// How many times the state has been escalated.
    pub fn trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latches_until_reset() {
        let k = KillSwitch::new();
        assert_eq!(k.state(), TradingState::Active);
        assert_eq!(k.escalate(TradingState::Reducing), TradingState::Reducing);
        assert_eq!(k.escalate(TradingState::Halted), TradingState::Halted);
        assert_eq!(k.escalate(TradingState::Reducing), TradingState::Halted);
        assert_eq!(k.trips(), 2);
        k.reset();
        assert_eq!(k.state(), TradingState::Active);
    }
}
