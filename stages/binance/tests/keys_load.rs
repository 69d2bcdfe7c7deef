#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Loading credentials from environment variables and key files.
//!
//! Every test uses its own environment variable names and its own temp files (removed on drop).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::SigningKey;
use tradeflow_binance::keys::{load_credentials, KeyError, KeyKind, KeySource, KeySpec};
use tradeflow_binance::sign::{verify_ed25519, verify_hmac, Credentials};

const HMAC_SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

/// A temp file removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(test: &str, contents: &[u8], mode: u32) -> TempFile {
        let path = std::env::temp_dir().join(format!("tradeflow-keys-{}-{test}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A spec whose variables are unique to `test`; sets the API key variable.
fn spec(kind: KeyKind, test: &str) -> KeySpec {
    let api_key_env = format!("TRADEFLOW_TEST_{test}_API_KEY");
    std::env::set_var(&api_key_env, "my-api-key");
    KeySpec { api_key_env, secret_env: Some(format!("TRADEFLOW_TEST_{test}_SECRET")), ..KeySpec::new(kind) }
}

fn secret_env(spec: &KeySpec) -> &str {
    spec.secret_env.as_deref().unwrap()
}

fn assert_no_secret(e: &KeyError, secret: &str) {
    assert!(!e.to_string().contains(secret), "{e}");
    assert!(!format!("{e:?}").contains(secret), "{e:?}");
}

#[test]
fn hmac_secret_from_env() {
    let s = spec(KeyKind::Hmac, "HMAC_ENV");
    std::env::set_var(secret_env(&s), HMAC_SECRET);
    let c = load_credentials(&s).unwrap();
    assert_eq!(c.api_key(), "my-api-key");
    let sig = c.sign(b"timestamp=1");
    assert!(verify_hmac(HMAC_SECRET.as_bytes(), b"timestamp=1", &sig));
}

#[test]
fn hmac_secret_from_a_private_file_wins_over_env() {
    let f = TempFile::new("hmac-ok", format!("{HMAC_SECRET}\n").as_bytes(), 0o600);
    let mut s = spec(KeyKind::Hmac, "HMAC_FILE");
    std::env::set_var(secret_env(&s), "env-secret-not-used");
    s.secret_file = Some(f.path().to_owned());
    assert_eq!(s.secret_source().unwrap(), KeySource::File(f.path().to_owned()));
    let c = load_credentials(&s).unwrap();
    let Credentials::Hmac { secret, .. } = &c else { panic!("hmac expected") };
    assert_eq!(secret, HMAC_SECRET.as_bytes(), "trailing newline trimmed");
}

#[test]
fn owner_read_only_file_is_accepted() {
    let f = TempFile::new("hmac-0400", HMAC_SECRET.as_bytes(), 0o400);
    let s = KeySpec { secret_file: Some(f.path().to_owned()), ..spec(KeyKind::Hmac, "HMAC_0400") };
    assert!(load_credentials(&s).is_ok());
}

#[test]
fn world_readable_file_is_refused() {
    let f = TempFile::new("hmac-0644", HMAC_SECRET.as_bytes(), 0o644);
    let s = KeySpec { secret_file: Some(f.path().to_owned()), ..spec(KeyKind::Hmac, "HMAC_0644") };
    let e = load_credentials(&s).unwrap_err();
    assert_eq!(e, KeyError::Permissions { path: f.path().to_owned(), mode: 0o644 });
    assert!(e.to_string().contains("chmod 600"), "{e}");
    assert_no_secret(&e, HMAC_SECRET);
}

#[test]
fn group_readable_file_is_refused() {
    let f = TempFile::new("hmac-0640", HMAC_SECRET.as_bytes(), 0o640);
    let s = KeySpec { secret_file: Some(f.path().to_owned()), ..spec(KeyKind::Hmac, "HMAC_0640") };
    assert!(matches!(load_credentials(&s), Err(KeyError::Permissions { mode: 0o640, .. })));
}

#[test]
fn group_writable_file_is_refused() {
    let f = TempFile::new("hmac-0620", HMAC_SECRET.as_bytes(), 0o620);
    let s = KeySpec { secret_file: Some(f.path().to_owned()), ..spec(KeyKind::Hmac, "HMAC_0620") };
    assert!(matches!(load_credentials(&s), Err(KeyError::Permissions { mode: 0o620, .. })));
}

#[test]
fn missing_file_and_directory_are_refused() {
    let missing = std::env::temp_dir().join(format!("tradeflow-keys-{}-missing", std::process::id()));
    let s = KeySpec { secret_file: Some(missing.clone()), ..spec(KeyKind::Hmac, "MISSING_FILE") };
    assert_eq!(load_credentials(&s).unwrap_err(), KeyError::NotFound(missing));
    let dir = std::env::temp_dir();
    let s = KeySpec { secret_file: Some(dir.clone()), ..spec(KeyKind::Hmac, "DIR_FILE") };
    assert_eq!(load_credentials(&s).unwrap_err(), KeyError::NotAFile(dir));
}

#[test]
fn missing_env_vars_are_named() {
    let s = KeySpec {
        api_key_env: "TRADEFLOW_TEST_MISSING_API_KEY".into(),
        secret_env: Some("TRADEFLOW_TEST_MISSING_SECRET".into()),
        ..KeySpec::new(KeyKind::Hmac)
    };
    let e = load_credentials(&s).unwrap_err();
    assert_eq!(e, KeyError::MissingEnv("TRADEFLOW_TEST_MISSING_API_KEY".into()));
    assert!(e.to_string().contains("TRADEFLOW_TEST_MISSING_API_KEY is not set"), "{e}");
    let s = spec(KeyKind::Hmac, "MISSING_SECRET");
    assert_eq!(load_credentials(&s).unwrap_err(), KeyError::MissingEnv("TRADEFLOW_TEST_MISSING_SECRET_SECRET".into()));
}

#[test]
fn empty_values_are_refused() {
    let s = spec(KeyKind::Hmac, "EMPTY_ENV");
    std::env::set_var(secret_env(&s), "  ");
    assert_eq!(load_credentials(&s).unwrap_err(), KeyError::Empty(KeySource::Env(secret_env(&s).to_owned())));
    let f = TempFile::new("empty", b"\n", 0o600);
    let s = KeySpec { secret_file: Some(f.path().to_owned()), ..spec(KeyKind::Hmac, "EMPTY_FILE") };
    assert_eq!(load_credentials(&s).unwrap_err(), KeyError::Empty(KeySource::File(f.path().to_owned())));
    let s = KeySpec { secret_env: None, ..spec(KeyKind::Hmac, "NO_SOURCE") };
    assert_eq!(load_credentials(&s).unwrap_err(), KeyError::NoSecretSource);
}

#[test]
fn ed25519_pem_round_trip() {
    let key = SigningKey::from_bytes(&[11u8; 32]);
    let pem = key.to_pkcs8_pem(Default::default()).unwrap();
    let f = TempFile::new("ed25519-ok.pem", pem.as_bytes(), 0o600);
    let s = KeySpec { private_key_file: Some(f.path().to_owned()), ..spec(KeyKind::Ed25519, "ED_PEM") };
    let c = load_credentials(&s).unwrap();
    assert!(c.supports_logon());
    assert_eq!(c.verifying_key().unwrap(), key.verifying_key());
    let sig = c.sign(b"apiKey=my-api-key&timestamp=1");
    assert!(verify_ed25519(&key.verifying_key(), b"apiKey=my-api-key&timestamp=1", &sig));
}

#[test]
fn ed25519_hex_seed_from_env() {
    let s = spec(KeyKind::Ed25519, "ED_HEX");
    std::env::set_var(secret_env(&s), hex::encode([12u8; 32]));
    let c = load_credentials(&s).unwrap();
    assert_eq!(c.verifying_key().unwrap(), SigningKey::from_bytes(&[12u8; 32]).verifying_key());
    std::env::set_var(secret_env(&s), "abcd");
    let e = load_credentials(&s).unwrap_err();
    assert!(matches!(e, KeyError::BadKey { .. }), "{e:?}");
    assert_no_secret(&e, "abcd");
}

#[test]
fn bad_pem_is_refused_without_echoing_it() {
    let junk = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END PRIVATE KEY-----\n";
    let f = TempFile::new("ed25519-bad.pem", junk.as_bytes(), 0o600);
    let s = KeySpec { private_key_file: Some(f.path().to_owned()), ..spec(KeyKind::Ed25519, "ED_BAD") };
    let e = load_credentials(&s).unwrap_err();
    let KeyError::BadKey { origin, .. } = &e else { panic!("{e:?}") };
    assert_eq!(origin, &KeySource::File(f.path().to_owned()));
    assert_no_secret(&e, "c2VjcmV0LWJ1dC1ub3QtYS1rZXk=");
}

#[test]
fn world_readable_pem_is_refused() {
    let pem = SigningKey::from_bytes(&[13u8; 32]).to_pkcs8_pem(Default::default()).unwrap();
    let f = TempFile::new("ed25519-0604.pem", pem.as_bytes(), 0o604);
    let s = KeySpec { private_key_file: Some(f.path().to_owned()), ..spec(KeyKind::Ed25519, "ED_0604") };
    assert!(matches!(load_credentials(&s), Err(KeyError::Permissions { mode: 0o604, .. })));
}

#[test]
fn spec_deserializes_with_defaults_and_denies_unknown_fields() {
    let s: KeySpec = serde_json::from_str(r#"{"kind":"ed25519","private_key_file":"/k.pem"}"#).unwrap();
    assert_eq!(s.kind, KeyKind::Ed25519);
    assert_eq!(s.api_key_env, "BINANCE_API_KEY");
    assert_eq!(s.secret_env.as_deref(), Some("BINANCE_API_SECRET"));
    assert_eq!(s.private_key_file, Some(PathBuf::from("/k.pem")));
    assert_eq!(s, KeySpec { private_key_file: Some("/k.pem".into()), ..KeySpec::new(KeyKind::Ed25519) });
    assert!(serde_json::from_str::<KeySpec>(r#"{"kind":"hmac","secret":"x"}"#).is_err());
    assert!(serde_json::from_str::<KeySpec>(r#"{"kind":"rsa"}"#).is_err());
}
