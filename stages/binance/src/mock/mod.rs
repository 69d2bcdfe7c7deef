//! A local mock of the Binance USDⓈ-M futures WebSocket API, REST calls and streams.
