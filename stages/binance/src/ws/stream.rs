//! The byte stream under the WebSocket: plain TCP or TLS over TCP, both non-blocking, and the
//! rustls client configuration (webpki roots plus an optional extra root for tests).

use std::fmt;
use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// TLS over a non-blocking TCP socket.
pub(crate) type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// A non-blocking byte stream: reads and writes return `WouldBlock` instead of waiting.
pub(crate) enum Stream {
    /// `ws://`.
    Plain(TcpStream),
    /// `wss://`; boxed because the rustls state is large.
    Tls(Box<TlsStream>),
}

impl Stream {
    /// Best effort: queue a TLS `close_notify` and try once to write it out.
    pub(crate) fn shutdown_best_effort(&mut self) {
        match self {
            Stream::Plain(sock) => {
                let _ = sock.shutdown(std::net::Shutdown::Write);
            }
            Stream::Tls(tls) => {
                tls.conn.send_close_notify();
                let _ = tls.conn.write_tls(&mut tls.sock);
                let _ = tls.sock.shutdown(std::net::Shutdown::Write);
            }
        }
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stream::Plain(_) => f.write_str("Stream::Plain"),
            Stream::Tls(_) => f.write_str("Stream::Tls"),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Whether a non-blocking connect has completed: `Ok(true)` connected, `Ok(false)` still in
/// progress, `Err` failed (refused, unreachable, …). Follows the recipe of the mio docs:
/// `take_error` first, then `peer_addr`. Any `peer_addr` error without a pending socket error
/// counts as "in progress" (`ENOTCONN`, `EINPROGRESS`); the connect timeout bounds the wait.
pub(crate) fn tcp_connected(sock: &TcpStream) -> Result<bool, String> {
    match sock.take_error() {
        Ok(Some(e)) | Err(e) => return Err(e.to_string()),
        Ok(None) => {}
    }
    Ok(sock.peer_addr().is_ok())
}

/// The rustls client configuration: Mozilla's roots (webpki-roots) plus every certificate in
/// `extra_root_pem`, ring as the crypto provider, TLS 1.2 and 1.3.
pub(crate) fn tls_config(extra_root_pem: Option<&[u8]>) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(pem) = extra_root_pem {
        let mut added = 0usize;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("extra root PEM: {e}"))?;
            roots.add(cert).map_err(|e| format!("extra root certificate: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("extra root PEM holds no certificate".to_owned());
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The TLS server name (SNI and certificate check) for a URL host: a DNS name or an IP literal
/// (brackets already removed).
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_owned()).map_err(|e| format!("server name {host:?}: {e}"))
}

/// Starts TLS over a connected socket; the handshake is driven by [`drive_tls_handshake`].
pub(crate) fn start_tls(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    sock: TcpStream,
) -> Result<Box<TlsStream>, String> {
    let conn = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    Ok(Box::new(StreamOwned::new(conn, sock)))
}

/// Moves the TLS handshake forward without blocking. `Ok(true)` once it is complete.
pub(crate) fn drive_tls_handshake(tls: &mut TlsStream) -> Result<bool, String> {
    match tls.conn.complete_io(&mut tls.sock) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e.to_string()),
    }
    Ok(!tls.conn.is_handshaking())
}
