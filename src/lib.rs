//! tradeflow
