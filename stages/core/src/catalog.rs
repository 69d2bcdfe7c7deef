//! The names behind the dense indices, and each instrument's exchange filters.
//!
//! Built once at startup from config and shared by every stage. Instruments and profiles are
//! fixed; models live in a bounded [`ModelRegistry`] that ingress extends when a signal names a
//! new model (see [`Catalog::register_model`]).

use crate::fixed::{Price, Qty, Usd};
use crate::ids::{InstrumentIdx, ModelIdx, ProfileIdx};
use crate::models::{ModelRegistry, RegisterError, MAX_MODELS};

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
    /// The model registry's capacity cannot hold the pre-registered models.
    #[error("ingress.max_models ({capacity}) must be in {preregistered}..={MAX_MODELS}: the {preregistered} configured models are registered first")]
    ModelCapacity {
        /// the capacity asked for
        capacity: usize,
        /// configured models
        preregistered: usize,
    },
}

/// Names of instruments, models and risk profiles, by index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    instruments: Vec<InstrumentSpec>,
    /// The configured models (pre-registered, indices `0..models.len()`).
    models: Vec<String>,
    /// Every model known so far: the configured ones, then those registered at run time.
    registry: ModelRegistry,
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
    /// The model registry holds exactly `models` (no room for new ones) until
    /// [`Catalog::with_model_capacity`] gives it more.
    pub fn try_new(
        instruments: Vec<InstrumentSpec>,
        models: Vec<String>,
        profiles: Vec<String>,
    ) -> Result<Catalog, CatalogError> {
        check_names("instrument", instruments.iter().map(|i| i.symbol.as_str()), u32::MAX as usize - 1)?;
        check_names("model", models.iter().map(String::as_str), MAX_MODELS)?;
        check_names("profile", profiles.iter().map(String::as_str), u8::MAX as usize - 1)?;
        let registry = preregistered(&models, models.len())?;
        Ok(Catalog { instruments, models, registry, profiles })
    }

    /// The same catalog with room for `capacity` models in all (configured ones first); new
    /// models register into the rest at run time. Call before sharing the catalog.
    pub fn with_model_capacity(mut self, capacity: usize) -> Result<Catalog, CatalogError> {
        self.registry = preregistered(&self.models, capacity)?;
        Ok(self)
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

    /// The configured (pre-registered) model versions, by index; models registered at run
    /// time follow them in the registry ([`Catalog::model_names`]).
    pub fn models(&self) -> &[String] {
        &self.models
    }

    /// The index of model version `name`, configured or registered so far (allocation-free).
    #[inline]
    pub fn find_model(&self, name: &[u8]) -> Option<ModelIdx> {
        self.registry.find(name)
    }

    /// The index of model version `name`, registering it on first sight (ingress; allocation-
    /// free, a lock only when the model is new).
    #[inline]
    pub fn register_model(&self, name: &[u8]) -> Result<ModelIdx, RegisterError> {
        self.registry.register(name)
    }

    /// The model version at `idx`, or `""` (any thread; sees every registered model).
    pub fn model(&self, idx: ModelIdx) -> &str {
        self.registry.name(idx).unwrap_or("")
    }

    /// Every model version known so far, in index order.
    pub fn model_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.registry.names()
    }

    /// Models known so far (configured + registered at run time).
    pub fn model_count(&self) -> usize {
        self.registry.len()
    }

    /// Room for this many models in all: per-model tables are sized to it.
    pub fn model_capacity(&self) -> usize {
        self.registry.capacity()
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

/// A registry of `capacity` slots holding `models` first.
fn preregistered(models: &[String], capacity: usize) -> Result<ModelRegistry, CatalogError> {
    if capacity < models.len() || capacity > MAX_MODELS {
        return Err(CatalogError::ModelCapacity { capacity, preregistered: models.len() });
    }
    let registry = ModelRegistry::with_capacity(capacity);
    for m in models {
        registry.register(m.as_bytes()).map_err(|_| CatalogError::InvalidName { what: "model", name: m.clone() })?;
    }
    Ok(registry)
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
    fn models_beyond_the_configured_ones_register_up_to_the_capacity() {
        let c = Catalog::try_new(vec![], vec!["m1".into()], vec![]).unwrap();
        assert_eq!(c.register_model(b"m1"), Ok(ModelIdx(0)));
        assert_eq!(c.register_model(b"test_v1"), Err(RegisterError::Full { capacity: 1 }));
        let c = c.with_model_capacity(2).unwrap();
        assert_eq!(c.register_model(b"test_v1"), Ok(ModelIdx(1)));
        assert_eq!((c.model(ModelIdx(1)), c.find_model(b"test_v1")), ("test_v1", Some(ModelIdx(1))));
        assert_eq!((c.models().len(), c.model_count(), c.model_capacity()), (1, 2, 2));
        assert_eq!(c.model_names().collect::<Vec<_>>(), ["m1", "test_v1"]);
        assert!(matches!(c.with_model_capacity(0), Err(CatalogError::ModelCapacity { capacity: 0, .. })));
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
