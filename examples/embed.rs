//! A Rust model publishing signals into tradeflow in the same process, and a subscriber
//! watching every event copy. Run: `cargo run --release --example embed`.

use std::time::Duration;
use tradeflow::core::{Event, EventKind, Side};
use tradeflow::{Config, PipelineBuilder, SignalSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cfg = Config::embedded_default()?;
    cfg.run.progress = false;
    let mut builder = PipelineBuilder::new(cfg).with_publisher();
    let events = builder.subscribe(1 << 16);
    let mut pipeline = builder.start()?;
    let mut publisher = pipeline.take_publisher().ok_or("publisher requested")?;

    // Wait for the first reference prices, then publish like a model would.
    while pipeline.progress().count(EventKind::MarketTick) == 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    for i in 0..1_000u32 {
        let side = if i % 3 == 0 { Side::Sell } else { Side::Buy };
        let confidence = 0.55 + f64::from(i % 40) / 100.0;
        let spec = SignalSpec::new("BTCUSDT", side, confidence, "15m", "ensemble_v2");
        let trace = publisher.publish_blocking(&spec)?;
        if i == 0 {
            println!("first signal's trace id: {trace}");
        }
    }
    drop(publisher); // end of input: the pipeline drains, flattens and stops
    let report = pipeline.wait();

    let mut closed = 0;
    for copy in events.try_iter() {
        if let Event::PositionClosed(c) = copy.event {
            closed += 1;
            if closed <= 3 {
                println!("closed {} {:?} pnl {:.2} USD", c.header.trace_id, c.exit_reason, c.pnl_usd.to_f64());
            }
        }
    }
    println!(
        "{} signals, {} trades (subscriber saw {closed}), win rate {:.1}%",
        report.signals(),
        report.trades(),
        report.win_rate() * 100.0
    );
    Ok(())
}
