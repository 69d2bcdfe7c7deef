//! Where a line-oriented source gets its bytes, without blocking the stage's thread.
//!
//! [`ByteSource`] is the small abstraction every byte-stream source implements:
//! - [`DirectReader`]: blocking reads over any [`std::io::Read`] on the caller's thread (inline
//!   and deterministic runs, tests);
//! - [`RingByteSource`]: the ingress side of a helper thread ([`spawn_reader`]) that reads a
//!   file, stdin or a pipe into an `rtrb` byte ring; reading it never blocks.

use std::fs::File;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest single read the helper thread issues.
const READ_CHUNK: usize = 64 * 1024;

/// What one [`ByteSource::read_into`] call produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// `n > 0` bytes were written to the front of the buffer.
    Data(usize),
    /// Nothing available now; try again later.
    Pending,
    /// The stream ended; no more data will come.
    Eof,
    /// The stream failed; it is reported once, then the source reports [`ReadOutcome::Eof`].
    Error(io::ErrorKind),
}

/// A stream of bytes read in chunks.
pub trait ByteSource: Send {
    /// Copies available bytes into `buf` (which is not empty).
    fn read_into(&mut self, buf: &mut [u8]) -> ReadOutcome;
}

/// Blocking reads on the caller's thread over any reader.
pub struct DirectReader<R> {
    inner: R,
    done: bool,
}

impl<R: Read + Send> DirectReader<R> {
    /// Wraps a reader.
    pub fn new(inner: R) -> DirectReader<R> {
        DirectReader { inner, done: false }
    }
}

impl<R> std::fmt::Debug for DirectReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectReader").field("done", &self.done).finish_non_exhaustive()
    }
}

impl<R: Read + Send> ByteSource for DirectReader<R> {
    fn read_into(&mut self, buf: &mut [u8]) -> ReadOutcome {
        if self.done {
            return ReadOutcome::Eof;
        }
        loop {
            match self.inner.read(buf) {
                Ok(0) => {
                    self.done = true;
                    return ReadOutcome::Eof;
                }
                Ok(n) => return ReadOutcome::Data(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadOutcome::Pending,
                Err(e) => {
                    self.done = true;
                    return ReadOutcome::Error(e.kind());
                }
            }
        }
    }
}

/// What the helper thread tells the ingress side besides the bytes.
#[derive(Debug, Default)]
struct WriterStatus {
    /// Set (Release) after the last byte was pushed, also when the thread unwinds.
    finished: AtomicBool,
    /// The read error that ended the stream, if any (set before `finished`).
    error: OnceLock<io::ErrorKind>,
}

/// Sets `finished` when the helper thread ends, however it ends.
struct FinishGuard(Arc<WriterStatus>);

impl Drop for FinishGuard {
    fn drop(&mut self) {
        self.0.finished.store(true, Ordering::Release);
    }
}

/// The ingress side of a helper-thread reader: drains an `rtrb` byte ring, never blocks.
#[derive(Debug)]
pub struct RingByteSource {
    ring: rtrb::Consumer<u8>,
    status: Arc<WriterStatus>,
    error_reported: bool,
}

impl ByteSource for RingByteSource {
    fn read_into(&mut self, buf: &mut [u8]) -> ReadOutcome {
        // Read `finished` before the ring: a finished writer has pushed everything.
        let finished = self.status.finished.load(Ordering::Acquire);
        let n = self.ring.slots().min(buf.len());
        if n > 0 {
            if let Ok(chunk) = self.ring.read_chunk(n) {
                let (a, b) = chunk.as_slices();
                buf[..a.len()].copy_from_slice(a);
                buf[a.len()..a.len() + b.len()].copy_from_slice(b);
                chunk.commit_all();
                return ReadOutcome::Data(n);
            }
        }
        if !finished {
            return ReadOutcome::Pending;
        }
        match self.status.error.get() {
            Some(kind) if !self.error_reported => {
                self.error_reported = true;
                ReadOutcome::Error(*kind)
            }
            _ => ReadOutcome::Eof,
        }
    }
}

/// Starts a helper thread reading `path` (`"-"` = stdin) into a byte ring of `capacity`
/// bytes. The file is opened here, so a missing file fails now.
pub fn spawn_reader(path: &str, capacity: usize) -> io::Result<(JoinHandle<io::Result<u64>>, RingByteSource)> {
    if path == "-" {
        spawn_reader_from(io::stdin(), capacity)
    } else {
        spawn_reader_from(File::open(path)?, capacity)
    }
}

/// Starts a helper thread reading `reader` (a pipe, a socket …) into a byte ring.
///
/// The thread ends at end of stream, on a read error (reported through the ring source as
/// [`ReadOutcome::Error`] and returned by the handle) or when the [`RingByteSource`] is dropped
/// (noticed between reads: a thread blocked in `read` on stdin stays until input or EOF).
/// The handle returns the number of bytes pushed.
pub fn spawn_reader_from<R: Read + Send + 'static>(
    reader: R,
    capacity: usize,
) -> io::Result<(JoinHandle<io::Result<u64>>, RingByteSource)> {
    let (producer, consumer) = rtrb::RingBuffer::new(capacity.max(1));
    let status = Arc::new(WriterStatus::default());
    let guard = FinishGuard(Arc::clone(&status));
    let handle =
        std::thread::Builder::new().name("ingress-reader".into()).spawn(move || pump(reader, producer, guard))?;
    Ok((handle, RingByteSource { ring: consumer, status, error_reported: false }))
}

/// The helper thread: chunked reads straight into the ring's free space.
fn pump<R: Read>(mut reader: R, mut ring: rtrb::Producer<u8>, guard: FinishGuard) -> io::Result<u64> {
    let mut total = 0u64;
    let mut idle = 0u32;
    loop {
        if ring.is_abandoned() {
            return Ok(total);
        }
        let free = ring.slots().min(READ_CHUNK);
        if free == 0 {
            wait_for_room(&mut idle);
            continue;
        }
        idle = 0;
        let Ok(mut chunk) = ring.write_chunk(free) else { continue };
        let (first, _) = chunk.as_mut_slices();
        match reader.read(first) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                chunk.commit(n);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = guard.0.error.set(e.kind());
                return Err(e);
            }
        }
    }
}

/// Spin briefly, then yield, then sleep: the ring is full because ingress is busy.
fn wait_for_room(idle: &mut u32) {
    *idle = idle.saturating_add(1);
    if *idle < 64 {
        std::hint::spin_loop();
    } else if *idle < 128 {
        std::thread::yield_now();
    } else {
        std::thread::sleep(Duration::from_micros(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(u8);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::new(io::ErrorKind::PermissionDenied, "nope"));
            }
            self.0 -= 1;
            buf[0] = b'x';
            Ok(1)
        }
    }

    fn drain(src: &mut impl ByteSource) -> (Vec<u8>, Vec<ReadOutcome>) {
        let mut out = Vec::new();
        let mut ends = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            match src.read_into(&mut buf) {
                ReadOutcome::Data(n) => out.extend_from_slice(&buf[..n]),
                ReadOutcome::Pending => std::thread::yield_now(),
                other => {
                    ends.push(other);
                    if other == ReadOutcome::Eof {
                        return (out, ends);
                    }
                }
            }
        }
    }

    #[test]
    fn direct_reader_reports_error_once_then_eof() {
        let (data, ends) = drain(&mut DirectReader::new(Failing(3)));
        assert_eq!(data, b"xxx");
        assert_eq!(ends, vec![ReadOutcome::Error(io::ErrorKind::PermissionDenied), ReadOutcome::Eof]);
    }

    #[test]
    fn ring_reader_wraps_around_a_small_ring_and_reports_errors() {
        let input: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let (h, mut src) = spawn_reader_from(io::Cursor::new(input.clone()), 13).unwrap();
        let (data, ends) = drain(&mut src);
        assert_eq!(data, input);
        assert_eq!(ends, vec![ReadOutcome::Eof]);
        assert_eq!(h.join().unwrap().unwrap(), 10_000);

        let (h, mut src) = spawn_reader_from(Failing(5), 4).unwrap();
        let (data, ends) = drain(&mut src);
        assert_eq!(data, b"xxxxx");
        assert_eq!(ends, vec![ReadOutcome::Error(io::ErrorKind::PermissionDenied), ReadOutcome::Eof]);
        assert!(h.join().unwrap().is_err());
    }

    #[test]
    fn missing_file_fails_at_spawn() {
        assert!(spawn_reader("/nonexistent/tradeflow/signals.jsonl", 64).is_err());
    }
}
