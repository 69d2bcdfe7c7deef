//! The model registry: model versions by dense [`ModelIdx`], bounded, growing at run time.
//!
//! `model_version` is free text in the reference system, so ingress registers a model the first
//! time a signal names it. The registry is an append-only, fixed-capacity table: each slot is
//! written once (a `OnceLock` holding the name inline, no allocation) and then published by
//! storing the new length with `Release`; readers on any thread (sinks, the mirror, reports)
//! load the length with `Acquire` and read the slots below it without locking. Registration
//! takes a mutex (cold: once per new model), so even several writers stay consistent.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::ids::ModelIdx;

/// Longest model name, bytes.
pub const MODEL_NAME_MAX: usize = 32;
/// Largest registry capacity accepted (`[ingress] max_models`).
pub const MAX_MODELS: usize = 4096;

/// Whether `name` is a usable model name: 1–32 bytes of `A-Z a-z 0-9 _ . -`.
pub fn is_valid_model_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= MODEL_NAME_MAX
        && name.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Why a model could not be registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// Not 1–32 bytes of `A-Z a-z 0-9 _ . -`.
    #[error("not a valid model name (1-32 characters of A-Z a-z 0-9 _ . -)")]
    InvalidName,
    /// A new model, and every slot is taken.
    #[error("the model registry is full ({capacity} models)")]
    Full {
        /// The registry's capacity.
        capacity: usize,
    },
}

/// A model name stored inline.
#[derive(Clone, Copy)]
struct Name {
    len: u8,
    bytes: [u8; MODEL_NAME_MAX],
}

impl Name {
    fn new(s: &[u8]) -> Name {
        let n = s.len().min(MODEL_NAME_MAX);
        let mut bytes = [0u8; MODEL_NAME_MAX];
        bytes[..n].copy_from_slice(&s[..n]);
        Name { len: n as u8, bytes }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(MODEL_NAME_MAX)]
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// Model versions by index; see the module docs.
pub struct ModelRegistry {
    slots: Box<[OnceLock<Name>]>,
    len: AtomicUsize,
    write: Mutex<()>,
}

impl ModelRegistry {
    /// An empty registry with room for `capacity` models (at most [`MAX_MODELS`]).
    pub fn with_capacity(capacity: usize) -> ModelRegistry {
        let capacity = capacity.min(MAX_MODELS);
        ModelRegistry {
            slots: (0..capacity).map(|_| OnceLock::new()).collect(),
            len: AtomicUsize::new(0),
            write: Mutex::new(()),
        }
    }

    /// Room for this many models.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Models registered so far (indices `0..len` are valid).
    #[inline]
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// No model registered yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index of `name`, if registered (allocation-free; no lock).
    #[inline]
    pub fn find(&self, name: &[u8]) -> Option<ModelIdx> {
        let n = self.len();
        self.slots[..n].iter().position(|s| s.get().is_some_and(|m| m.as_bytes() == name)).map(|p| ModelIdx(p as u16))
    }

    /// The index of `name`, registering it in the next free slot on first sight.
    pub fn register(&self, name: &[u8]) -> Result<ModelIdx, RegisterError> {
        if let Some(idx) = self.find(name) {
            return Ok(idx);
        }
        if !is_valid_model_name(name) {
            return Err(RegisterError::InvalidName);
        }
        if self.len() >= self.capacity() {
            return Err(RegisterError::Full { capacity: self.capacity() });
        }
        let _guard = self.write.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(idx) = self.find(name) {
            return Ok(idx); // registered by another writer meanwhile
        }
        let n = self.len();
        let Some(slot) = self.slots.get(n) else {
            return Err(RegisterError::Full { capacity: self.capacity() });
        };
        let _ = slot.set(Name::new(name));
        self.len.store(n + 1, Ordering::Release);
        Ok(ModelIdx(n as u16))
    }

    /// The name at `idx`, if registered.
    #[inline]
    pub fn name(&self, idx: ModelIdx) -> Option<&str> {
        if idx.get() >= self.len() {
            return None;
        }
        self.slots.get(idx.get())?.get().map(Name::as_str)
    }

    /// Every registered name, in index order.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.slots[..self.len()].iter().filter_map(|s| s.get().map(Name::as_str))
    }
}

impl Default for ModelRegistry {
    fn default() -> Self {
        ModelRegistry::with_capacity(0)
    }
}

impl Clone for ModelRegistry {
    /// A snapshot: the same capacity and the models registered so far.
    fn clone(&self) -> Self {
        let copy = ModelRegistry::with_capacity(self.capacity());
        for name in self.names() {
            let _ = copy.register(name.as_bytes());
        }
        copy
    }
}

impl PartialEq for ModelRegistry {
    fn eq(&self, other: &Self) -> bool {
        self.capacity() == other.capacity() && self.names().eq(other.names())
    }
}

impl fmt::Debug for ModelRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelRegistry")
            .field("capacity", &self.capacity())
            .field("names", &self.names().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_once_and_finds_by_name() {
        let r = ModelRegistry::with_capacity(2);
        assert_eq!(r.register(b"test_v1"), Ok(ModelIdx(0)));
        assert_eq!(r.register(b"test_v1"), Ok(ModelIdx(0)));
        assert_eq!(r.register(b"m-2.1"), Ok(ModelIdx(1)));
        assert_eq!(r.register(b"third"), Err(RegisterError::Full { capacity: 2 }));
        assert_eq!(r.find(b"m-2.1"), Some(ModelIdx(1)));
        assert_eq!(r.find(b"third"), None);
        assert_eq!(r.name(ModelIdx(0)), Some("test_v1"));
        assert_eq!(r.name(ModelIdx(2)), None);
        assert_eq!(r.names().collect::<Vec<_>>(), ["test_v1", "m-2.1"]);
        assert_eq!(r.clone(), r);
    }

    #[test]
    fn odd_names_are_refused_without_taking_a_slot() {
        let r = ModelRegistry::with_capacity(4);
        for bad in [&b""[..], b"has space", b"quote\"", &[b'x'; 33], "ünï".as_bytes()] {
            assert_eq!(r.register(bad), Err(RegisterError::InvalidName), "{bad:?}");
        }
        assert!(r.is_empty());
        assert!(r.register(&[b'x'; 32]).is_ok());
    }

    #[test]
    fn readers_on_other_threads_see_registered_names() {
        let r = std::sync::Arc::new(ModelRegistry::with_capacity(64));
        let reader = {
            let r = r.clone();
            std::thread::spawn(move || {
                let mut seen = 0;
                while seen < 64 {
                    let n = r.len();
                    for i in 0..n {
                        let name = r.name(ModelIdx(i as u16)).expect("a published slot has its name");
                        assert_eq!(name, format!("m{i}"));
                    }
                    seen = n;
                }
            })
        };
        for i in 0..64 {
            assert_eq!(r.register(format!("m{i}").as_bytes()), Ok(ModelIdx(i)));
        }
        reader.join().expect("reader thread");
    }
}
