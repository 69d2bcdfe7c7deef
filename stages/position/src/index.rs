//! [`SeqIndex`]: header seq → table slot, an open-addressing hash table sized once.
//!
//! Linear probing with Fibonacci hashing and backward-shift deletion (no tombstones), at most
//! half full, so lookups stay short and nothing allocates after construction.

/// Marks a free bucket.
const EMPTY: u32 = u32::MAX;

/// A fixed-capacity map from a position's seq to its slot.
#[derive(Debug)]
pub(crate) struct SeqIndex {
    keys: Vec<u64>,
    vals: Vec<u32>,
    mask: usize,
    shift: u32,
    len: usize,
    max_len: usize,
}

/// Why an insert failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InsertError {
    /// The key is present already.
    Duplicate,
    /// `max_len` entries are present.
    Full,
}

impl SeqIndex {
    /// An index for up to `max_len` entries (buckets: the next power of two ≥ 2 × max_len).
    pub(crate) fn with_capacity(max_len: usize) -> SeqIndex {
        let buckets = max_len.saturating_mul(2).next_power_of_two().max(8);
        SeqIndex {
            keys: vec![0; buckets],
            vals: vec![EMPTY; buckets],
            mask: buckets - 1,
            shift: 64 - buckets.trailing_zeros(),
            len: 0,
            max_len,
        }
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The bucket holding `key`, if present.
    #[inline]
    fn find(&self, key: u64) -> Option<usize> {
        let mut i = self.home(key);
        loop {
            if self.vals[i] == EMPTY {
                return None;
            }
            if self.keys[i] == key {
                return Some(i);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The value stored for `key`.
    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        self.find(key).map(|i| self.vals[i])
    }

    /// Stores `key → val` (`val` must not be `u32::MAX`).
    pub(crate) fn insert(&mut self, key: u64, val: u32) -> Result<(), InsertError> {
        let mut i = self.home(key);
        while self.vals[i] != EMPTY {
            if self.keys[i] == key {
                return Err(InsertError::Duplicate);
            }
            i = (i + 1) & self.mask;
        }
        if self.len >= self.max_len {
            return Err(InsertError::Full);
        }
        self.keys[i] = key;
        self.vals[i] = val;
        self.len += 1;
        Ok(())
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: u64) -> Option<u32> {
        let mut hole = self.find(key)?;
        let val = self.vals[hole];
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            if self.vals[j] == EMPTY {
                break;
            }
            // Move the entry at j back into the hole unless its home lies cyclically in (hole, j].
            let from_home = j.wrapping_sub(self.home(self.keys[j])) & self.mask;
            let from_hole = j.wrapping_sub(hole) & self.mask;
            if from_home >= from_hole {
                self.keys[hole] = self.keys[j];
                self.vals[hole] = self.vals[j];
                hole = j;
            }
        }
        self.vals[hole] = EMPTY;
        self.len -= 1;
        Some(val)
    }

    /// Entries present.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn insert_get_remove() {
        let mut ix = SeqIndex::with_capacity(4);
        assert_eq!(ix.insert(10, 1), Ok(()));
        assert_eq!(ix.insert(10, 2), Err(InsertError::Duplicate));
        for k in 11..14 {
            ix.insert(k, k as u32).unwrap();
        }
        assert_eq!(ix.insert(99, 9), Err(InsertError::Full));
        assert_eq!(ix.get(10), Some(1));
        assert_eq!(ix.remove(10), Some(1));
        assert_eq!(ix.remove(10), None);
        assert_eq!(ix.get(13), Some(13));
        assert_eq!(ix.len(), 3);
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(ops in proptest::collection::vec((0u8..3, 0u64..64), 0..400)) {
            let mut ix = SeqIndex::with_capacity(32);
            let mut model: HashMap<u64, u32> = HashMap::new();
            for (n, (op, key)) in ops.into_iter().enumerate() {
                let key = key.wrapping_mul(1 << 40); // collide in the high bits too
                match op {
                    0 => {
                        let r = ix.insert(key, n as u32);
                        if model.contains_key(&key) {
                            prop_assert_eq!(r, Err(InsertError::Duplicate));
                        } else if model.len() >= 32 {
                            prop_assert_eq!(r, Err(InsertError::Full));
                        } else {
                            prop_assert_eq!(r, Ok(()));
                            model.insert(key, n as u32);
                        }
                    }
                    1 => prop_assert_eq!(ix.remove(key), model.remove(&key)),
                    _ => prop_assert_eq!(ix.get(key), model.get(&key).copied()),
                }
                prop_assert_eq!(ix.len(), model.len());
            }
            for (k, v) in &model {
                prop_assert_eq!(ix.get(*k), Some(*v));
            }
        }
    }
}
