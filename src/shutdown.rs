//! Process signals: SIGINT (Ctrl-C), SIGTERM and SIGHUP all ask a command to stop the way
//! Ctrl-C does (a `run` drains, flattens or leaves per `[run] on_end`, prints its summary and
//! exits 0); a second signal while it is stopping ends the process at once.
//!
//! systemd, `docker stop` and Kubernetes stop a service with SIGTERM, a closed terminal sends
//! SIGHUP: treating them like Ctrl-C means none of them skips the drain.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Exit code of a process ended by a second stop signal (128 + SIGINT, the shell's convention).
pub const FORCED_EXIT_CODE: i32 = 130;

/// Installs the process's one stop handler: the first SIGINT / SIGTERM / SIGHUP sets `stop`
/// and calls `on_first`; a second one prints a line on stderr and exits with
/// [`FORCED_EXIT_CODE`] without waiting for the drain. `what` names the command in messages.
pub fn install(
    what: &'static str,
    stop: Arc<AtomicBool>,
    on_first: impl Fn() + Send + 'static,
) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::AcqRel) {
            eprintln!("tradeflow {what}: second stop signal: exiting now without finishing the drain");
            std::process::exit(FORCED_EXIT_CODE);
        }
        eprintln!("tradeflow {what}: stop signal received: stopping (send it again to exit at once)");
        on_first();
    })
}

/// [`install`], logging a warning instead of failing when the handler cannot be installed.
pub fn install_or_warn(what: &'static str, stop: Arc<AtomicBool>) {
    if let Err(e) = install(what, stop, || {}) {
        eprintln!("tradeflow {what}: stop-signal handler not installed ({e}); a signal will kill the process");
    }
}
