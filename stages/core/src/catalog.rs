//! The names behind the dense indices, and each instrument's exchange filters.
//!
//! Built once at startup from config; read-only afterwards and shared by every stage.

use crate::fixed::{Price, Qty, Usd};
use crate::ids::{InstrumentIdx, ModelIdx, ProfileIdx};

/// One tradable instrument and its exchange filters.
#[derive(Clone, Debug, PartialEq)]
pub struct InstrumentSpec {
    /// Exchange symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Price filter: prices are multiples of this.
    pub tick_size: Price,
    /// Lot-size filter: quantities are multiples of this.
    pub step_size: Qty,
    /// Lot-size filter: smallest quantity.
    pub min_qty: Qty,
    /// Smallest order notional.
    pub min_notional: Usd,
}

impl InstrumentSpec {
    /// An instrument whose filters are all one unit (tick, step, min qty = 1e-8; no minimum
    /// notional): nothing is rounded or refused by filters. For tests and tools.
    pub fn with_unit_filters(symbol: &str) -> InstrumentSpec {
        InstrumentSpec {
            symbol: symbol.into(),
            tick_size: Price(1),
            step_size: Qty(1),
            min_qty: Qty(1),
            min_notional: Usd(0),
        }
    }
}

/// Why a catalog cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A name appears twice.
    #[error("duplicate {what} name {name:?}")]
    Duplicate {
        /// instrument / model / profile
        what: &'static str,
        /// the name
        name: String,
    },
    /// A name is empty, too long, or has characters other than `A-Za-z0-9_.-`.
    #[error("invalid {what} name {name:?} (1-32 characters of A-Z a-z 0-9 _ . -)")]
    InvalidName {
        /// instrument / model / profile
        what: &'static str,
        /// the name
        name: String,
    },
    /// Too many entries for the index type.
    #[error("too many {what}s (at most {max})")]
    TooMany {
        /// instrument / model / profile
        what: &'static str,
        /// the limit
        max: usize,
    },
}

/// Names of instruments, models and risk profiles, by index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    instruments: Vec<InstrumentSpec>,
    models: Vec<String>,
    profiles: Vec<String>,
}

fn check_names<'a>(what: &'static str, names: impl Iterator<Item = &'a str>, max: usize) -> Result<(), CatalogError> {
    let mut seen: Vec<&str> = Vec::new();
    for name in names {
        let ok = !name.is_empty()
            && name.len() <= 32
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !ok {
            return Err(CatalogError::InvalidName { what, name: name.to_owned() });
        }
        if seen.contains(&name) {
            return Err(CatalogError::Duplicate { what, name: name.to_owned() });
        }
        seen.push(name);
    }
    if seen.len() > max {
        return Err(CatalogError::TooMany { what, max });
    }
    Ok(())
}

impl Catalog {
    /// Builds a catalog; names must be unique and plain (`A-Za-z0-9_.-`, at most 32 bytes).
    pub fn try_new(
        instruments: Vec<InstrumentSpec>,
        models: Vec<String>,
        profiles: Vec<String>,
    ) -> Result<Catalog, CatalogError> {
        check_names("instrument", instruments.iter().map(|i| i.symbol.as_str()), u32::MAX as usize - 1)?;
        check_names("model", models.iter().map(String::as_str), u16::MAX as usize - 1)?;
        check_names("profile", profiles.iter().map(String::as_str), u8::MAX as usize - 1)?;
        Ok(Catalog { instruments, models, profiles })
    }

    /// All instruments, by index.
    pub fn instruments(&self) -> &[InstrumentSpec] {
        &self.instruments
    }

    /// The instrument at `idx`.
    #[inline]
    pub fn instrument(&self, idx: InstrumentIdx) -> Option<&InstrumentSpec> {
        self.instruments.get(idx.get())
    }

    /// The index of `symbol` (exact match; allocation-free).
    #[inline]
    pub fn find_symbol(&self, symbol: &[u8]) -> Option<InstrumentIdx> {
        self.instruments.iter().position(|i| i.symbol.as_bytes() == symbol).map(|p| InstrumentIdx(p as u32))
    }

    /// The symbol at `idx`, or `""`.
    pub fn symbol(&self, idx: InstrumentIdx) -> &str {
        self.instrument(idx).map_or("", |i| i.symbol.as_str())
    }

    /// All model versions, by index.
    pub fn models(&self) -> &[String] {
        &self.models
    }

    /// The index of model version `name`.
    #[inline]
    pub fn find_model(&self, name: &[u8]) -> Option<ModelIdx> {
        self.models.iter().position(|m| m.as_bytes() == name).map(|p| ModelIdx(p as u16))
    }

    /// The model version at `idx`, or `""`.
    pub fn model(&self, idx: ModelIdx) -> &str {
        self.models.get(idx.get()).map_or("", String::as_str)
    }

    /// All risk profile names, by index.
    pub fn profiles(&self) -> &[String] {
        &self.profiles
    }

    /// The index of profile `name`.
    pub fn find_profile(&self, name: &str) -> Option<ProfileIdx> {
        self.profiles.iter().position(|p| p == name).map(|p| ProfileIdx(p as u8))
    }

    /// The profile at `idx`, or `""`.
    pub fn profile(&self, idx: ProfileIdx) -> &str {
        self.profiles.get(idx.get()).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> InstrumentSpec {
        InstrumentSpec::with_unit_filters(s)
    }

    #[test]
    fn lookups() {
        let c =
            Catalog::try_new(vec![spec("BTCUSDT"), spec("ETHUSDT")], vec!["m1".into()], vec!["SAFE".into()]).unwrap();
        assert_eq!(c.find_symbol(b"ETHUSDT"), Some(InstrumentIdx(1)));
        assert_eq!(c.find_symbol(b"XRPUSDT"), None);
        assert_eq!(c.symbol(InstrumentIdx(0)), "BTCUSDT");
        assert_eq!(c.symbol(InstrumentIdx::NONE), "");
        assert_eq!(c.find_model(b"m1"), Some(ModelIdx(0)));
        assert_eq!(c.find_profile("SAFE"), Some(ProfileIdx(0)));
    }

    #[test]
    fn rejects_duplicates_and_odd_names() {
        assert!(matches!(
            Catalog::try_new(vec![spec("A"), spec("A")], vec![], vec![]),
            Err(CatalogError::Duplicate { .. })
        ));
        assert!(matches!(Catalog::try_new(vec![spec("A\"B")], vec![], vec![]), Err(CatalogError::InvalidName { .. })));
        assert!(matches!(Catalog::try_new(vec![], vec![String::new()], vec![]), Err(CatalogError::InvalidName { .. })));
    }
}
