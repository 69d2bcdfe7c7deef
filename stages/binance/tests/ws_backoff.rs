#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `Backoff`: exponential growth, cap, full jitter, determinism for a seed.

use std::time::Duration;

use tradeflow_binance::ws::Backoff;

const BASE: Duration = Duration::from_millis(100);
const MAX: Duration = Duration::from_secs(10);

#[test]
fn ceiling_doubles_then_caps() {
    let mut b = Backoff::new(BASE, MAX, 1);
    let mut ceilings = Vec::new();
    for _ in 0..12 {
        ceilings.push(b.ceiling());
        let d = b.next_delay();
        assert!(d <= *ceilings.last().unwrap());
    }
    let ms: Vec<u128> = ceilings.iter().map(Duration::as_millis).collect();
    assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000, 10_000, 10_000]);
    assert_eq!(b.attempt(), 12);
}

#[test]
fn delays_grow_and_never_exceed_the_cap() {
    let mut b = Backoff::new(BASE, MAX, 42);
    let delays: Vec<Duration> = (0..200).map(|_| b.next_delay()).collect();
    assert!(delays.iter().all(|d| *d <= MAX));
    assert!(delays[0] <= BASE);
    // Late attempts draw from [0, MAX]: most of them exceed the first ceiling.
    let late_above_base = delays[20..].iter().filter(|d| **d > BASE).count();
    assert!(late_above_base > 150, "{late_above_base}");
    // Full jitter: late delays spread over the range instead of sitting at the cap.
    let distinct: std::collections::BTreeSet<_> = delays[20..].iter().collect();
    assert!(distinct.len() > 150);
    assert!(delays[20..].iter().any(|d| *d < MAX / 2));
}

#[test]
fn same_seed_same_sequence_other_seed_other_sequence() {
    let seq = |seed| {
        let mut b = Backoff::new(BASE, MAX, seed);
        (0..20).map(|_| b.next_delay()).collect::<Vec<_>>()
    };
    assert_eq!(seq(7), seq(7));
    assert_ne!(seq(7), seq(8));
    assert_eq!(seq(0), seq(0), "a zero seed still works");
}

#[test]
fn reset_starts_from_the_base_again() {
    let mut b = Backoff::new(BASE, MAX, 3);
    for _ in 0..10 {
        b.next_delay();
    }
    assert_eq!(b.ceiling(), MAX);
    b.reset();
    assert_eq!(b.attempt(), 0);
    assert_eq!(b.ceiling(), BASE);
    assert!(b.next_delay() <= BASE);
}

#[test]
fn huge_attempt_counts_do_not_overflow() {
    let mut b = Backoff::new(Duration::from_secs(u64::MAX / 4), Duration::MAX, 9);
    for _ in 0..100 {
        let _ = b.next_delay();
    }
    assert_eq!(b.attempt(), 100);
}
