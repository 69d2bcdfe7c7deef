//! Binance USDⓈ-M futures protocol for tradeflow: request signing (HMAC-SHA256, Ed25519),
//! request building, exchange filters in integer arithmetic, deterministic client order ids,
//! the non-blocking WebSocket client the gateway and market stages poll, a small REST client
//! for startup calls, and `mock`, a local exchange that speaks the same protocol.
//!
//! - Thread: the client pieces run on the thread of the stage that polls them (never block);
//!   the mock exchange runs its own threads.
//! - Allocation: [`request::RequestWriter`] reuses its buffers; socket frames allocate.

#![forbid(unsafe_code)]

pub mod client_id;
pub mod codec;
pub mod filters;
pub mod keys;
pub mod mock;
pub mod request;
pub mod rest;
pub mod sign;
pub mod ws;
