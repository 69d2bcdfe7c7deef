//! A small blocking HTTPS client for startup calls (server time, exchangeInfo, leverage).
