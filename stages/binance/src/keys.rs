//! Loading API credentials from the environment or key files.
//!
//! The API key always comes from an environment variable (default `BINANCE_API_KEY`). The
//! secret comes from, in this order:
//!
//! - HMAC: `secret_file` if set, else the `secret_env` variable (default `BINANCE_API_SECRET`);
//! - Ed25519: `private_key_file` (PKCS#8 PEM) if set, else `secret_env` holding the 32-byte
//!   seed as 64 hex digits.
//!
//! Key files must be regular files that neither group nor others may read or write
//! (`chmod 600`); anything else is refused before the file is read. Empty values are refused.
//! Errors name the variable or file, never the secret.
//!
//! ```toml
//! [binance.keys]
//! kind = "ed25519"
//! private_key_file = "/etc/tradeflow/binance-ed25519.pem"
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use ed25519_dalek::SigningKey;
use serde::Deserialize;

use crate::sign::Credentials;

/// The kind of API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// HMAC-SHA256 secret key.
    Hmac,
    /// Ed25519 private key (needed for `session.logon`).
    Ed25519,
}

/// Where credentials come from (configuration section).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// HMAC or Ed25519.
    pub kind: KeyKind,
    /// Environment variable holding the API key.
    #[serde(default = "default_api_key_env")]
    pub api_key_env: String,
    /// Environment variable holding the HMAC secret or the hex Ed25519 seed.
    #[serde(default = "default_secret_env")]
    pub secret_env: Option<String>,
    /// File holding the HMAC secret (takes precedence over `secret_env`).
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// PKCS#8 PEM file holding the Ed25519 private key (takes precedence over `secret_env`).
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
}

fn default_api_key_env() -> String {
    "BINANCE_API_KEY".to_owned()
}

#[allow(clippy::unnecessary_wraps)] // serde `default` must return the field's type
fn default_secret_env() -> Option<String> {
    Some("BINANCE_API_SECRET".to_owned())
}

impl KeySpec {
    /// A spec of `kind` with the default variable names and no files.
    pub fn new(kind: KeyKind) -> KeySpec {
        KeySpec {
            kind,
            api_key_env: default_api_key_env(),
            secret_env: default_secret_env(),
            secret_file: None,
            private_key_file: None,
        }
    }

    /// Where the secret would be read from (for a startup log line; holds no secret).
    pub fn secret_source(&self) -> Result<KeySource, KeyError> {
        let file = match self.kind {
            KeyKind::Hmac => &self.secret_file,
            KeyKind::Ed25519 => &self.private_key_file,
        };
        match (file, &self.secret_env) {
            (Some(path), _) => Ok(KeySource::File(path.clone())),
            (None, Some(var)) => Ok(KeySource::Env(var.clone())),
            (None, None) => Err(KeyError::NoSecretSource),
        }
    }
}

/// Where a secret is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable, by name.
    Env(String),
    /// A key file, by path.
    File(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Env(name) => write!(f, "environment variable {name}"),
            KeySource::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

/// Why credentials could not be loaded. Never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// An environment variable is not set (or not valid UTF-8).
    #[error("environment variable {0} is not set; export it or point the key configuration at a key file")]
    MissingEnv(String),
    /// A variable or file holds an empty value.
    #[error("{0} is empty")]
    Empty(KeySource),
    /// Neither a key file nor a secret variable is configured.
    #[error("no secret configured: set secret_env, secret_file or private_key_file")]
    NoSecretSource,
    /// The key file does not exist.
    #[error("key file {} does not exist", .0.display())]
    NotFound(PathBuf),
    /// The key path is not a regular file.
    #[error("key file {} is not a regular file", .0.display())]
    NotAFile(PathBuf),
    /// The key file is accessible to group or others.
    #[error("key file {} has mode {mode:o}: group/others may access it; run `chmod 600 {}`", path.display(), path.display())]
    Permissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits (`st_mode & 0o7777`).
        mode: u32,
    },
    /// The key file could not be read.
    #[error("cannot read key file {}: {reason}", path.display())]
    Io {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The secret is not a valid key of the configured kind.
    #[error("invalid key in {origin}: {reason}")]
    BadKey {
        /// Where it came from.
        origin: KeySource,
        /// What is wrong (never the key itself).
        reason: String,
    },
}

/// Loads the credentials `spec` describes.
pub fn load_credentials(spec: &KeySpec) -> Result<Credentials, KeyError> {
    let api_key = read_env(&spec.api_key_env)?;
    let source = spec.secret_source()?;
    let secret = match &source {
        KeySource::Env(name) => read_env(name)?,
        KeySource::File(path) => read_key_file(path)?,
    };
    match spec.kind {
        KeyKind::Hmac => Ok(Credentials::Hmac { api_key, secret: secret.trim().as_bytes().to_vec() }),
        KeyKind::Ed25519 => {
            let key = match &source {
                KeySource::File(_) => SigningKey::from_pkcs8_pem(&secret).map_err(|e| KeyError::BadKey {
                    origin: source.clone(),
                    reason: format!("not a PKCS#8 Ed25519 PEM ({e})"),
                })?,
                KeySource::Env(_) => seed_from_hex(secret.trim())
                    .map_err(|reason| KeyError::BadKey { origin: source.clone(), reason })?,
            };
            Ok(Credentials::Ed25519 { api_key, key: Box::new(key) })
        }
    }
}

fn seed_from_hex(hex_seed: &str) -> Result<SigningKey, String> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(hex_seed, &mut seed).map_err(|_| "expected a 32-byte seed as 64 hex digits".to_owned())?;
    Ok(SigningKey::from_bytes(&seed))
}

fn read_env(name: &str) -> Result<String, KeyError> {
    let value = std::env::var(name).map_err(|_| KeyError::MissingEnv(name.to_owned()))?;
    if value.trim().is_empty() {
        return Err(KeyError::Empty(KeySource::Env(name.to_owned())));
    }
    Ok(value.trim().to_owned())
}

/// Reads a key file after checking it is a regular file private to its owner.
pub fn read_key_file(path: &Path) -> Result<String, KeyError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(KeyError::NotFound(path.to_owned())),
        Err(e) => return Err(KeyError::Io { path: path.to_owned(), reason: e.to_string() }),
    };
    if !meta.is_file() {
        return Err(KeyError::NotAFile(path.to_owned()));
    }
    check_private(path, &meta)?;
    let text =
        std::fs::read_to_string(path).map_err(|e| KeyError::Io { path: path.to_owned(), reason: e.to_string() })?;
    if text.trim().is_empty() {
        return Err(KeyError::Empty(KeySource::File(path.to_owned())));
    }
    Ok(text)
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Permissions { path: path.to_owned(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}
