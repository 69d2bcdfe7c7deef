//! The TCP-source scenario of `tradeflow bench`: a client thread in this process sends reference
//! JSON lines over loopback TCP to the ingress TCP source at a paced rate, each stamped with its
//! send time (`timestamp`, on the pipeline's own clock), and the source runs with
//! `origin = "timestamp"`; so tick-to-order is measured from the moment the client wrote the
//! line to the moment the order was handed to the venue: socket, decode, validation, risk,
//! gateway.
//!
//! By default the client is fire-and-forget (`acks = false`): on a 2-core host the thread that
//! would read 10,000 answers a second competes with the stage threads and shows up in the tail;
//! `--tcp-acks` measures with answers on. Every thread of the scenario yields instead of
//! spinning, and the client sleeps between lines, so the client gets CPU on a small machine.
//! With acks off the count of accepted lines is the number written.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::{client_err, client_friendly, wait_for_signals, Pacing, SignalLines};
use crate::config::Config;
use crate::pipeline::PipelineBuilder;
use crate::report::RunReport;
use crate::runtime::RuntimeError;

/// What the client saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCounts {
    /// Lines written.
    pub sent: u64,
    /// Answers `accepted`.
    pub accepted: u64,
    /// Answers `busy`.
    pub busy: u64,
    /// Answers `rejected`.
    pub rejected: u64,
}

fn err(message: String) -> RuntimeError {
    client_err(message)
}

/// `cfg` with the TCP source on a free loopback port, `origin = "timestamp"`, threads yielding.
fn tcp_config(cfg: &Config, acks: bool) -> Result<(Config, u16), RuntimeError> {
    let mut cfg = client_friendly(cfg);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| err(format!("no free loopback port: {e}")))?
        .port();
    let i = &mut cfg.ingress;
    i.source = tradeflow_ingress::IngressSource::Tcp;
    i.tcp.listen = format!("127.0.0.1:{port}");
    i.tcp.acks = acks;
    i.tcp.origin = tradeflow_ingress::Origin::Timestamp;
    i.tcp.max_rate_per_connection = 0.0;
    Ok((cfg, port))
}

/// Connects to the source (it binds while the pipeline starts).
fn connect(port: u16) -> Result<TcpStream, RuntimeError> {
    let start = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => return Ok(s),
            Err(e) if start.elapsed() > Duration::from_secs(5) => {
                return Err(err(format!("cannot connect to the TCP source on 127.0.0.1:{port}: {e}")))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Runs the pipeline with the TCP source: `signals` lines at `rate`, the first `warmup_s`
/// seconds not recorded; `acks`: the source answers every line and the client reads the
/// answers on a second thread.
pub fn run_tcp(
    cfg: &Config,
    rate: f64,
    signals: u64,
    warmup_s: f64,
    acks: bool,
) -> Result<(RunReport, ClientCounts), RuntimeError> {
    let (cfg, port) = tcp_config(cfg, acks)?;
    let pipeline = PipelineBuilder::new(cfg).warmup(Duration::from_secs_f64(warmup_s)).start()?;
    let mut lines = SignalLines::new(&pipeline, "tcp-bench")?;
    let stream = connect(port)?;
    let _ = stream.set_nodelay(true);
    let reader = stream.try_clone().map_err(|e| err(format!("socket: {e}")))?;
    let answers = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
    let seen = answers.clone();
    let reader = std::thread::Builder::new()
        .name("tf-bench-acks".into())
        .spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                let slot = if line.contains(r#""status":"accepted""#) {
                    0
                } else if line.contains(r#""status":"busy""#) {
                    1
                } else {
                    2
                };
                seen[slot].fetch_add(1, Ordering::Relaxed);
                seen[3].fetch_add(1, Ordering::Release);
            }
        })
        .map_err(|e| err(format!("spawning the ack reader: {e}")))?;

    let mut w = std::io::BufWriter::with_capacity(512, &stream);
    let pacing = Pacing::new(rate);
    let mut sent = 0u64;
    for n in 0..signals {
        pacing.wait(n);
        let line = lines.signal(n);
        if w.write_all(line.as_bytes()).and_then(|()| w.write_all(b"\n")).and_then(|()| w.flush()).is_err() {
            break;
        }
        sent += 1;
    }
    drop(w);
    // Every line answered (or 30 s), then the pipeline drains what it took.
    let wait_from = Instant::now();
    while acks && answers[3].load(Ordering::Acquire) < sent && wait_from.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(2));
    }
    let accepted = if acks { answers[0].load(Ordering::Relaxed) } else { sent };
    wait_for_signals(&pipeline, accepted);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    pipeline.stop();
    let report = pipeline.wait();
    let _ = reader.join();
    let counts = ClientCounts {
        sent,
        accepted,
        busy: answers[1].load(Ordering::Relaxed),
        rejected: answers[2].load(Ordering::Relaxed),
    };
    Ok((report, counts))
}
