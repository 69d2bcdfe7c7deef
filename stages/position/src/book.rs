//! [`Book`]: the fixed-capacity table of open positions.
//!
//! Slots live in one preallocated `Vec`; a [`SeqIndex`] finds a slot by the entry's seq.
//! Each slot is on two intrusive doubly linked lists: its instrument's (so a tick visits only
//! that instrument's positions) and the age list (open order, so max-hold deadlines and sweeps
//! walk oldest first). Per-instrument sums (net and gross quantity, net entry cost) give
//! unrealized PnL and exposure without visiting positions. Cursors into the age list (used by
//! sweeps that span several polls) are moved on when the slot under them is removed.
//! Open positions not closing are also indexed in [`Triggers`] by their SL/TP levels and
//! max-hold deadline; every change of a position's closing mark or flatten reason goes through
//! the book so the index stays exact.

use tradeflow_core::{ExitReason, Header, InstrumentIdx, Leverage, ModelIdx, Price, Qty, Side, Usd, SCALE};

use crate::index::{InsertError, SeqIndex};
use crate::triggers::Triggers;

/// "No slot".
pub(crate) const NIL: u32 = u32::MAX;

/// An open position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Position {
    /// The entry fill's header (seq, trace id, instrument, origin).
    pub entry: Header,
    pub entry_price: Price,
    pub qty: Qty,
    /// Stop-loss trigger, or zero when the position has none.
    pub stop_loss: Price,
    /// Take-profit trigger, or zero when the position has none.
    pub take_profit: Price,
    pub entry_commission: Usd,
    pub opened_ns: u64,
    /// The least favourable price seen while open.
    pub worst_price: Price,
    pub confidence: f32,
    pub leverage: Leverage,
    pub model: ModelIdx,
    pub side: Side,
    /// An exit has been requested and not answered.
    pub closing: bool,
    /// Set by a flatten: the reason any (re)tried exit uses.
    pub forced: Option<ExitReason>,
}

impl Position {
    fn vacant() -> Position {
        Position {
            entry: Header::default(),
            entry_price: Price::ZERO,
            qty: Qty::ZERO,
            stop_loss: Price::ZERO,
            take_profit: Price::ZERO,
            entry_commission: Usd::ZERO,
            opened_ns: 0,
            worst_price: Price::ZERO,
            confidence: 0.0,
            leverage: Leverage::ONE,
            model: ModelIdx::NONE,
            side: Side::Buy,
            closing: false,
            forced: None,
        }
    }

    /// Entry notional.
    #[inline]
    pub fn entry_notional(&self) -> Usd {
        self.entry_price.notional(self.qty)
    }

    /// Notes `price` as the worst seen if it is less favourable than any before.
    #[inline]
    pub fn track(&mut self, price: Price) {
        let worse = match self.side {
            Side::Buy => price < self.worst_price,
            Side::Sell => price > self.worst_price,
        };
        if worse {
            self.worst_price = price;
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Links {
    inst_prev: u32,
    inst_next: u32,
    age_prev: u32,
    age_next: u32,
}

const UNLINKED: Links = Links { inst_prev: NIL, inst_next: NIL, age_prev: NIL, age_next: NIL };

/// Per-instrument list head and sums (i128 fixed-point units).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InstrumentSums {
    head: u32,
    /// The oldest position on the instrument (its list runs newest to oldest).
    tail: u32,
    /// Σ side × qty.
    pub net_qty: i128,
    /// Σ side × entry notional.
    pub net_cost: i128,
    /// Σ qty.
    pub gross_qty: i128,
}

/// Sweeps that keep a place in the age list between polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cursor {
    /// The `position.updated` sweep.
    Update = 0,
    /// A flatten (kill switch or shutdown).
    Flatten = 1,
}

/// The position table.
#[derive(Debug)]
pub(crate) struct Book {
    slots: Vec<Position>,
    links: Vec<Links>,
    /// Free slots, chained through `links.inst_next`.
    free_head: u32,
    index: SeqIndex,
    instruments: Vec<InstrumentSums>,
    age_head: u32,
    age_tail: u32,
    len: usize,
    closing: usize,
    cursors: [u32; 2],
    triggers: Triggers,
    /// Max hold (0 = none), for the deadline index.
    max_hold_ns: u64,
}

impl Book {
    /// A table of `capacity` slots for `instruments` instruments (all allocated now).
    pub fn with_capacity(capacity: usize, instruments: usize) -> Book {
        let mut links = vec![UNLINKED; capacity];
        for (i, l) in links.iter_mut().enumerate() {
            l.inst_next = if i + 1 < capacity { (i + 1) as u32 } else { NIL };
        }
        Book {
            slots: vec![Position::vacant(); capacity],
            links,
            free_head: if capacity > 0 { 0 } else { NIL },
            index: SeqIndex::with_capacity(capacity),
            instruments: vec![InstrumentSums { head: NIL, tail: NIL, ..InstrumentSums::default() }; instruments],
            age_head: NIL,
            age_tail: NIL,
            len: 0,
            closing: 0,
            cursors: [NIL; 2],
            triggers: Triggers::with_capacity(capacity, instruments),
            max_hold_ns: 0,
        }
    }

    /// Sets the max hold the deadline index uses (before any position opens).
    pub fn set_max_hold_ns(&mut self, max_hold_ns: u64) {
        self.max_hold_ns = max_hold_ns;
    }

    /// Indexes slot `s` by its trigger keys, [below, above, deadline] (see [`Triggers`]).
    fn arm(&mut self, s: u32) {
        let p = &self.slots[s as usize];
        let level = |v: Price| (v.units() > 0).then_some(v.units());
        let (below, above) = match p.side {
            Side::Buy => (level(p.stop_loss), level(p.take_profit)),
            Side::Sell => (level(p.take_profit), level(p.stop_loss)),
        };
        let deadline = match p.forced {
            Some(_) => Some(i64::MIN),
            None => (self.max_hold_ns > 0)
                .then(|| i64::try_from(p.opened_ns.saturating_add(self.max_hold_ns)).unwrap_or(i64::MAX)),
        };
        let inst = p.entry.instrument.get();
        self.triggers.insert(inst, s, [below.map(|v| -v), above, deadline]);
    }

    fn disarm(&mut self, s: u32) {
        let inst = self.slots[s as usize].entry.instrument.get();
        self.triggers.remove(inst, s);
    }

    /// A position on `inst`, not closing, whose exit triggers at `price` and `now_ns` (SL, TP,
    /// max hold or a flatten's reason), if any.
    #[inline]
    pub fn triggered(&self, inst: InstrumentIdx, price: Price, now_ns: u64) -> Option<u32> {
        let now = i64::try_from(now_ns).unwrap_or(i64::MAX);
        self.triggers.triggered(inst.get(), [-price.units(), price.units(), now])
    }

    /// Sets the flatten reason of slot `s` (any later exit of it uses that reason).
    pub fn set_forced(&mut self, s: u32, reason: ExitReason) {
        self.slots[s as usize].forced = Some(reason);
        if !self.slots[s as usize].closing {
            self.disarm(s);
            self.arm(s);
        }
    }

    /// The oldest position on instrument `inst`, or [`NIL`].
    #[inline]
    pub fn inst_oldest(&self, inst: InstrumentIdx) -> u32 {
        self.instruments.get(inst.get()).map_or(NIL, |i| i.tail)
    }

    /// Open positions.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Open positions with an exit in flight.
    #[inline]
    pub fn closing(&self) -> usize {
        self.closing
    }

    /// Stores a new position (its instrument must be in range); returns its slot.
    pub fn open(&mut self, pos: Position) -> Result<u32, InsertError> {
        let s = self.free_head;
        if s == NIL {
            return Err(InsertError::Full);
        }
        self.index.insert(pos.entry.seq, s)?;
        self.free_head = self.links[s as usize].inst_next;
        self.slots[s as usize] = pos;
        self.link(s);
        self.len += 1;
        self.closing += usize::from(pos.closing);
        if !pos.closing {
            self.arm(s);
        }
        Ok(s)
    }

    fn link(&mut self, s: u32) {
        let inst = self.slots[s as usize].entry.instrument.get();
        let head = self.instruments[inst].head;
        self.links[s as usize] = Links { inst_prev: NIL, inst_next: head, age_prev: self.age_tail, age_next: NIL };
        if head != NIL {
            self.links[head as usize].inst_prev = s;
        } else {
            self.instruments[inst].tail = s;
        }
        self.instruments[inst].head = s;
        match self.age_tail {
            NIL => self.age_head = s,
            t => self.links[t as usize].age_next = s,
        }
        self.age_tail = s;
        self.add_sums(s, 1);
    }

    fn add_sums(&mut self, s: u32, sign: i128) {
        let p = &self.slots[s as usize];
        let q = i128::from(p.qty.units());
        let dir = i128::from(p.side.sign());
        let cost = i128::from(p.entry_notional().units());
        let sums = &mut self.instruments[p.entry.instrument.get()];
        sums.net_qty += sign * dir * q;
        sums.net_cost += sign * dir * cost;
        sums.gross_qty += sign * q;
    }

    /// The slot of the position opened by seq `seq`.
    #[inline]
    pub fn find(&self, seq: u64) -> Option<u32> {
        self.index.get(seq)
    }

    /// The position in slot `s`.
    #[inline]
    pub fn get(&self, s: u32) -> &Position {
        &self.slots[s as usize]
    }

    /// The position in slot `s`, mutably (use [`Book::set_closing`] for the closing mark).
    #[inline]
    pub fn get_mut(&mut self, s: u32) -> &mut Position {
        &mut self.slots[s as usize]
    }

    /// Sets or clears the closing mark of slot `s`, keeping the count.
    pub fn set_closing(&mut self, s: u32, closing: bool) {
        let p = &mut self.slots[s as usize];
        if p.closing != closing {
            p.closing = closing;
            if closing {
                self.closing += 1;
                self.disarm(s);
            } else {
                self.closing -= 1;
                self.arm(s);
            }
        }
    }

    /// Removes slot `s` and returns its position.
    pub fn remove(&mut self, s: u32) -> Position {
        let l = self.links[s as usize];
        for c in &mut self.cursors {
            if *c == s {
                *c = l.age_next;
            }
        }
        self.add_sums(s, -1);
        self.disarm(s);
        let pos = self.slots[s as usize];
        let inst = pos.entry.instrument.get();
        match l.inst_prev {
            NIL => self.instruments[inst].head = l.inst_next,
            p => self.links[p as usize].inst_next = l.inst_next,
        }
        match l.inst_next {
            NIL => self.instruments[inst].tail = l.inst_prev,
            n => self.links[n as usize].inst_prev = l.inst_prev,
        }
        match l.age_prev {
            NIL => self.age_head = l.age_next,
            p => self.links[p as usize].age_next = l.age_next,
        }
        match l.age_next {
            NIL => self.age_tail = l.age_prev,
            n => self.links[n as usize].age_prev = l.age_prev,
        }
        self.index.remove(pos.entry.seq);
        self.links[s as usize] = Links { inst_next: self.free_head, ..UNLINKED };
        self.free_head = s;
        self.len -= 1;
        self.closing -= usize::from(pos.closing);
        pos
    }

    /// The first position on instrument `inst` (any order), or [`NIL`].
    #[inline]
    pub fn inst_first(&self, inst: InstrumentIdx) -> u32 {
        self.instruments.get(inst.get()).map_or(NIL, |i| i.head)
    }

    /// The next position on the same instrument as `s`, or [`NIL`].
    #[inline]
    pub fn inst_next(&self, s: u32) -> u32 {
        self.links[s as usize].inst_next
    }

    /// The oldest open position, or [`NIL`].
    #[inline]
    pub fn age_first(&self) -> u32 {
        self.age_head
    }

    /// The next younger position after `s`, or [`NIL`].
    #[inline]
    pub fn age_next(&self, s: u32) -> u32 {
        self.links[s as usize].age_next
    }

    /// Where sweep `c` stands.
    #[inline]
    pub fn cursor(&self, c: Cursor) -> u32 {
        self.cursors[c as usize]
    }

    /// Moves sweep `c` to slot `s` (or [`NIL`]).
    #[inline]
    pub fn set_cursor(&mut self, c: Cursor, s: u32) {
        self.cursors[c as usize] = s;
    }

    /// The sums of every instrument, by index.
    #[inline]
    pub fn sums(&self) -> &[InstrumentSums] {
        &self.instruments
    }
}

/// Unrealized PnL (before exit fees) of `sums` at `mark`, in USD units.
#[inline]
pub(crate) fn unrealized_units(sums: &InstrumentSums, mark: Price) -> i128 {
    i128::from(mark.units()) * sums.net_qty / i128::from(SCALE) - sums.net_cost
}

/// Exposure of `sums` at `mark`, in USD units.
#[inline]
pub(crate) fn exposure_units(sums: &InstrumentSums, mark: Price) -> i128 {
    i128::from(mark.units()) * sums.gross_qty / i128::from(SCALE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pos(seq: u64, inst: u32, side: Side, price: i64, qty: i64) -> Position {
        let mut p = Position::vacant();
        p.entry.seq = seq;
        p.entry.instrument = InstrumentIdx(inst);
        p.side = side;
        p.entry_price = Price(price * SCALE);
        p.qty = Qty(qty * SCALE);
        p
    }

    fn inst_seqs(b: &Book, inst: u32) -> Vec<u64> {
        let mut v = Vec::new();
        let mut s = b.inst_first(InstrumentIdx(inst));
        while s != NIL {
            v.push(b.get(s).entry.seq);
            s = b.inst_next(s);
        }
        v.sort_unstable();
        v
    }

    fn age_seqs(b: &Book) -> Vec<u64> {
        let mut v = Vec::new();
        let mut s = b.age_first();
        while s != NIL {
            v.push(b.get(s).entry.seq);
            s = b.age_next(s);
        }
        v
    }

    #[test]
    fn open_find_remove_and_full() {
        let mut b = Book::with_capacity(2, 2);
        let a = b.open(pos(1, 0, Side::Buy, 100, 1)).unwrap();
        assert_eq!(b.open(pos(1, 1, Side::Buy, 100, 1)), Err(InsertError::Duplicate));
        b.open(pos(2, 1, Side::Sell, 50, 2)).unwrap();
        assert_eq!(b.open(pos(3, 1, Side::Sell, 50, 2)), Err(InsertError::Full));
        assert_eq!(b.find(1), Some(a));
        assert_eq!(b.remove(a).entry.seq, 1);
        assert_eq!(b.find(1), None);
        assert_eq!(b.len(), 1);
        b.open(pos(3, 0, Side::Sell, 50, 2)).unwrap();
        assert_eq!(age_seqs(&b), [2, 3]);
    }

    #[test]
    fn sums_give_unrealized_and_exposure() {
        let mut b = Book::with_capacity(4, 1);
        b.open(pos(1, 0, Side::Buy, 100, 2)).unwrap();
        let s = b.open(pos(2, 0, Side::Sell, 110, 1)).unwrap();
        let sums = b.sums()[0];
        // at mark 105: long 2 @100 makes +10, short 1 @110 makes +5
        assert_eq!(unrealized_units(&sums, Price(105 * SCALE)), i128::from(15 * SCALE));
        assert_eq!(exposure_units(&sums, Price(105 * SCALE)), i128::from(315 * SCALE));
        b.remove(s);
        b.remove(b.find(1).unwrap());
        let sums = b.sums()[0];
        assert_eq!((sums.net_qty, sums.net_cost, sums.gross_qty), (0, 0, 0));
    }

    #[test]
    fn cursor_moves_on_when_its_slot_is_removed() {
        let mut b = Book::with_capacity(4, 1);
        let s1 = b.open(pos(1, 0, Side::Buy, 1, 1)).unwrap();
        let s2 = b.open(pos(2, 0, Side::Buy, 1, 1)).unwrap();
        b.set_cursor(Cursor::Update, s1);
        b.remove(s1);
        assert_eq!(b.cursor(Cursor::Update), s2);
        b.remove(s2);
        assert_eq!(b.cursor(Cursor::Update), NIL);
    }

    #[test]
    fn closing_count_follows_marks_and_removal() {
        let mut b = Book::with_capacity(4, 1);
        let s = b.open(pos(1, 0, Side::Buy, 1, 1)).unwrap();
        b.set_closing(s, true);
        b.set_closing(s, true);
        assert_eq!(b.closing(), 1);
        b.remove(s);
        assert_eq!(b.closing(), 0);
    }

    proptest! {
        #[test]
        fn lists_match_a_model(ops in proptest::collection::vec((any::<bool>(), 0u64..24, 0u32..3), 0..200)) {
            let mut b = Book::with_capacity(16, 3);
            let mut model: Vec<(u64, u32)> = Vec::new(); // open order
            for (open, seq, inst) in ops {
                if open {
                    let r = b.open(pos(seq, inst, Side::Buy, 1, 1));
                    if model.iter().any(|m| m.0 == seq) || model.len() == 16 {
                        prop_assert!(r.is_err());
                    } else {
                        prop_assert!(r.is_ok());
                        model.push((seq, inst));
                    }
                } else if let Some(s) = b.find(seq) {
                    b.remove(s);
                    model.retain(|m| m.0 != seq);
                }
                prop_assert_eq!(age_seqs(&b), model.iter().map(|m| m.0).collect::<Vec<_>>());
                for i in 0..3 {
                    let mut want: Vec<u64> = model.iter().filter(|m| m.1 == i).map(|m| m.0).collect();
                    want.sort_unstable();
                    prop_assert_eq!(inst_seqs(&b, i), want);
                }
            }
        }
    }
}
