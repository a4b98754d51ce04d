//! A message's htable state: the slots its script locked with `sht_lock`, and its named
//! iterators (`sht_iterator_start` ... `$shtitkey`/`$shtitval`).
//!
//! Kamailio's iterator holds its current slot's lock between calls. sipvm's takes a copy of
//! the slot's item names when it enters a slot and reads each item live, skipping items
//! removed meanwhile, so an iterator never blocks other workers; an item added to a slot it has
//! passed is not seen. Iterators last for one message (Kamailio's, for the process); at most
//! four at a time, named by up to 31 characters, as in Kamailio.

use super::now;
use super::table::Table;
use sipvm_vm::Value;
use std::sync::Arc;

const MAX_ITERATORS: usize = 4;
const MAX_NAME: usize = 31;

#[derive(Debug)]
struct Iter {
    name: String,
    table: Arc<Table>,
    /// The slot being walked (`None` before the first `next`), its names, the next position.
    slot: Option<usize>,
    keys: Vec<Arc<str>>,
    pos: usize,
    current: Option<Arc<str>>,
}

impl Iter {
    /// Moves to the next live item; false at the end.
    fn advance(&mut self) -> bool {
        let now = now();
        loop {
            while self.pos < self.keys.len() {
                let k = self.keys[self.pos].clone();
                self.pos += 1;
                if self.table.get_cell(&k, now).is_some() {
                    self.current = Some(k);
                    return true;
                }
            }
            let next = self.slot.map_or(0, |s| s + 1);
            if next >= self.table.slot_count() {
                self.current = None;
                self.slot = Some(next);
                return false;
            }
            self.slot = Some(next);
            self.keys = self.table.slot_names(next, now);
            self.pos = 0;
        }
    }
}

/// What one message holds in htable.
#[derive(Debug, Default)]
pub struct MsgState {
    /// `(table, slot)` taken by `sht_lock` and not yet released.
    pub locks: Vec<(Arc<Table>, usize)>,
    iters: Vec<Iter>,
}

impl MsgState {
    /// Releases every lock the script left held (Kamailio would keep them).
    pub fn release(&mut self) {
        for (t, slot) in self.locks.drain(..).rev() {
            t.unlock_slot(slot);
        }
        self.iters.clear();
    }

    fn iter(&mut self, name: &str) -> Option<&mut Iter> {
        self.iters.iter_mut().find(|i| i.name == name)
    }

    /// `sht_iterator_start(name, table)`: (re)starts `name` before the table's first item.
    pub fn start(&mut self, name: &str, table: Arc<Table>) -> bool {
        let fresh = Iter {
            name: name.to_string(),
            table,
            slot: None,
            keys: Vec::new(),
            pos: 0,
            current: None,
        };
        if let Some(i) = self.iter(name) {
            *i = fresh;
            return true;
        }
        if self.iters.len() >= MAX_ITERATORS || name.len() > MAX_NAME {
            tracing::error!("sht_iterator_start: no iterator available for [{name}] (at most {MAX_ITERATORS}, names up to {MAX_NAME} characters)");
            return false;
        }
        self.iters.push(fresh);
        true
    }

    /// `sht_iterator_next(name)`: true when it stands on an item.
    pub fn next(&mut self, name: &str) -> bool {
        self.iter(name).is_some_and(Iter::advance)
    }

    /// `sht_iterator_end(name)`.
    pub fn end(&mut self, name: &str) -> bool {
        let before = self.iters.len();
        self.iters.retain(|i| i.name != name);
        self.iters.len() != before
    }

    /// The current item's table and name.
    fn current(&mut self, name: &str) -> Option<(Arc<Table>, Arc<str>)> {
        let i = self.iter(name)?;
        Some((i.table.clone(), i.current.clone()?))
    }

    /// `$shtitkey(name)`.
    pub fn key(&mut self, name: &str) -> Value {
        match self.current(name) {
            Some((_, k)) => Value::Str(Arc::from(&*k)),
            None => Value::Null,
        }
    }

    /// `$shtitval(name)`.
    pub fn value(&mut self, name: &str) -> Value {
        match self.current(name) {
            Some((t, k)) => t.get_cell(&k, now()).map(|c| c.0).unwrap_or(Value::Null),
            None => Value::Null,
        }
    }

    /// `sht_iterator_rm(name)`: removes the current item and moves to the next one, as
    /// Kamailio does: 1 when on an item again, -2 at the end, -1 when not on an item.
    pub fn remove(&mut self, name: &str) -> i64 {
        let Some((t, k)) = self.current(name) else {
            return -1;
        };
        t.delete(&k, now());
        if self.next(name) {
            1
        } else {
            -2
        }
    }

    /// `sht_iterator_sets`/`seti`: sets the current item's value (expiry as an update).
    pub fn set(&mut self, name: &str, v: Value) -> i64 {
        let Some((t, k)) = self.current(name) else {
            return -1;
        };
        t.set(&k, v, 0, now());
        1
    }

    /// `sht_iterator_setex`: the current item expires `secs` from now.
    pub fn set_expire(&mut self, name: &str, secs: i64) -> i64 {
        let Some((t, k)) = self.current(name) else {
            return -1;
        };
        let now = now();
        t.expire_at(&k, now + secs, now);
        1
    }
}
