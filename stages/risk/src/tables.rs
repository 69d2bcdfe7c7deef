//! The exposure reservations: a fixed-capacity open-addressing table (linear probing,
//! backward-shift deletion), allocated once at construction. The duplicate trace-id window is
//! [`tradeflow_core::DedupeTable`].

use tradeflow_core::dedupe::may_fill_hole;
use tradeflow_core::{InstrumentIdx, Usd};

/// Exposure reserved at approval for one signal, keyed by the signal's header `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reservation {
    /// The signal's ingress sequence number.
    pub(crate) seq: u64,
    /// Its instrument.
    pub(crate) instrument: InstrumentIdx,
    /// The notional reserved (the approved order's notional).
    pub(crate) notional: Usd,
}

/// Why a reservation could not be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReserveError {
    /// Every slot is used.
    Full,
    /// A reservation with this `seq` exists.
    Exists,
}

/// Open reservations by `seq`.
#[derive(Debug)]
pub(crate) struct ReservationTable {
    slots: Vec<Option<Reservation>>,
    mask: usize,
    shift: u32,
    len: usize,
}

impl ReservationTable {
    /// A table for `max_open` reservations (capacity: twice that, a power of two, at least 16).
    pub(crate) fn new(max_open: usize) -> ReservationTable {
        let cap = (max_open.saturating_mul(2)).next_power_of_two().max(16);
        ReservationTable { slots: vec![None; cap], mask: cap - 1, shift: 64 - cap.trailing_zeros(), len: 0 }
    }

    /// Number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Number of open reservations.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn home(&self, seq: u64) -> usize {
        (seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize & self.mask
    }

    /// Stores `r`.
    pub(crate) fn insert(&mut self, r: Reservation) -> Result<(), ReserveError> {
        let mut s = self.home(r.seq);
        for _ in 0..self.slots.len() {
            match self.slots[s] {
                None => {
                    self.slots[s] = Some(r);
                    self.len += 1;
                    return Ok(());
                }
                Some(e) if e.seq == r.seq => return Err(ReserveError::Exists),
                Some(_) => s = (s + 1) & self.mask,
            }
        }
        Err(ReserveError::Full)
    }

    fn position(&self, seq: u64) -> Option<usize> {
        let mut s = self.home(seq);
        for _ in 0..self.slots.len() {
            match self.slots[s] {
                None => return None,
                Some(e) if e.seq == seq => return Some(s),
                Some(_) => s = (s + 1) & self.mask,
            }
        }
        None
    }

    /// Removes and returns the reservation for `seq`, if any.
    pub(crate) fn remove(&mut self, seq: u64) -> Option<Reservation> {
        let s = self.position(seq)?;
        let found = self.slots[s].take()?;
        self.len -= 1;
        let (mut hole, mut j) = (s, s);
        loop {
            j = (j + 1) & self.mask;
            let Some(e) = self.slots[j] else { return Some(found) };
            if may_fill_hole(hole, j, self.home(e.seq)) {
                self.slots[hole] = self.slots[j].take();
                hole = j;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::{RngCore, SeedableRng};
    use std::collections::{HashMap, HashSet};

    #[test]
    fn reservations_match_a_model_map() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let mut t = ReservationTable::new(8);
        assert_eq!(t.capacity(), 16);
        let mut model: HashMap<u64, Reservation> = HashMap::new();
        for _ in 0..50_000 {
            let seq = rng.next_u64() % 40;
            let r = Reservation { seq, instrument: InstrumentIdx(0), notional: Usd(seq as i64) };
            if rng.next_u64() % 2 == 0 {
                let expect = if model.contains_key(&seq) {
                    Err(ReserveError::Exists)
                } else if model.len() == 16 {
                    Err(ReserveError::Full)
                } else {
                    model.insert(seq, r);
                    Ok(())
                };
                assert_eq!(t.insert(r), expect);
            } else {
                assert_eq!(t.remove(seq), model.remove(&seq));
            }
            assert_eq!(t.len(), model.len());
        }
        let left: HashSet<u64> = model.keys().copied().collect();
        for seq in left {
            assert!(t.remove(seq).is_some());
        }
        assert_eq!(t.len(), 0);
    }
}
