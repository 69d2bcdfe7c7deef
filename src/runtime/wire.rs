//! Wiring: one trading ring per (producer, consumer) pair from the static routing table, on
//! the run's [`Transport`]; one copy ring per stage and the external rings of the publisher and
//! operator handles, always rtrb.

use super::outbox::Outbox;
use super::threaded::{InputRing, Slot};
use super::transport::Transport;
use super::{AnyStage, InputFrom};
use crate::config::{Config, ThreadConfig};
use tradeflow_core::*;

/// The rings and slots of a threaded run, ready to spawn.
#[derive(Debug)]
pub struct Wired<T: Transport> {
    /// Per configured thread: its config and its stage slots.
    pub threads: Vec<(ThreadConfig, Vec<Slot<T>>)>,
    /// Consumer ends of the copy rings, by emitting stage.
    pub copies: Vec<(StageId, rtrb::Consumer<Event>)>,
    /// The publisher's producer end (into ingress).
    pub publisher: Option<rtrb::Producer<Event>>,
    /// The operator's producer end (into control).
    pub operator: rtrb::Producer<Event>,
}

/// Wires `stages` (in [`StageId`] order) per the config's topology, with trading rings of
/// transport `T`. Latency samples whose origin is before `record_from_ns` (a warm-up) are not
/// recorded.
pub fn wire<T: Transport>(
    cfg: &Config,
    stages: Vec<AnyStage>,
    clock: &MonoClock,
    with_copies: bool,
    with_publisher: bool,
    record_from_ns: u64,
) -> Wired<T> {
    let t = &cfg.topology;
    let mut outs: Vec<Outbox<T>> = StageId::ALL
        .iter()
        .map(|&id| {
            let latency = LatencyRecorder::with_warmup(id, record_from_ns);
            Outbox::new(id, clock.clone(), t.copy_policy, t.ring_capacity, t.backpressure_alert_ms, latency)
        })
        .collect();
    let mut inputs: Vec<Vec<InputRing<T::Rx>>> = StageId::ALL.iter().map(|_| Vec::new()).collect();
    let mut external: Vec<Vec<InputRing<rtrb::Consumer<Event>>>> = StageId::ALL.iter().map(|_| Vec::new()).collect();
    for producer in StageId::ALL {
        for consumer in StageId::ALL {
            let kinds: Vec<EventKind> =
                emits(producer).iter().copied().filter(|k| k.consumers().contains(&consumer)).collect();
            if kinds.is_empty() {
                continue;
            }
            let (p, c) = T::ring(t.ring_capacity);
            outs[producer.get()].add_ring(p, &kinds);
            inputs[consumer.get()].push(InputRing { from: InputFrom::Stage(producer), consumer: c });
        }
    }
    let mut copies = Vec::new();
    if with_copies {
        for producer in StageId::ALL {
            if emits(producer).iter().any(|k| k.is_external()) {
                let (p, c) = rtrb::RingBuffer::new(t.copy_ring_capacity);
                outs[producer.get()].set_copy(p);
                copies.push((producer, c));
            }
        }
    }
    // Reference prices are read before anything else each turn, so a decision uses the freshest
    // price available (and a signal never overtakes the tick that was published before it).
    for list in &mut inputs {
        list.sort_by_key(|i| i.from != InputFrom::Stage(StageId::Market));
    }
    let publisher = with_publisher.then(|| {
        let (p, c) = rtrb::RingBuffer::new(t.ring_capacity);
        external[StageId::Ingress.get()].push(InputRing { from: InputFrom::Publisher, consumer: c });
        p
    });
    let (operator, op_c) = rtrb::RingBuffer::new(64);
    external[StageId::Control.get()].push(InputRing { from: InputFrom::Operator, consumer: op_c });

    let mut slots: Vec<Option<Slot<T>>> = stages
        .into_iter()
        .zip(outs)
        .zip(inputs)
        .zip(external)
        .map(|(((stage, out), inputs), external)| Some(Slot { stage, inputs, external, out, consumed: 0 }))
        .collect();
    let threads = t
        .threads
        .iter()
        .map(|th| {
            let mine = th
                .stages
                .iter()
                .filter_map(|name| StageId::from_name(name))
                .filter_map(|id| slots.get_mut(id.get()).and_then(Option::take))
                .collect();
            (th.clone(), mine)
        })
        .collect();
    Wired { threads, copies, publisher, operator }
}
