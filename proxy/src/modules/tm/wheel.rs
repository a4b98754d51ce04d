//! A hashed timing wheel: `SLOTS` buckets of `GRAIN_MS`; an entry further out than one turn
//! waits in its bucket and is looked at again each turn until it is due. Entries are
//! (deadline, id); the owner re-checks the transaction when an entry fires, so stale entries
//! are harmless.
//!
//! Buckets are intrusive lists threaded through one entry vector with a free list, so the
//! wheel makes no allocation per bucket: per-bucket vectors allocated during a burst were
//! scattered through the heap and kept the allocator from returning its memory afterwards.

const GRAIN_MS: u64 = 16;
const SLOTS: usize = 1024;
const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Entry {
    deadline: u64,
    id: u64,
    next: u32,
}

#[derive(Debug)]
pub struct Wheel {
    heads: Box<[u32]>,
    entries: Vec<Entry>,
    /// Head of the list of unused entries.
    free: u32,
    /// The first grain the next advance visits.
    cursor: u64,
    len: usize,
}

impl Wheel {
    pub fn new(now_ms: u64) -> Self {
        Wheel {
            heads: vec![NIL; SLOTS].into_boxed_slice(),
            entries: Vec::new(),
            free: NIL,
            cursor: now_ms / GRAIN_MS,
            len: 0,
        }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Gives back the entry vector when nothing is scheduled.
    pub fn shrink_if_empty(&mut self) {
        if self.len == 0 {
            self.heads.fill(NIL);
            self.entries = Vec::new();
            self.free = NIL;
        }
    }

    /// Schedules `id` at `deadline_ms` (a past deadline fires on the next advance).
    pub fn insert(&mut self, deadline_ms: u64, id: u64) {
        let grain = (deadline_ms / GRAIN_MS).max(self.cursor);
        let slot = grain as usize % SLOTS;
        let e = Entry {
            deadline: deadline_ms,
            id,
            next: self.heads[slot],
        };
        let ix = if self.free != NIL {
            let ix = self.free;
            self.free = self.entries[ix as usize].next;
            self.entries[ix as usize] = e;
            ix
        } else {
            self.entries.push(e);
            (self.entries.len() - 1) as u32
        };
        self.heads[slot] = ix;
        self.len += 1;
    }

    /// Moves time to `now_ms`, appending the ids whose deadline has passed to `due`.
    pub fn advance(&mut self, now_ms: u64, due: &mut Vec<u64>) {
        let until = now_ms / GRAIN_MS;
        // After a long pause one full turn visits every bucket.
        let start = self.cursor.max(until.saturating_sub(SLOTS as u64 - 1));
        for g in start..=until {
            let slot = g as usize % SLOTS;
            let mut prev = NIL;
            let mut ix = self.heads[slot];
            while ix != NIL {
                let e = self.entries[ix as usize];
                if e.deadline <= now_ms {
                    due.push(e.id);
                    if prev == NIL {
                        self.heads[slot] = e.next;
                    } else {
                        self.entries[prev as usize].next = e.next;
                    }
                    self.entries[ix as usize].next = self.free;
                    self.free = ix;
                    self.len -= 1;
                } else {
                    prev = ix;
                }
                ix = e.next;
            }
        }
        // The current grain is visited again next time: entries due later in it wait there.
        self.cursor = until;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_order_of_time_not_before() {
        let mut w = Wheel::new(0);
        w.insert(100, 1);
        w.insert(40, 2);
        w.insert(100_000, 3); // several turns away
        let mut due = Vec::new();
        w.advance(39, &mut due);
        assert!(due.is_empty());
        w.advance(40, &mut due);
        assert_eq!(due, vec![2]);
        due.clear();
        w.advance(99, &mut due);
        assert!(due.is_empty());
        w.advance(101, &mut due);
        assert_eq!(due, vec![1]);
        due.clear();
        for t in (200..100_000).step_by(500) {
            w.advance(t, &mut due);
        }
        assert!(due.is_empty(), "fired early: {due:?}");
        w.advance(100_000, &mut due);
        assert_eq!(due, vec![3]);
        assert!(w.is_empty());
    }

    #[test]
    fn past_deadlines_fire_next_and_long_pauses_lose_nothing() {
        let mut w = Wheel::new(1_000);
        w.insert(5, 7);
        for i in 0..50 {
            w.insert(1_000 + i * 300, 100 + i);
        }
        let mut due = Vec::new();
        w.advance(1_000_000, &mut due);
        due.sort();
        assert_eq!(due.len(), 51);
        assert_eq!(due[0], 7);
    }

    #[test]
    fn entries_are_reused_and_lists_stay_intact() {
        let mut w = Wheel::new(0);
        let mut due = Vec::new();
        for round in 0..10u64 {
            for i in 0..100u64 {
                // Same bucket, interleaved deadlines: unlinking from the middle of a list.
                w.insert(round * 10_000 + 1_000 + (i % 2) * 8, round * 100 + i);
            }
            w.advance(round * 10_000 + 1_000, &mut due);
            assert_eq!(due.len(), 50, "round {round}");
            due.clear();
            w.advance(round * 10_000 + 1_008, &mut due);
            assert_eq!(due.len(), 50, "round {round}");
            due.clear();
        }
        assert!(w.is_empty());
        assert!(
            w.entries.len() <= 100,
            "entries reused: {}",
            w.entries.len()
        );
    }
}
