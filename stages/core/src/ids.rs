//! Dense indices and the inline trace id.
//!
//! Symbols, model versions and risk profiles are named in config; inside events they travel as
//! small indices built once at startup ([`crate::Catalog`]). The names appear only at the edges.

use std::fmt;

/// Index of an instrument (symbol) in the [`crate::Catalog`].
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct InstrumentIdx(pub u32);

impl InstrumentIdx {
    /// "No instrument" (alerts and errors that are not about one symbol).
    pub const NONE: InstrumentIdx = InstrumentIdx(u32::MAX);

    /// The index as a `usize`, for table lookups.
    #[inline]
    pub const fn get(self) -> usize {
        self.0 as usize
    }

    /// True unless this is [`InstrumentIdx::NONE`].
    #[inline]
    pub const fn is_some(self) -> bool {
        self.0 != u32::MAX
    }
}

/// Index of a model version in the [`crate::Catalog`].
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ModelIdx(pub u16);

impl ModelIdx {
    /// "No model".
    pub const NONE: ModelIdx = ModelIdx(u16::MAX);

    /// The index as a `usize`, for table lookups.
    #[inline]
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

/// Index of a named risk profile in the [`crate::Catalog`].
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ProfileIdx(pub u8);

impl ProfileIdx {
    /// "Not known to the emitting stage" (rendered as `null`).
    pub const NONE: ProfileIdx = ProfileIdx(u8::MAX);

    /// The index as a `usize`, for table lookups.
    #[inline]
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

/// Maximum length of a trace id in bytes (a UUID in text form fits exactly).
pub const TRACE_ID_MAX: usize = 36;

/// Why a string is not a valid [`TraceId`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceIdError {
    /// The id is empty.
    #[error("trace id is empty")]
    Empty,
    /// The id is longer than [`TRACE_ID_MAX`] bytes.
    #[error("trace id is longer than 36 bytes")]
    TooLong,
    /// The id holds a byte outside printable ASCII (0x21..=0x7e).
    #[error("trace id holds a byte that is not printable ASCII")]
    NotPrintableAscii,
}

/// A signal's trace id: printable ASCII, 1 to 36 bytes, stored inline (NUL-padded).
///
/// Carried unchanged from `signal.generated` to every derived event.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; TRACE_ID_MAX]);

impl TraceId {
    /// The empty trace id (used only by events that are not about a signal, before one is set).
    pub const EMPTY: TraceId = TraceId([0; TRACE_ID_MAX]);

    /// Validates and stores `s`.
    pub fn try_new(s: &str) -> Result<TraceId, TraceIdError> {
        Self::try_from_bytes(s.as_bytes())
    }

    /// Validates and stores raw bytes (must be printable ASCII).
    pub fn try_from_bytes(b: &[u8]) -> Result<TraceId, TraceIdError> {
        if b.is_empty() {
            return Err(TraceIdError::Empty);
        }
        if b.len() > TRACE_ID_MAX {
            return Err(TraceIdError::TooLong);
        }
        if !b.iter().all(|c| (0x21..=0x7e).contains(c)) {
            return Err(TraceIdError::NotPrintableAscii);
        }
        let mut out = [0u8; TRACE_ID_MAX];
        out[..b.len()].copy_from_slice(b);
        Ok(TraceId(out))
    }

    /// Builds a UUID v4 (text form) from 16 random bytes.
    pub fn uuid_v4(mut random: [u8; 16]) -> TraceId {
        random[6] = (random[6] & 0x0f) | 0x40;
        random[8] = (random[8] & 0x3f) | 0x80;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; TRACE_ID_MAX];
        let mut o = 0;
        for (i, byte) in random.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out[o] = b'-';
                o += 1;
            }
            out[o] = HEX[(byte >> 4) as usize];
            out[o + 1] = HEX[(byte & 0x0f) as usize];
            o += 2;
        }
        TraceId(out)
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.iter().position(|&c| c == 0).unwrap_or(TRACE_ID_MAX)
    }

    /// True for [`TraceId::EMPTY`].
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }

    /// The id's bytes (printable ASCII).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..self.len()]
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Constructors admit printable ASCII only, so this never fails.
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// A 64-bit hash of the id for hash tables (duplicate detection). Reads the 36 bytes as
    /// four 64-bit words and one 32-bit word, multiply-rotate mixing, then a final avalanche so
    /// the low bits (table index) depend on every byte. Not for cryptographic use.
    #[inline]
    pub fn hash64(&self) -> u64 {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let b = &self.0;
        let word =
            |i: usize| u64::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]]);
        let tail = u64::from(u32::from_le_bytes([b[32], b[33], b[34], b[35]]));
        let mut h: u64 = 0x243f_6a88_85a3_08d3;
        for w in [word(0), word(8), word(16), word(24), tail] {
            h = (h ^ w).wrapping_mul(K).rotate_left(29);
        }
        h ^= h >> 32;
        h = h.wrapping_mul(0xd6e8_feb8_6659_fd93);
        h ^ (h >> 32)
    }
}

impl Default for TraceId {
    fn default() -> Self {
        TraceId::EMPTY
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({:?})", self.as_str())
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stages of the pipeline (also the `source` of every event they emit).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StageId {
    /// Signal sources and decoding.
    Ingress = 0,
    /// Reference prices.
    Market = 1,
    /// Sizing and pre-trade checks.
    Risk = 2,
    /// Order entry at the venue.
    Gateway = 3,
    /// Position keeping and exits.
    Position = 4,
    /// Learning components.
    Learning = 5,
    /// Kill switch, health and alert routing.
    Control = 6,
}

impl StageId {
    /// Every stage, in pipeline order.
    pub const ALL: [StageId; 7] = [
        StageId::Ingress,
        StageId::Market,
        StageId::Risk,
        StageId::Gateway,
        StageId::Position,
        StageId::Learning,
        StageId::Control,
    ];
    /// Number of stages.
    pub const COUNT: usize = 7;

    /// The stage's name as used in config and in the `source` field.
    pub const fn name(self) -> &'static str {
        match self {
            StageId::Ingress => "ingress",
            StageId::Market => "market",
            StageId::Risk => "risk",
            StageId::Gateway => "gateway",
            StageId::Position => "position",
            StageId::Learning => "learning",
            StageId::Control => "control",
        }
    }

    /// Looks a stage up by name.
    pub fn from_name(s: &str) -> Option<StageId> {
        StageId::ALL.into_iter().find(|id| id.name() == s)
    }

    /// The index as a `usize`.
    #[inline]
    pub const fn get(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_id_round_trips_and_rejects_bad_input() {
        let t = TraceId::try_new("abc-123").unwrap();
        assert_eq!(t.as_str(), "abc-123");
        assert_eq!(t.len(), 7);
        let full = "0123456789abcdef0123456789abcdef0123";
        assert_eq!(TraceId::try_new(full).unwrap().as_str(), full);
        assert_eq!(TraceId::try_new(""), Err(TraceIdError::Empty));
        assert_eq!(TraceId::try_new(&format!("{full}x")), Err(TraceIdError::TooLong));
        assert_eq!(TraceId::try_new("héllo"), Err(TraceIdError::NotPrintableAscii));
        assert_eq!(TraceId::try_new("a b"), Err(TraceIdError::NotPrintableAscii));
        assert_eq!(TraceId::try_new("a\0b"), Err(TraceIdError::NotPrintableAscii));
    }

    #[test]
    fn uuid_v4_has_canonical_shape() {
        let t = TraceId::uuid_v4([0xab; 16]);
        let s = t.as_str();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[8..9], "-");
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn hash_spreads_ids_over_table_slots() {
        // 4096 sequential ids into 8192 buckets: no bucket badly overfull, distinct hashes.
        let mut buckets = vec![0u32; 8192];
        let mut seen = std::collections::HashSet::new();
        for i in 0..4096 {
            let h = TraceId::try_new(&format!("signal-{i:06}")).unwrap().hash64();
            assert!(seen.insert(h));
            buckets[(h & 8191) as usize] += 1;
        }
        assert!(buckets.iter().all(|&n| n <= 6), "max bucket {}", buckets.iter().max().unwrap());
        assert_ne!(TraceId::try_new("a").unwrap().hash64(), TraceId::try_new("b").unwrap().hash64());
    }

    #[test]
    fn stage_names_round_trip() {
        for id in StageId::ALL {
            assert_eq!(StageId::from_name(id.name()), Some(id));
        }
        assert_eq!(StageId::from_name("nope"), None);
    }
}
