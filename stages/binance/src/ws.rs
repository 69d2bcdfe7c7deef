//! A non-blocking WebSocket client (TCP via mio, optional TLS via rustls) polled by a stage.
