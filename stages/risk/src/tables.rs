//! Fixed-capacity open-addressing tables (linear probing, backward-shift deletion), allocated
//! once at construction: the duplicate trace-id window and the exposure reservations.

use tradeflow_core::{InstrumentIdx, TraceId, Usd};

/// Whether the entry at `j`, whose home slot is `k`, may move into the hole at `i`
/// (backward-shift deletion: it may, unless its home lies cyclically in `(i, j]`).
#[inline]
fn may_fill_hole(i: usize, j: usize, k: usize) -> bool {
    if i <= j {
        k <= i || k > j
    } else {
        k <= i && k > j
    }
}

/// The last `window` trace ids seen, in arrival order, with a hash index for lookup.
#[derive(Debug)]
pub(crate) struct DedupeTable {
    /// FIFO of remembered ids and their hashes; `head` is the next slot written.
    ring: Vec<(TraceId, u64)>,
    head: usize,
    len: usize,
    /// Index: ring position + 1, 0 = empty. Twice the window, so at most half full.
    slots: Vec<u32>,
    mask: usize,
}

impl DedupeTable {
    /// A table remembering `window` ids (a power of two).
    pub(crate) fn new(window: usize) -> DedupeTable {
        let window = window.max(1);
        let cap = (window * 2).next_power_of_two();
        DedupeTable { ring: vec![(TraceId::EMPTY, 0); window], head: 0, len: 0, slots: vec![0; cap], mask: cap - 1 }
    }

    /// Records `id` and returns false, or returns true when it is already in the window (it is
    /// then not recorded again and keeps its place). The oldest id is forgotten when full.
    pub(crate) fn check_and_insert(&mut self, id: &TraceId) -> bool {
        let hash = id.hash64();
        let mut slot = match self.find(id, hash) {
            Ok(_) => return true,
            Err(empty) => empty,
        };
        if self.len == self.ring.len() {
            self.evict(self.head);
            // Eviction shifts entries back, so the first empty slot may have moved.
            slot = self.first_empty(hash);
        } else {
            self.len += 1;
        }
        self.ring[self.head] = (*id, hash);
        self.slots[slot] = self.head as u32 + 1;
        self.head = (self.head + 1) % self.ring.len();
        false
    }

    fn first_empty(&self, hash: u64) -> usize {
        let mut s = hash as usize & self.mask;
        while self.slots[s] != 0 {
            s = (s + 1) & self.mask;
        }
        s
    }

    /// `Ok(slot)` holding `id`, or `Err(first empty slot)` of its probe sequence.
    fn find(&self, id: &TraceId, hash: u64) -> Result<usize, usize> {
        let mut s = hash as usize & self.mask;
        loop {
            match self.slots[s] {
                0 => return Err(s),
                v => {
                    let (other, h) = &self.ring[v as usize - 1];
                    if *h == hash && other == id {
                        return Ok(s);
                    }
                }
            }
            s = (s + 1) & self.mask;
        }
    }

    fn evict(&mut self, ring_pos: usize) {
        let mut s = self.ring[ring_pos].1 as usize & self.mask;
        while self.slots[s] != ring_pos as u32 + 1 {
            s = (s + 1) & self.mask;
        }
        self.slots[s] = 0;
        let mut hole = s;
        let mut j = s;
        loop {
            j = (j + 1) & self.mask;
            let v = self.slots[j];
            if v == 0 {
                return;
            }
            let home = self.ring[v as usize - 1].1 as usize & self.mask;
            if may_fill_hole(hole, j, home) {
                self.slots[hole] = v;
                self.slots[j] = 0;
                hole = j;
            }
        }
    }
}

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
    use std::collections::{HashMap, HashSet, VecDeque};

    fn id(n: u64) -> TraceId {
        TraceId::try_new(&format!("t-{n}")).unwrap()
    }

    #[test]
    fn dedupe_matches_a_model_window() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut t = DedupeTable::new(64);
        let mut model: VecDeque<u64> = VecDeque::new();
        for _ in 0..20_000 {
            let n = rng.next_u64() % 200;
            let expect = model.contains(&n);
            assert_eq!(t.check_and_insert(&id(n)), expect, "id {n}");
            if !expect {
                if model.len() == 64 {
                    model.pop_front();
                }
                model.push_back(n);
            }
        }
    }

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
