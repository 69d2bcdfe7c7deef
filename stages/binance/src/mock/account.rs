//! `v2/account.position`.

use serde_json::{json, Value};

use super::engine::Engine;
use super::events::{unrealized, usdt};
use super::params::{ApiError, Params};

/// `v2/account.position`: open positions (or the one asked for, even if flat).
pub(crate) fn positions(e: &Engine, acct: usize, p: &Params) -> Result<Value, ApiError> {
    p.only(&["symbol"])?;
    let only = match p.text("symbol") {
        Some(s) => Some(e.symbol(&s)?),
        None => None,
    };
    let a = &e.accounts[acct];
    let rows: Vec<Value> = (0..e.symbols.len())
        .filter(|&i| only.map_or(a.positions[i].amt != 0, |o| o == i))
        .map(|i| {
            let (s, pos) = (&e.symbols[i], a.positions[i]);
            let notional = i64::try_from(crate::filters::notional_units(s.price, pos.amt)).unwrap_or(0);
            json!({
                "symbol": s.name, "positionSide": "BOTH", "positionAmt": s.qty(pos.amt),
                "entryPrice": usdt(pos.entry), "breakEvenPrice": usdt(pos.entry),
                "markPrice": crate::filters::format_units(s.price, 8),
                "unRealizedProfit": usdt(unrealized(pos.amt, pos.entry, s.price)),
                "liquidationPrice": "0", "isolatedMargin": "0", "notional": usdt(notional), "marginAsset": "USDT",
                "isolatedWallet": "0", "initialMargin": "0", "maintMargin": "0", "positionInitialMargin": "0",
                "openOrderInitialMargin": "0", "adl": 0, "bidNotional": "0", "askNotional": "0", "updateTime": 0,
            })
        })
        .collect();
    Ok(Value::Array(rows))
}
