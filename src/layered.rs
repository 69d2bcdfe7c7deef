//! Layered configuration: the embedded default, then a config file holding only the keys that
//! differ, then `--set section.key=value` overrides, merged before anything is decoded.
//!
//! Tables merge key by key (so `[risk.guard] max_open_positions = 5` changes one key);
//! everything else — numbers, strings, arrays, and arrays of tables such as `[[instruments]]` or
//! `[[topology.threads]]` — is replaced whole by the later layer. A full config file (like the
//! shipped ones) therefore resolves to exactly itself wherever it sets a key.

use crate::config::{Config, ConfigErrors, DEFAULT_TOML};
use std::path::Path;

/// A config resolved from its layers: the decoded config and the merged TOML it came from
/// (what `check-config` prints).
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The validated config.
    pub config: Config,
    /// The merged TOML table, every layer applied.
    pub table: toml::Table,
}

/// Resolves a config from the embedded default (or `base`), an optional file layered on it,
/// and `--set` overrides (`section.key=value`, the value in TOML syntax; a bare word that is
/// not TOML is taken as a string), reporting every problem at once.
pub fn resolve(base: &str, file: Option<&Path>, sets: &[String]) -> Result<Resolved, ConfigErrors> {
    let mut table: toml::Table = base.parse().map_err(|e: toml::de::Error| ConfigErrors(vec![e.to_string()]))?;
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigErrors(vec![format!("cannot read {}: {e}", path.display())]))?;
        let layer: toml::Table =
            text.parse().map_err(|e: toml::de::Error| ConfigErrors(vec![format!("{}: {e}", path.display())]))?;
        merge(&mut table, layer);
    }
    let mut errors = Vec::new();
    for set in sets {
        if let Err(e) = apply_set(&mut table, set) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let config = Config::from_table(table.clone())?;
    Ok(Resolved { config, table })
}

/// [`resolve`] on the embedded default.
pub fn resolve_default(file: Option<&Path>, sets: &[String]) -> Result<Resolved, ConfigErrors> {
    resolve(DEFAULT_TOML, file, sets)
}

/// Merges `layer` into `base`: tables key by key, anything else replaced.
pub fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(l)) => merge(b, l),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

/// Applies one `path.to.key=value` override.
fn apply_set(table: &mut toml::Table, set: &str) -> Result<(), String> {
    let Some((path, raw)) = set.split_once('=') else {
        return Err(format!("--set {set:?}: expected section.key=value"));
    };
    let path = path.trim();
    let keys: Vec<&str> = path.split('.').map(str::trim).collect();
    if keys.iter().any(|k| k.is_empty()) {
        return Err(format!("--set {set:?}: the key path {path:?} has an empty part"));
    }
    let value = parse_value(raw.trim());
    let (last, parents) = keys.split_last().ok_or_else(|| format!("--set {set:?}: no key"))?;
    let mut at = table;
    for (i, k) in parents.iter().enumerate() {
        let entry = at.entry((*k).to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        at = match entry {
            toml::Value::Table(t) => t,
            other => {
                return Err(format!("--set {set:?}: {} is a {}, not a section", keys[..=i].join("."), other.type_str()))
            }
        };
    }
    at.insert((*last).to_owned(), value);
    Ok(())
}

/// A value in TOML syntax (`5`, `1.5`, `true`, `"text"`, `[1, 2]`, `{ a = 1 }`), else the raw
/// text as a string (so `--set gateway.venue=binance` needs no quotes).
fn parse_value(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

/// The same decoding error, located: re-decodes the section from its TOML text so the error
/// carries a span, and names the key (with its sub-table) whose value is wrong, e.g.
/// `guard.max_open_positions = "lots": invalid type: string "lots", expected u32`.
pub(crate) fn locate_error<T: serde::de::DeserializeOwned>(v: &toml::Value) -> Option<String> {
    let text = match v {
        toml::Value::Table(t) => toml::to_string(t).ok()?,
        // An array of tables (e.g. [[instruments]]) is written under a key to keep its shape.
        other => {
            let mut t = toml::Table::new();
            t.insert("v".into(), other.clone());
            let text = toml::to_string(&t).ok()?;
            let err = toml::from_str::<std::collections::BTreeMap<String, T>>(&text).err()?;
            return Some(err.message().to_owned());
        }
    };
    let err = toml::from_str::<T>(&text).err()?;
    let Some(span) = err.span() else { return Some(err.message().to_owned()) };
    let before = &text[..span.start.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.start.min(text.len())..].find('\n').map_or(text.len(), |i| span.start + i);
    let line = text[line_start..line_end].trim();
    let header = before[..line_start].lines().rev().find(|l| l.starts_with('[')).map(|h| h.trim_matches(['[', ']']));
    let key = match header {
        Some(h) if !line.starts_with('[') => format!("{h}.{line}"),
        _ => line.to_owned(),
    };
    Some(format!("{key}: {}", err.message()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a failure must stop the test
    use super::*;

    #[test]
    fn tables_merge_and_arrays_replace() {
        let mut base: toml::Table = "a = 1\n[s]\nx = 1\ny = [1, 2]\n[s.t]\nz = 1\n".parse().unwrap();
        merge(&mut base, "[s]\ny = [3]\n[s.t]\nw = 2\n".parse().unwrap());
        let want: toml::Table = "a = 1\n[s]\nx = 1\ny = [3]\n[s.t]\nz = 1\nw = 2\n".parse().unwrap();
        assert_eq!(base, want);
    }

    #[test]
    fn set_parses_toml_values_and_bare_words() {
        let mut t = toml::Table::new();
        for s in ["a.b=5", "a.c = 1.5", "a.d=true", "a.e=binance", "a.f=\"x y\"", "a.g=[1,2]"] {
            apply_set(&mut t, s).unwrap();
        }
        let a = t["a"].as_table().unwrap();
        assert_eq!(a["b"].as_integer(), Some(5));
        assert_eq!(a["c"].as_float(), Some(1.5));
        assert_eq!(a["d"].as_bool(), Some(true));
        assert_eq!(a["e"].as_str(), Some("binance"));
        assert_eq!(a["f"].as_str(), Some("x y"));
        assert_eq!(a["g"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn set_refuses_bad_paths() {
        let mut t: toml::Table = "a = 1".parse().unwrap();
        assert!(apply_set(&mut t, "novalue").unwrap_err().contains("expected section.key=value"));
        assert!(apply_set(&mut t, "x..y=1").unwrap_err().contains("empty part"));
        assert!(apply_set(&mut t, "a.b=1").unwrap_err().contains("a is a integer, not a section"));
    }
}
