//! A hashed timing wheel: `SLOTS` buckets of `GRAIN_MS`; an entry further out than one turn
//! waits in its bucket and is put back until its turn comes. Entries are (deadline, id);
//! the owner re-checks the transaction when an entry fires, so stale entries are harmless.

const GRAIN_MS: u64 = 16;
const SLOTS: usize = 1024;

#[derive(Debug)]
pub struct Wheel {
    slots: Vec<Vec<(u64, u64)>>,
    /// The first grain the next advance visits.
    cursor: u64,
    len: usize,
}

impl Wheel {
    pub fn new(now_ms: u64) -> Self {
        Wheel {
            slots: vec![Vec::new(); SLOTS],
            cursor: now_ms / GRAIN_MS,
            len: 0,
        }
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules `id` at `deadline_ms` (a past deadline fires on the next advance).
    pub fn insert(&mut self, deadline_ms: u64, id: u64) {
        let grain = (deadline_ms / GRAIN_MS).max(self.cursor);
        self.slots[grain as usize % SLOTS].push((deadline_ms, id));
        self.len += 1;
    }

    /// Moves time to `now_ms`, appending the ids whose deadline has passed to `due`.
    pub fn advance(&mut self, now_ms: u64, due: &mut Vec<u64>) {
        let until = now_ms / GRAIN_MS;
        // After a long pause one full turn visits every bucket.
        let start = self.cursor.max(until.saturating_sub(SLOTS as u64 - 1));
        let mut g = start;
        while g <= until {
            let slot = &mut self.slots[g as usize % SLOTS];
            let mut i = 0;
            while i < slot.len() {
                if slot[i].0 <= now_ms {
                    due.push(slot.swap_remove(i).1);
                    self.len -= 1;
                } else {
                    i += 1;
                }
            }
            g += 1;
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
}
