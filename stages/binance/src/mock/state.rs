//! State shared by every thread of one mock exchange, and the background price thread.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::config::MockConfig;
use super::engine::Engine;
use super::fault::{Fault, FaultBook};
use super::hub::Hub;
use super::limits::RateLimiter;

/// Locks a mutex, carrying on with the data if another thread panicked while holding it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch by the wall clock.
pub(crate) fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Everything the listener, connection and price threads share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub cfg: MockConfig,
    pub engine: Mutex<Engine>,
    pub hub: Hub,
    pub limiter: Mutex<RateLimiter>,
    pub faults: Mutex<FaultBook>,
    pub skew_ms: AtomicI64,
    pub shutdown: AtomicBool,
    /// Bumped by `disconnect_all`: connections opened in an older epoch close.
    pub epoch: AtomicU64,
    pub threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    pub fn new(cfg: MockConfig) -> std::io::Result<Shared> {
        let engine = Engine::new(&cfg)?;
        Ok(Shared {
            engine: Mutex::new(engine),
            hub: Hub::default(),
            limiter: Mutex::new(RateLimiter::new(cfg.limits)),
            faults: Mutex::new(FaultBook::default()),
            skew_ms: AtomicI64::new(cfg.clock_skew_ms),
            shutdown: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            threads: Mutex::new(Vec::new()),
            cfg,
        })
    }

    /// The server's clock: wall clock plus the configured skew.
    pub fn now_ms(&self) -> i64 {
        wall_ms().saturating_add(self.skew_ms.load(Ordering::Relaxed))
    }

    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Runs `f` on the engine, then sends the pushes it produced (still under the lock, so
    /// every subscriber sees events in one order).
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine, i64) -> R) -> R {
        let mut e = lock(&self.engine);
        let now = self.now_ms();
        let r = f(&mut e, now);
        let pushes = std::mem::take(&mut e.pushes);
        self.hub.publish(&e, pushes, now);
        r
    }

    /// Queues a fault (`drop_user_stream` acts at once).
    pub fn inject(&self, fault: Fault, method: &str, count: u32) {
        if fault == Fault::DropUserStream {
            self.hub.close_user_streams();
            return;
        }
        lock(&self.faults).push(fault, method, count);
    }

    /// Sets a price (decimal text) and runs matching; `false` for an unknown symbol or bad price.
    pub fn set_price(&self, symbol: &str, price: &str) -> bool {
        let Ok(units) = crate::filters::parse_units(price) else { return false };
        if units <= 0 {
            return false;
        }
        self.with_engine(|e, now| match e.symbol(symbol) {
            Ok(sym) => {
                e.apply_price(sym, units, now);
                true
            }
            Err(_) => false,
        })
    }

    /// Closes every WebSocket connection.
    pub fn disconnect_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Keeps a thread handle to join at shutdown (and forgets finished ones).
    pub fn track(&self, h: JoinHandle<()>) {
        let mut t = lock(&self.threads);
        t.retain(|h| !h.is_finished());
        t.push(h);
    }
}

/// The price thread: random-walk steps every `price_step_ms`, listenKey expiry.
pub(crate) fn run_ticker(shared: &Shared) {
    let step = Duration::from_millis(shared.cfg.price_step_ms);
    let tick = if step.is_zero() { Duration::from_millis(20) } else { step.min(Duration::from_millis(20)) };
    let mut next_step = Instant::now() + step;
    while !shared.is_shutdown() {
        std::thread::sleep(tick);
        let walk = !step.is_zero() && Instant::now() >= next_step;
        if walk {
            next_step += step;
        }
        shared.with_engine(|e, now| {
            if walk {
                e.step_prices(now);
            }
            e.expire_listen_keys(now);
        });
    }
}
