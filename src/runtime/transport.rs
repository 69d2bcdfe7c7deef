//! Pluggable trading rings: the stage-to-stage rings of the threaded runtime, behind one small
//! trait so the same stages, runtime loop and measurement points run over three transports.
//!
//! - [`Rtrb`]: the product. A wait-free SPSC ring (`rtrb`); batches are read with one
//!   `read_chunk` and one commit per batch.
//! - [`Crossbeam`]: baseline. `crossbeam_channel::bounded`, `try_send` / `try_recv` batches.
//! - [`Disruptor`]: baseline. One single-producer `disruptor` ring per (producer, consumer)
//!   pair, read through its `EventPoller`. No event handler is ever registered, so the crate
//!   starts no threads of its own; dropping the producer ends the poller's stream.
//!
//! Contract of every transport: allocation only in [`Transport::ring`]; `try_push` never
//! blocks and hands the event back when the ring is full; `read_batch` reads at most `max`
//! events in FIFO order and never blocks. The runtime is generic over [`Transport`]
//! (monomorphized; no `dyn`, no per-event dispatch on the transport).
//!
//! Only the trading rings are pluggable. The copy rings (to the sink thread), the publisher's
//! ring into ingress and the operator's ring into control are always rtrb: they are not on the
//! measured stage-to-stage path.

use disruptor::{BusySpin, EventPoller, Polling, Producer as _};
use disruptor::{SingleConsumerBarrier, SingleProducer, SingleProducerBarrier};
use std::fmt;
use tradeflow_core::{Event, Header, MarketTick, Price};

/// The producer end of a trading ring.
pub trait RingTx: fmt::Debug + Send {
    /// Pushes `ev`, or hands it back when the ring is full. Never blocks.
    #[allow(clippy::result_large_err)] // the event comes back by value, as from rtrb's push; boxing would allocate
    fn try_push(&mut self, ev: Event) -> Result<(), Event>;
}

/// The consumer end of a trading ring.
pub trait RingRx: fmt::Debug + Send {
    /// Calls `f` on up to `max` events, oldest first, and releases their slots. Returns how
    /// many were read. Never blocks.
    fn read_batch<F: FnMut(&Event)>(&mut self, max: usize, f: F) -> usize;

    /// Whether no event is waiting.
    fn is_empty(&self) -> bool;
}

/// A kind of trading ring.
pub trait Transport: fmt::Debug + Send + 'static {
    /// Its name in config and reports.
    const NAME: &'static str;
    /// The producer end.
    type Tx: RingTx;
    /// The consumer end.
    type Rx: RingRx;

    /// A ring holding `capacity` events (a power of two).
    fn ring(capacity: usize) -> (Self::Tx, Self::Rx);
}

/// rtrb SPSC rings (the product).
#[derive(Clone, Copy, Debug, Default)]
pub struct Rtrb;

impl Transport for Rtrb {
    const NAME: &'static str = "rtrb";
    type Tx = rtrb::Producer<Event>;
    type Rx = rtrb::Consumer<Event>;

    fn ring(capacity: usize) -> (Self::Tx, Self::Rx) {
        rtrb::RingBuffer::new(capacity)
    }
}

impl RingTx for rtrb::Producer<Event> {
    #[inline]
    fn try_push(&mut self, ev: Event) -> Result<(), Event> {
        self.push(ev).map_err(|rtrb::PushError::Full(ev)| ev)
    }
}

impl RingRx for rtrb::Consumer<Event> {
    #[inline]
    fn read_batch<F: FnMut(&Event)>(&mut self, max: usize, mut f: F) -> usize {
        let n = self.slots().min(max);
        if n == 0 {
            return 0;
        }
        let Ok(chunk) = self.read_chunk(n) else { return 0 };
        // Events are handed out by reference in place (no copy out of the ring), and the
        // whole batch is committed once.
        let (a, b) = chunk.as_slices();
        a.iter().chain(b).for_each(&mut f);
        chunk.commit_all();
        n
    }

    #[inline]
    fn is_empty(&self) -> bool {
        rtrb::Consumer::is_empty(self)
    }
}

/// crossbeam-channel bounded channels (baseline).
#[derive(Clone, Copy, Debug, Default)]
pub struct Crossbeam;

impl Transport for Crossbeam {
    const NAME: &'static str = "crossbeam";
    type Tx = crossbeam_channel::Sender<Event>;
    type Rx = crossbeam_channel::Receiver<Event>;

    fn ring(capacity: usize) -> (Self::Tx, Self::Rx) {
        crossbeam_channel::bounded(capacity)
    }
}

impl RingTx for crossbeam_channel::Sender<Event> {
    #[inline]
    fn try_push(&mut self, ev: Event) -> Result<(), Event> {
        self.try_send(ev).map_err(crossbeam_channel::TrySendError::into_inner)
    }
}

impl RingRx for crossbeam_channel::Receiver<Event> {
    #[inline]
    fn read_batch<F: FnMut(&Event)>(&mut self, max: usize, mut f: F) -> usize {
        let mut n = 0;
        while n < max {
            let Ok(ev) = self.try_recv() else { break };
            f(&ev);
            n += 1;
        }
        n
    }

    #[inline]
    fn is_empty(&self) -> bool {
        crossbeam_channel::Receiver::is_empty(self)
    }
}

/// `disruptor` single-producer rings read by an event poller (baseline).
#[derive(Clone, Copy, Debug, Default)]
pub struct Disruptor;

impl Transport for Disruptor {
    const NAME: &'static str = "disruptor";
    type Tx = DisruptorTx;
    type Rx = DisruptorRx;

    fn ring(capacity: usize) -> (Self::Tx, Self::Rx) {
        // Slots are overwritten before they are read; the factory only fills the fresh ring.
        let blank = || Event::MarketTick(MarketTick { header: Header::default(), price: Price(0) });
        // The wait strategy applies to managed consumer threads only; there are none here.
        let (poller, builder) = disruptor::build_single_producer(capacity, blank, BusySpin).new_event_poller();
        (DisruptorTx(builder.build()), DisruptorRx(poller))
    }
}

/// The producer end of a [`Disruptor`] ring.
pub struct DisruptorTx(SingleProducer<Event, SingleConsumerBarrier>);

/// The consumer end of a [`Disruptor`] ring.
pub struct DisruptorRx(EventPoller<Event, SingleProducerBarrier>);

impl fmt::Debug for DisruptorTx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DisruptorTx")
    }
}

impl fmt::Debug for DisruptorRx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DisruptorRx").field("has_available", &self.0.has_available()).finish()
    }
}

impl RingTx for DisruptorTx {
    #[inline]
    fn try_push(&mut self, ev: Event) -> Result<(), Event> {
        self.0.try_publish(|slot| *slot = ev).map(|_| ()).map_err(|_| ev)
    }
}

impl RingRx for DisruptorRx {
    #[inline]
    fn read_batch<F: FnMut(&Event)>(&mut self, max: usize, mut f: F) -> usize {
        match self.0.take(max as u64) {
            Ok(mut guard) => {
                let mut n = 0;
                for ev in &mut guard {
                    f(ev);
                    n += 1;
                }
                // Dropping the guard releases the slots, once for the batch.
                n
            }
            Err(Polling::NoEvents | Polling::Shutdown) => 0,
        }
    }

    #[inline]
    fn is_empty(&self) -> bool {
        !self.0.has_available()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure must stop the test

    use super::*;
    use tradeflow_core::{InstrumentIdx, TraceId};

    fn tick(seq: u64) -> Event {
        Event::MarketTick(MarketTick {
            header: Header::origin(seq, TraceId::EMPTY, InstrumentIdx::NONE, seq),
            price: Price(seq as i64),
        })
    }

    fn read_all<R: RingRx>(rx: &mut R, max: usize) -> Vec<u64> {
        let mut seqs = Vec::new();
        let n = rx.read_batch(max, |ev| seqs.push(ev.header().seq));
        assert_eq!(n, seqs.len());
        seqs
    }

    /// Fill to capacity, see the next event handed back, then read in FIFO order in batches.
    fn full_ring_hands_back_then_fifo<T: Transport>() {
        let (mut tx, mut rx) = T::ring(8);
        assert!(rx.is_empty(), "{}", T::NAME);
        assert_eq!(rx.read_batch(8, |_| panic!("empty ring yielded")), 0);
        for seq in 0..8 {
            assert!(tx.try_push(tick(seq)).is_ok(), "{}: push {seq} of 8", T::NAME);
        }
        assert_eq!(tx.try_push(tick(99)), Err(tick(99)), "{}: full ring must hand the event back", T::NAME);
        assert!(!rx.is_empty());
        assert_eq!(read_all(&mut rx, 3), vec![0, 1, 2], "{}", T::NAME);
        // Room again: the next push lands behind the remaining events.
        assert!(tx.try_push(tick(8)).is_ok(), "{}", T::NAME);
        assert_eq!(read_all(&mut rx, 64), vec![3, 4, 5, 6, 7, 8], "{}", T::NAME);
        assert!(rx.is_empty());
        assert_eq!(read_all(&mut rx, 64), Vec::<u64>::new());
    }

    /// Events pushed before the producer is dropped are still read; then the ring is empty.
    fn dropped_producer_drains<T: Transport>() {
        let (mut tx, mut rx) = T::ring(4);
        tx.try_push(tick(1)).unwrap();
        tx.try_push(tick(2)).unwrap();
        drop(tx);
        assert_eq!(read_all(&mut rx, 64), vec![1, 2], "{}", T::NAME);
        assert_eq!(read_all(&mut rx, 64), Vec::<u64>::new(), "{}", T::NAME);
        assert!(rx.is_empty());
        // And the other way round: a producer outliving its consumer drops cleanly.
        let (mut tx, rx) = T::ring(4);
        drop(rx);
        let _ = tx.try_push(tick(3));
        drop(tx);
    }

    #[test]
    fn rtrb_full_ring_hands_back_then_fifo() {
        full_ring_hands_back_then_fifo::<Rtrb>();
        dropped_producer_drains::<Rtrb>();
    }

    #[test]
    fn crossbeam_full_ring_hands_back_then_fifo() {
        full_ring_hands_back_then_fifo::<Crossbeam>();
        dropped_producer_drains::<Crossbeam>();
    }

    #[test]
    fn disruptor_full_ring_hands_back_then_fifo() {
        full_ring_hands_back_then_fifo::<Disruptor>();
        dropped_producer_drains::<Disruptor>();
    }

    #[test]
    fn disruptor_ring_is_read_across_threads() {
        let (mut tx, mut rx) = Disruptor::ring(16);
        let producer = std::thread::spawn(move || {
            for seq in 0..10_000 {
                let mut ev = tick(seq);
                while let Err(back) = tx.try_push(ev) {
                    ev = back;
                    std::thread::yield_now();
                }
            }
        });
        let mut next = 0;
        while next < 10_000 {
            rx.read_batch(7, |ev| {
                assert_eq!(ev.header().seq, next);
                next += 1;
            });
        }
        producer.join().unwrap();
        assert!(rx.is_empty());
    }
}
