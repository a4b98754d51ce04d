//! One hash table: `2^size` slots, each a mutex over its items kept in Kamailio's order (by
//! hash, then insertion), so `htable.dump` lists slots and items as Kamailio does.
//!
//! A slot also carries an owner for `sht_lock`: the script's lock and the unlock are separate
//! native calls, so the owner is a thread id, and the owning thread passes through (Kamailio's
//! per-process recursive slot lock) while every other access to the slot waits.
//!
//! Times are Unix seconds given by the caller, so tests inject them. An item's `expire` is an
//! absolute time, 0 for never; an expired item is invisible to every read and removed when
//! met (lazily), by slot-wide operations, and by `sweep`.

use super::def::TableDef;
use regex::Regex;
use sipvm_vm::Value;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;

/// Kamailio's `core_case_hash(s, 0, 0)`: the cell id, whose low bits pick the slot. Bytes are
/// C `char` (signed), ASCII letters folded to lower case.
pub fn core_case_hash(s: &[u8]) -> u32 {
    let c = |b: u8| -> u32 {
        let b = if b.is_ascii_uppercase() { b | 0x20 } else { b };
        b as i8 as i32 as u32
    };
    let mut h: u32 = 0;
    let mut chunks = s.chunks_exact(4);
    for p in &mut chunks {
        let v = (c(p[0]) << 24)
            .wrapping_add(c(p[1]) << 16)
            .wrapping_add(c(p[2]) << 8)
            .wrapping_add(c(p[3]));
        h = h.wrapping_add(v ^ (v >> 3));
    }
    let mut v: u32 = 0;
    for &b in chunks.remainder() {
        v = (v << 8).wrapping_add(c(b));
    }
    h = h.wrapping_add(v ^ (v >> 3));
    h.wrapping_add(h >> 11)
        .wrapping_add((h >> 13).wrapping_add(h >> 23))
}

/// Kamailio's values are C `int`s.
pub fn w32(n: i64) -> i64 {
    n as i32 as i64
}

/// One item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub hash: u32,
    pub name: Arc<str>,
    /// `Int` or `Str`, never `Null`.
    pub value: Value,
    /// Absolute Unix time, 0: never.
    pub expire: i64,
}

impl Cell {
    fn expired(&self, now: i64) -> bool {
        self.expire != 0 && self.expire < now
    }
}

#[derive(Debug, Default)]
struct SlotState {
    /// The thread holding `sht_lock` on this slot, and how many times it took it.
    owner: Option<ThreadId>,
    depth: u32,
    cells: Vec<Cell>,
}

#[derive(Debug, Default)]
struct Slot {
    m: Mutex<SlotState>,
    cv: Condvar,
}

/// What `$shtcn`/`$shtcv` match with (Kamailio's prefixes: `~~` regex, `~%` ends with, `%~`
/// starts with, `==` equals, `eq` integer equals, `**` everything; none: a regex).
#[derive(Debug, Clone)]
pub enum CountOp<'a> {
    Re(Regex),
    EndsWith(&'a str),
    StartsWith(&'a str),
    Eq(&'a str),
    IntEq(i64),
    All,
    /// A bad pattern or an operator that cannot match (`eq` on names): counts 0.
    Nothing,
}

/// The match operators of `sht_match_name`/`sht_rm_name` and friends.
#[derive(Debug, Clone)]
pub enum MatchOp<'a> {
    Eq(&'a str),
    Ne(&'a str),
    Re(Regex),
    StartsWith(&'a str),
}

impl MatchOp<'_> {
    fn hit(&self, s: &str) -> bool {
        match self {
            MatchOp::Eq(v) => s == *v,
            MatchOp::Ne(v) => s != *v,
            MatchOp::Re(r) => r.is_match(s),
            MatchOp::StartsWith(v) => s.starts_with(v),
        }
    }
}

/// Which part of an item a match looks at; by value, only string values take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Name,
    Value,
}

fn subject(c: &Cell, by: By) -> Option<&str> {
    match (by, &c.value) {
        (By::Name, _) => Some(&c.name),
        (By::Value, Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// A table: its definition and its slots.
#[derive(Debug)]
pub struct Table {
    pub def: TableDef,
    slots: Box<[Slot]>,
}

impl Table {
    pub fn new(def: TableDef) -> Table {
        let slots = (0..def.slots).map(|_| Slot::default()).collect();
        Table { def, slots }
    }

    pub fn name(&self) -> &str {
        &self.def.name
    }

    pub fn slot_count(&self) -> usize {
        self.slots.len()
    }

    /// The slot index of `name`.
    pub fn slot_of(&self, name: &str) -> usize {
        core_case_hash(name.as_bytes()) as usize & (self.slots.len() - 1)
    }

    /// The slot's items, waiting while another thread holds it with `sht_lock`.
    fn enter(&self, idx: usize) -> MutexGuard<'_, SlotState> {
        let slot = &self.slots[idx];
        let mut g = slot.m.lock().unwrap_or_else(PoisonError::into_inner);
        if g.owner.is_some() {
            let me = std::thread::current().id();
            while g.owner.is_some_and(|o| o != me) {
                g = slot.cv.wait(g).unwrap_or_else(PoisonError::into_inner);
            }
        }
        g
    }

    /// `sht_lock`: takes slot `idx` for this thread (recursively).
    pub fn lock_slot(&self, idx: usize) {
        let mut g = self.enter(idx);
        g.owner = Some(std::thread::current().id());
        g.depth += 1;
    }

    /// `sht_unlock`; false when this thread did not hold the slot.
    pub fn unlock_slot(&self, idx: usize) -> bool {
        let slot = &self.slots[idx];
        let mut g = slot.m.lock().unwrap_or_else(PoisonError::into_inner);
        if g.owner != Some(std::thread::current().id()) {
            return false;
        }
        g.depth -= 1;
        if g.depth == 0 {
            g.owner = None;
            slot.cv.notify_all();
        }
        true
    }

    /// Runs `f` on the slot of `name` with the name's hash.
    fn with_key<R>(&self, name: &str, f: impl FnOnce(&mut Vec<Cell>, u32) -> R) -> R {
        let hash = core_case_hash(name.as_bytes());
        let mut g = self.enter(hash as usize & (self.slots.len() - 1));
        f(&mut g.cells, hash)
    }

    /// Runs `f` on every slot in turn, expired items removed first.
    fn each_slot(&self, now: i64, mut f: impl FnMut(usize, &mut Vec<Cell>)) {
        for i in 0..self.slots.len() {
            let mut g = self.enter(i);
            g.cells.retain(|c| !c.expired(now));
            f(i, &mut g.cells);
        }
    }

    /// Where `name` is in a slot, an expired item removed (and `None`).
    fn find(cells: &mut Vec<Cell>, hash: u32, name: &str, now: i64) -> Option<usize> {
        let i = cells
            .iter()
            .position(|c| c.hash == hash && &*c.name == name)?;
        if cells[i].expired(now) {
            cells.remove(i);
            return None;
        }
        Some(i)
    }

    /// Inserts after every item with a hash not above `hash` (Kamailio's order); where.
    fn insert(cells: &mut Vec<Cell>, cell: Cell) -> usize {
        let at = cells.partition_point(|c| c.hash <= cell.hash);
        cells.insert(at, cell);
        at
    }

    /// Runs `f` on the live item `name`; a missing one is first inserted with the value
    /// `start` and the table's autoexpire (none, and no `f`, without a `start`).
    fn upsert<R>(
        &self,
        name: &str,
        now: i64,
        start: Option<Value>,
        f: impl FnOnce(&mut Cell) -> R,
    ) -> Option<R> {
        let auto = self.auto_expire(now);
        self.with_key(name, |cells, hash| {
            let i = match Self::find(cells, hash, name, now) {
                Some(i) => i,
                None => {
                    let cell = Cell {
                        hash,
                        name: Arc::from(name),
                        value: start?,
                        expire: auto,
                    };
                    Self::insert(cells, cell)
                }
            };
            Some(f(&mut cells[i]))
        })
    }

    fn auto_expire(&self, now: i64) -> i64 {
        if self.def.autoexpire > 0 {
            now + i64::from(self.def.autoexpire)
        } else {
            0
        }
    }

    /// The item: value and expire time.
    pub fn get_cell(&self, name: &str, now: i64) -> Option<(Value, i64)> {
        self.with_key(name, |cells, h| {
            Self::find(cells, h, name, now).map(|i| (cells[i].value.clone(), cells[i].expire))
        })
    }

    /// `$sht(t=>k)`: the value, else `initval`, else null.
    pub fn get(&self, name: &str, now: i64) -> Value {
        match self.get_cell(name, now) {
            Some((v, _)) => v,
            None => self.def.initval.map(Value::Int).unwrap_or(Value::Null),
        }
    }

    /// Sets an item (`v` an integer or a string). `exv > 0` sets its expiry to `now + exv`;
    /// otherwise a new item gets the table's autoexpire and an update restarts it only with
    /// `updateexpire`.
    pub fn set(&self, name: &str, v: Value, exv: i64, now: i64) {
        let v = match v {
            Value::Int(n) => Value::Int(w32(n)),
            Value::Null => Value::str(""),
            s => s,
        };
        let auto = self.auto_expire(now);
        let updateexpire = self.def.updateexpire;
        self.upsert(name, now, Some(Value::Null), |c| {
            c.value = v;
            if exv > 0 {
                c.expire = now + exv;
            } else if updateexpire {
                c.expire = auto;
            }
        });
    }

    /// Removes an item; whether it was there.
    pub fn delete(&self, name: &str, now: i64) -> bool {
        self.with_key(name, |cells, h| match Self::find(cells, h, name, now) {
            Some(i) => {
                cells.remove(i);
                true
            }
            None => false,
        })
    }

    /// `$shtinc`/`$shtdec`: adds `delta` atomically and returns the new value. A missing (or
    /// expired) item starts from `initval`; without one, or on a string item, nothing changes
    /// and the result is `None` (Kamailio's `$null`).
    pub fn add(&self, name: &str, delta: i64, now: i64) -> Option<i64> {
        let auto = self.auto_expire(now);
        let updateexpire = self.def.updateexpire;
        let start = self.def.initval.map(Value::Int);
        self.upsert(name, now, start, |c| {
            let Value::Int(n) = c.value else {
                return None;
            };
            let n = w32(n + delta);
            c.value = Value::Int(n);
            if updateexpire {
                c.expire = auto;
            }
            Some(n)
        })
        .flatten()
    }

    /// `$shtex(t=>k)`: seconds until the item expires; 0 when it never does, is missing, or
    /// the table has no autoexpire.
    pub fn expire_in(&self, name: &str, now: i64) -> i64 {
        if self.def.autoexpire == 0 {
            return 0;
        }
        match self.get_cell(name, now) {
            Some((_, e)) if e != 0 => (e - now).max(0),
            _ => 0,
        }
    }

    /// `$shtex(t=>k) = secs`: expires the item `secs` from now (`<= 0`: never). Ignored on a
    /// table without autoexpire, as in Kamailio.
    pub fn set_expire(&self, name: &str, secs: i64, now: i64) {
        if self.def.autoexpire == 0 {
            return;
        }
        self.with_key(name, |cells, h| {
            if let Some(i) = Self::find(cells, h, name, now) {
                cells[i].expire = if secs > 0 { now + secs } else { 0 };
            }
        });
    }

    /// Sets the item's absolute expiry (`sht_iterator_setex`), whatever the table's autoexpire.
    pub fn expire_at(&self, name: &str, at: i64, now: i64) {
        self.with_key(name, |cells, h| {
            if let Some(i) = Self::find(cells, h, name, now) {
                cells[i].expire = at;
            }
        });
    }

    /// The names of slot `idx`'s live items, in order.
    pub fn slot_names(&self, idx: usize, now: i64) -> Vec<Arc<str>> {
        let mut g = self.enter(idx);
        g.cells.retain(|c| !c.expired(now));
        g.cells.iter().map(|c| c.name.clone()).collect()
    }

    /// Removes the items whose name (or string value) matches; how many.
    pub fn remove_matching(&self, by: By, op: &MatchOp<'_>, now: i64) -> usize {
        let mut n = 0;
        self.each_slot(now, |_, cells| {
            let before = cells.len();
            cells.retain(|c| !subject(c, by).is_some_and(|s| op.hit(s)));
            n += before - cells.len();
        });
        n
    }

    /// Whether any item's name (or string value) matches.
    pub fn any_matching(&self, by: By, op: &MatchOp<'_>, now: i64) -> bool {
        let mut hit = false;
        self.each_slot(now, |_, cells| {
            hit = hit
                || cells
                    .iter()
                    .any(|c| subject(c, by).is_some_and(|s| op.hit(s)));
        });
        hit
    }

    /// `$shtcn`/`$shtcv`.
    pub fn count(&self, by: By, op: &CountOp<'_>, now: i64) -> i64 {
        let mut n = 0i64;
        self.each_slot(now, |_, cells| {
            for c in cells.iter() {
                let hit = match op {
                    CountOp::All => true,
                    CountOp::Nothing => false,
                    CountOp::IntEq(want) => by == By::Value && c.value == Value::Int(*want),
                    op => match subject(c, by) {
                        None => false,
                        Some(s) => match op {
                            CountOp::Re(r) => r.is_match(s),
                            CountOp::EndsWith(v) => s.ends_with(v),
                            CountOp::StartsWith(v) => s.starts_with(v),
                            CountOp::Eq(v) => s == *v,
                            _ => false,
                        },
                    },
                };
                n += i64::from(hit);
            }
        });
        n
    }

    /// `sht_reset` / `htable.flush`.
    pub fn reset(&self) {
        for i in 0..self.slots.len() {
            self.enter(i).cells.clear();
        }
    }

    /// Replaces the whole content (a reload): slot by slot, each swap under its lock.
    pub fn replace(&self, cells: Vec<(String, Value, i64)>) {
        let mut fresh: Vec<Vec<Cell>> = (0..self.slots.len()).map(|_| Vec::new()).collect();
        for (name, value, expire) in cells {
            let hash = core_case_hash(name.as_bytes());
            let slot = &mut fresh[hash as usize & (self.slots.len() - 1)];
            if let Some(c) = slot.iter_mut().find(|c| *c.name == *name) {
                c.value = value;
                c.expire = expire;
            } else {
                Self::insert(
                    slot,
                    Cell {
                        hash,
                        name: Arc::from(name.as_str()),
                        value,
                        expire,
                    },
                );
            }
        }
        for (i, cells) in fresh.into_iter().enumerate() {
            self.enter(i).cells = cells;
        }
    }

    /// The non-empty slots with their live items, in slot order.
    pub fn dump(&self, now: i64) -> Vec<(usize, Vec<Cell>)> {
        let mut out = Vec::new();
        self.each_slot(now, |i, cells| {
            if !cells.is_empty() {
                out.push((i, cells.clone()));
            }
        });
        out
    }

    /// `htable.stats`: (all items, fewest in a slot, most in a slot).
    pub fn stats(&self, now: i64) -> (usize, usize, usize) {
        let (mut all, mut min, mut max) = (0, usize::MAX, 0);
        self.each_slot(now, |_, cells| {
            all += cells.len();
            min = min.min(cells.len());
            max = max.max(cells.len());
        });
        (all, if min == usize::MAX { 0 } else { min }, max)
    }

    /// Removes every expired item; how many.
    pub fn sweep(&self, now: i64) -> usize {
        let mut n = 0;
        for i in 0..self.slots.len() {
            let mut g = self.enter(i);
            let before = g.cells.len();
            g.cells.retain(|c| !c.expired(now));
            n += before - g.cells.len();
        }
        n
    }
}

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
