//! Exact per-stage counts of everything emitted (kept by the runtime on every emit, so the
//! report never depends on copies that may have been dropped).

use tradeflow_core::{Event, EventKind, ExitReason, Usd};

/// Slots for codes of the small wire enums (all codes are below this).
const CODES: usize = 32;

/// Counts of one stage's (or, merged, the whole run's) emitted events.
#[derive(Clone, Debug, PartialEq)]
pub struct Tally {
    /// Events by kind.
    pub by_kind: [u64; EventKind::COUNT],
    /// `signal.denied` by denial code.
    pub denials: [u64; CODES],
    /// `system.event_error` by error code.
    pub errors: [u64; CODES],
    /// `risk.alert` by severity.
    pub alerts: [u64; 4],
    /// `position.closed` by exit reason.
    pub exits: [u64; CODES],
    /// Closed positions with positive net PnL.
    pub wins: u64,
    /// Closed positions with zero or negative net PnL.
    pub losses: u64,
    /// Sum of net PnL of closed positions.
    pub pnl: Usd,
    /// Copies dropped because the copy ring was full.
    pub copies_dropped: u64,
    /// Trading events that had to wait in the overflow queue (ring full).
    pub overflowed: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            by_kind: [0; EventKind::COUNT],
            denials: [0; CODES],
            errors: [0; CODES],
            alerts: [0; 4],
            exits: [0; CODES],
            wins: 0,
            losses: 0,
            pnl: Usd::ZERO,
            copies_dropped: 0,
            overflowed: 0,
        }
    }
}

impl Tally {
    /// Counts one emitted event. Never allocates.
    #[inline]
    pub fn record(&mut self, ev: &Event) {
        self.by_kind[ev.kind().get()] += 1;
        match ev {
            Event::SignalDenied(d) => self.denials[usize::from(d.code.code()) % CODES] += 1,
            Event::SystemEventError(e) => self.errors[usize::from(e.code.code()) % CODES] += 1,
            Event::RiskAlert(a) => self.alerts[usize::from(a.severity.code()) % 4] += 1,
            Event::PositionClosed(c) => {
                self.exits[usize::from(c.exit_reason.code()) % CODES] += 1;
                // A flatten at shutdown is the run ending, not a trade decision: it is in the
                // PnL but not in the win rate.
                if c.exit_reason == ExitReason::Shutdown {
                } else if c.pnl_usd.0 > 0 {
                    self.wins += 1;
                } else {
                    self.losses += 1;
                }
                self.pnl = self.pnl.saturating_add(c.pnl_usd);
            }
            _ => {}
        }
    }

    /// Adds another tally into this one.
    pub fn merge(&mut self, o: &Tally) {
        let add = |a: &mut [u64], b: &[u64]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add(&mut self.by_kind, &o.by_kind);
        add(&mut self.denials, &o.denials);
        add(&mut self.errors, &o.errors);
        add(&mut self.alerts, &o.alerts);
        add(&mut self.exits, &o.exits);
        self.wins += o.wins;
        self.losses += o.losses;
        self.pnl = self.pnl.saturating_add(o.pnl);
        self.copies_dropped += o.copies_dropped;
        self.overflowed += o.overflowed;
    }

    /// Events of `kind`.
    pub fn count(&self, kind: EventKind) -> u64 {
        self.by_kind[kind.get()]
    }
}
