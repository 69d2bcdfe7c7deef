//! [`Triggers`]: per instrument, the open positions not closing, indexed by where their exit
//! triggers, so a tick finds exactly the triggered ones in O(log n) each.
//!
//! Three indexed binary min-heaps per instrument, each of (key, slot):
//! - [`Kind::Below`]: triggers when the price falls to the level (long SL, short TP); key = −level.
//! - [`Kind::Above`]: triggers when the price rises to the level (long TP, short SL); key = level.
//! - [`Kind::Deadline`]: triggers at a time (max hold; `i64::MIN` for a flattened position).
//!
//! A per-slot position map makes removal (a position marked closing, re-armed or closed) exact
//! and O(log n), so no stale entries exist. Every heap can hold every slot: memory is
//! instruments × 3 × capacity × 12 bytes plus capacity × 12 bytes, all allocated here.

use crate::book::NIL;

/// Which heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Below = 0,
    Above = 1,
    Deadline = 2,
}

const KINDS: [Kind; 3] = [Kind::Below, Kind::Above, Kind::Deadline];

/// One instrument's heap of one kind (allocated with its full capacity).
#[derive(Debug)]
struct Heap {
    keys: Vec<i64>,
    slots: Vec<u32>,
}

/// The trigger heaps of every instrument.
#[derive(Debug)]
pub(crate) struct Triggers {
    heaps: Vec<[Heap; 3]>,
    /// Per slot and kind: its index in its instrument's heap, or [`NIL`].
    at: Vec<[u32; 3]>,
}

impl Triggers {
    /// Heaps for `capacity` slots on `instruments` instruments.
    pub fn with_capacity(capacity: usize, instruments: usize) -> Triggers {
        let heap = || Heap { keys: Vec::with_capacity(capacity), slots: Vec::with_capacity(capacity) };
        Triggers { heaps: (0..instruments).map(|_| [heap(), heap(), heap()]).collect(), at: vec![[NIL; 3]; capacity] }
    }

    /// Indexes slot `s` of instrument `inst` under `keys` (`None`: never triggers that way).
    pub fn insert(&mut self, inst: usize, s: u32, keys: [Option<i64>; 3]) {
        for (kind, key) in KINDS.into_iter().zip(keys) {
            if let Some(key) = key {
                self.push(inst, kind, s, key);
            }
        }
    }

    /// Removes slot `s` of instrument `inst` from every heap (a no-op where it is absent).
    pub fn remove(&mut self, inst: usize, s: u32) {
        for kind in KINDS {
            let i = self.at[s as usize][kind as usize];
            if i != NIL {
                self.remove_at(inst, kind, i as usize);
            }
        }
    }

    /// A slot of `inst` whose key is ≤ `bounds[kind]` for some kind (the heap tops), if any.
    pub fn triggered(&self, inst: usize, bounds: [i64; 3]) -> Option<u32> {
        let heaps = self.heaps.get(inst)?;
        KINDS.into_iter().find_map(|k| {
            let h = &heaps[k as usize];
            match (h.keys.first(), h.slots.first()) {
                (Some(&key), Some(&s)) if key <= bounds[k as usize] => Some(s),
                _ => None,
            }
        })
    }

    fn push(&mut self, inst: usize, kind: Kind, s: u32, key: i64) {
        let h = &mut self.heaps[inst][kind as usize];
        if h.keys.len() == h.keys.capacity() || self.at[s as usize][kind as usize] != NIL {
            return; // cannot happen: every heap holds every slot at most once
        }
        h.keys.push(key);
        h.slots.push(s);
        let i = h.keys.len() - 1;
        self.at[s as usize][kind as usize] = i as u32;
        self.sift_up(inst, kind, i);
    }

    fn remove_at(&mut self, inst: usize, kind: Kind, i: usize) {
        let h = &mut self.heaps[inst][kind as usize];
        let last = h.keys.len() - 1;
        self.swap(inst, kind, i, last);
        let h = &mut self.heaps[inst][kind as usize];
        if let Some(s) = h.slots.pop() {
            self.at[s as usize][kind as usize] = NIL;
        }
        h.keys.pop();
        if i < last {
            let i = self.sift_up(inst, kind, i);
            self.sift_down(inst, kind, i);
        }
    }

    fn swap(&mut self, inst: usize, kind: Kind, a: usize, b: usize) {
        let h = &mut self.heaps[inst][kind as usize];
        h.keys.swap(a, b);
        h.slots.swap(a, b);
        let (sa, sb) = (h.slots[a], h.slots[b]);
        self.at[sa as usize][kind as usize] = a as u32;
        self.at[sb as usize][kind as usize] = b as u32;
    }

    /// Moves entry `i` up while it is below its parent; returns where it stops.
    fn sift_up(&mut self, inst: usize, kind: Kind, mut i: usize) -> usize {
        while i > 0 {
            let parent = (i - 1) / 2;
            let keys = &self.heaps[inst][kind as usize].keys;
            if keys[i] >= keys[parent] {
                break;
            }
            self.swap(inst, kind, i, parent);
            i = parent;
        }
        i
    }

    fn sift_down(&mut self, inst: usize, kind: Kind, mut i: usize) {
        loop {
            let keys = &self.heaps[inst][kind as usize].keys;
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < keys.len() && keys[l] < keys[least] {
                least = l;
            }
            if r < keys.len() && keys[r] < keys[least] {
                least = r;
            }
            if least == i {
                return;
            }
            self.swap(inst, kind, i, least);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tops_match_a_model(ops in proptest::collection::vec((any::<bool>(), 0u32..12, -50i64..50), 0..300)) {
            let mut t = Triggers::with_capacity(12, 1);
            let mut model: Vec<(u32, i64)> = Vec::new();
            for (insert, s, key) in ops {
                if insert && !model.iter().any(|m| m.0 == s) {
                    t.insert(0, s, [Some(key), None, Some(key)]);
                    model.push((s, key));
                } else if !insert {
                    t.remove(0, s);
                    model.retain(|m| m.0 != s);
                }
                for bound in [-60, -10, 0, 10, 60] {
                    let hit = t.triggered(0, [bound, i64::MIN, i64::MIN]);
                    let want = model.iter().filter(|m| m.1 <= bound).map(|m| m.1).min();
                    prop_assert_eq!(hit.map(|s| model.iter().find(|m| m.0 == s).map(|m| m.1)), want.map(Some));
                }
            }
        }
    }
}
