//! [`DedupeTable`]: the last N trace ids seen, for refusing repeats (risk's duplicate check,
//! the network sources' answers). Fixed capacity, allocated once; open addressing with linear
//! probing and backward-shift deletion ([`may_fill_hole`], shared with other such tables).

use crate::TraceId;

/// Whether the entry at `j`, whose home slot is `k`, may move into the hole at `i`
/// (backward-shift deletion: it may, unless its home lies cyclically in `(i, j]`).
#[inline]
pub fn may_fill_hole(i: usize, j: usize, k: usize) -> bool {
    if i <= j {
        k <= i || k > j
    } else {
        k <= i && k > j
    }
}

/// The last `window` trace ids seen, in arrival order, with a hash index for lookup.
#[derive(Debug)]
pub struct DedupeTable {
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
    pub fn new(window: usize) -> DedupeTable {
        let window = window.max(1);
        let cap = (window * 2).next_power_of_two();
        DedupeTable { ring: vec![(TraceId::EMPTY, 0); window], head: 0, len: 0, slots: vec![0; cap], mask: cap - 1 }
    }

    /// Records `id` and returns false, or returns true when it is already in the window (it is
    /// then not recorded again and keeps its place). The oldest id is forgotten when full.
    pub fn check_and_insert(&mut self, id: &TraceId) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn id(n: u64) -> TraceId {
        TraceId::try_new(&format!("t-{n}")).unwrap()
    }

    /// xorshift64*: deterministic ids without a dependency.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state >> 12;
        *state ^= *state << 25;
        *state ^= *state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    #[test]
    fn dedupe_matches_a_model_window() {
        let mut rng = 7_u64;
        let mut t = DedupeTable::new(64);
        let mut model: VecDeque<u64> = VecDeque::new();
        for _ in 0..20_000 {
            let n = next(&mut rng) % 200;
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
}
