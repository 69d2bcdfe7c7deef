//! Schedule-based pacing: item `i` (0-based) is due at `start + i / rate`.
//!
//! Items carry their *intended* time as origin, so a late consumer shows up as latency
//! instead of silently slowing the schedule (no coordinated omission).

/// A fixed-rate schedule, or "as fast as possible" when the rate is 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Pacer {
    ns_per_item: f64,
    start_ns: Option<u64>,
    next: u64,
    last_now_ns: u64,
}

impl Pacer {
    /// A schedule of `rate_per_sec` items per second (0 or less = unpaced).
    pub fn new(rate_per_sec: f64) -> Pacer {
        let ns_per_item = if rate_per_sec > 0.0 && rate_per_sec.is_finite() { 1e9 / rate_per_sec } else { 0.0 };
        Pacer { ns_per_item, start_ns: None, next: 0, last_now_ns: 0 }
    }

    /// Whether items are paced.
    pub fn is_paced(&self) -> bool {
        self.ns_per_item > 0.0
    }

    /// The intended time of the next item if it is due at `now_ns` (the schedule starts at
    /// the first call). Unpaced: always due, at `now_ns`.
    #[inline]
    pub fn due(&mut self, now_ns: u64) -> Option<u64> {
        self.last_now_ns = now_ns;
        let start = *self.start_ns.get_or_insert(now_ns);
        if !self.is_paced() {
            return Some(now_ns);
        }
        let at = self.time_of(start, self.next);
        (at <= now_ns).then_some(at)
    }

    /// Marks the next item as produced.
    #[inline]
    pub fn advance(&mut self) {
        self.next += 1;
    }

    /// Items produced so far.
    pub fn produced(&self) -> u64 {
        self.next
    }

    /// When the next item is due: its scheduled time (paced), the last `now` seen (unpaced),
    /// 0 before the schedule started.
    pub fn next_due_ns(&self) -> u64 {
        match self.start_ns {
            None => 0,
            Some(_) if !self.is_paced() => self.last_now_ns,
            Some(start) => self.time_of(start, self.next),
        }
    }

    #[inline]
    fn time_of(&self, start: u64, i: u64) -> u64 {
        start.saturating_add((i as f64 * self.ns_per_item).round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paced_items_are_due_on_schedule() {
        let mut p = Pacer::new(1000.0); // 1 ms apart
        assert_eq!(p.next_due_ns(), 0);
        assert_eq!(p.due(5_000), Some(5_000));
        p.advance();
        assert_eq!(p.due(1_004_999), None);
        assert_eq!(p.next_due_ns(), 1_005_000);
        assert_eq!(p.due(3_000_000), Some(1_005_000));
        p.advance();
        assert_eq!(p.due(3_000_000), Some(2_005_000));
        p.advance();
        assert_eq!(p.due(3_000_000), None);
        assert_eq!(p.produced(), 3);
    }

    #[test]
    fn unpaced_is_always_due_now() {
        let mut p = Pacer::new(0.0);
        assert!(!p.is_paced());
        assert_eq!(p.due(77), Some(77));
        p.advance();
        assert_eq!(p.due(80), Some(80));
        assert_eq!(p.next_due_ns(), 80);
    }
}
