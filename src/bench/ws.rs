//! The WebSocket-source scenario of `tradeflow bench --ws RATE`: like the TCP scenario
//! ([`super::tcp`]), but one reference signal per WebSocket text frame over loopback to the
//! ingress WebSocket source (fire and forget), each stamped with its send time on the run's
//! clock; the source runs with `origin = "timestamp"`, so tick-to-order is the client's frame
//! write → order handed to the venue (framing and unmasking included).

use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use super::client::{client_err, client_friendly, wait_for_signals, Pacing, SignalLines};
use crate::config::Config;
use crate::pipeline::PipelineBuilder;
use crate::report::RunReport;
use crate::runtime::RuntimeError;

type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

/// Connects to the source (it binds while the pipeline starts; the handshake advances on the
/// ingress thread's polls).
fn connect(port: u16) -> Result<Ws, RuntimeError> {
    let start = Instant::now();
    loop {
        match tungstenite::connect(format!("ws://127.0.0.1:{port}")) {
            Ok((ws, _)) => {
                if let MaybeTlsStream::Plain(s) = ws.get_ref() {
                    let _ = s.set_nodelay(true);
                }
                return Ok(ws);
            }
            Err(e) if start.elapsed() > Duration::from_secs(5) => {
                return Err(client_err(format!("cannot connect to the WebSocket source on 127.0.0.1:{port}: {e}")))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Runs the pipeline with the WebSocket source: `signals` frames at `rate`, the first
/// `warmup_s` seconds not recorded.
pub fn run_ws(cfg: &Config, rate: f64, signals: u64, warmup_s: f64) -> Result<RunReport, RuntimeError> {
    let mut cfg = client_friendly(cfg);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| client_err(format!("no free loopback port: {e}")))?
        .port();
    let w = &mut cfg.ingress.ws;
    w.listen = format!("127.0.0.1:{port}");
    w.acks = false;
    w.origin = tradeflow_ingress::Origin::Timestamp;
    w.max_rate_per_connection = 0.0;
    cfg.ingress.source = tradeflow_ingress::IngressSource::Ws;
    let pipeline = PipelineBuilder::new(cfg).warmup(Duration::from_secs_f64(warmup_s)).start()?;
    let mut lines = SignalLines::new(&pipeline, "ws-bench")?;
    let mut ws = connect(port)?;
    let pacing = Pacing::new(rate);
    let mut sent = 0u64;
    for n in 0..signals {
        pacing.wait(n);
        if ws.send(Message::text(lines.signal(n))).is_err() {
            break;
        }
        sent += 1;
    }
    wait_for_signals(&pipeline, sent);
    let _ = ws.close(None);
    let _ = ws.flush();
    pipeline.stop();
    Ok(pipeline.wait())
}
