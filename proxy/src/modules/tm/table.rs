//! Transactions (RFC 3261 §17) for the stateful proxy: a table sharded by hash, timers on a
//! wheel per shard, and a core driven by events (request, reply, timer) with the time passed
//! in, so tests can run it on simulated time. See docs/modules/tm.md.
//!
//! Locking: a shard's mutex guards its maps and wheel only; a transaction has its own mutex,
//! held while its routes run. Nobody takes a transaction's lock while holding a shard's.

use super::wheel::Wheel;
use super::{Key, Phase, Txn};
use rustc_hash::FxHashMap as HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// A shared transaction.
pub type TxnRef = Arc<Mutex<Txn>>;

pub fn lock(t: &TxnRef) -> MutexGuard<'_, Txn> {
    t.lock().unwrap_or_else(|p| p.into_inner())
}

/// The longest timer value taken (a day): larger settings are cut, so deadlines cannot overflow.
pub const MAX_TIMER_MS: u64 = 86_400_000;

/// Timer values in milliseconds: tm's modparams (Kamailio 5.6 defaults), read from the
/// snapshot a transaction is created under, `t_set_fr` overriding fr/fr_inv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub t1: u64,
    pub t2: u64,
    pub fr: u64,
    pub fr_inv: u64,
    pub wait: u64,
    /// `failure_reply_mode`: which earlier branches' replies still compete for the final
    /// reply once a failure route forks anew (0 all, 1 none, 2 the last step's, 3 none if
    /// it forked).
    pub failure_reply_mode: u8,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            t1: 500,
            t2: 4000,
            fr: 30_000,
            fr_inv: 120_000,
            wait: 5_000,
            failure_reply_mode: 0,
        }
    }
}

impl Timers {
    pub fn from_snapshot(snap: &sipvm_cfg::Snapshot) -> Timers {
        let d = Timers::default();
        let get = |p: &str, def: u64| -> u64 {
            let v = snap.modparam_int("tm", p, def as i64);
            if v > 0 {
                (v as u64).min(MAX_TIMER_MS)
            } else {
                def
            }
        };
        Timers {
            t1: get("retr_timer1", d.t1),
            t2: get("retr_timer2", d.t2),
            fr: get("fr_timer", d.fr),
            fr_inv: get("fr_inv_timer", d.fr_inv),
            wait: get("wt_timer", d.wait),
            failure_reply_mode: snap.modparam_int("tm", "failure_reply_mode", 0).clamp(0, 3) as u8,
        }
    }
}

/// `tm.stats` counters (Kamailio's names).
#[derive(Debug, Default)]
pub struct Stats {
    pub created: AtomicU64,
    pub freed: AtomicU64,
    pub total_local: AtomicU64,
    pub rpl_received: AtomicU64,
    pub rpl_generated: AtomicU64,
    pub rpl_sent: AtomicU64,
    /// Final replies sent upstream by class, index 2..=6.
    pub class: [AtomicU64; 7],
}

impl Stats {
    pub fn final_sent(&self, code: u16) {
        if let Some(c) = self.class.get(usize::from(code / 100)) {
            c.fetch_add(1, Relaxed);
        }
    }
}

const SHARD_BITS: u32 = 6;
const SHARDS: usize = 1 << SHARD_BITS;

struct Shard {
    by_key: HashMap<Key, u64>,
    txns: HashMap<u64, TxnRef>,
    wheel: Wheel,
    seq: u64,
    /// Transactions kept only to absorb retransmissions.
    waiting: usize,
}

/// The transaction table.
pub struct Tm {
    shards: Box<[Mutex<Shard>]>,
    epoch: Instant,
    /// Added to the clock: tests move time forward with [`Tm::advance_clock`].
    skew: AtomicU64,
    /// When the allocator was last asked to give memory back, and `freed` then.
    trim_at: AtomicU64,
    trim_freed: AtomicU64,
    pub stats: Stats,
    /// Other modules' transaction hooks (acc, dialog): see `events.rs`.
    pub events: super::events::TxHooks,
}

impl std::fmt::Debug for Tm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tm")
            .field("current", &self.current())
            .finish()
    }
}

impl Default for Tm {
    fn default() -> Self {
        Self::new()
    }
}

/// What looking a request up found.
pub enum Lookup {
    New(TxnRef),
    Existing(TxnRef),
}

impl Tm {
    pub fn new() -> Tm {
        Tm {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        by_key: HashMap::default(),
                        txns: HashMap::default(),
                        wheel: Wheel::new(0),
                        seq: 0,
                        waiting: 0,
                    })
                })
                .collect(),
            epoch: Instant::now(),
            skew: AtomicU64::new(0),
            trim_at: AtomicU64::new(0),
            trim_freed: AtomicU64::new(0),
            stats: Stats::default(),
            events: Default::default(),
        }
    }

    /// Milliseconds on the table's clock.
    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + self.skew.load(Relaxed)
    }

    /// Simulated time: every later `now` is `ms` further on.
    pub fn advance_clock(&self, ms: u64) {
        self.skew.fetch_add(ms, Relaxed);
    }

    fn shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn shard_of_key(key: &Key) -> usize {
        // The high bits: FxHash mixes them best.
        (key.hash64() >> (64 - SHARD_BITS)) as usize
    }

    fn shard_of_id(id: u64) -> usize {
        (id as usize) & (SHARDS - 1)
    }

    pub fn find(&self, key: &Key) -> Option<TxnRef> {
        let s = self.shard(Self::shard_of_key(key));
        let id = s.by_key.get(key)?;
        s.txns.get(id).cloned()
    }

    pub fn get(&self, id: u64) -> Option<TxnRef> {
        self.shard(Self::shard_of_id(id)).txns.get(&id).cloned()
    }

    /// The transaction of `key`, created by `make(id)` when there is none.
    pub fn find_or_insert(&self, key: Key, make: impl FnOnce(u64) -> Txn) -> Lookup {
        let si = Self::shard_of_key(&key);
        let mut s = self.shard(si);
        if let Some(t) = s.by_key.get(&key).and_then(|id| s.txns.get(id)) {
            return Lookup::Existing(t.clone());
        }
        s.seq += 1;
        let id = (s.seq << SHARD_BITS) | si as u64;
        let t = Arc::new(Mutex::new(make(id)));
        s.by_key.insert(key, id);
        s.txns.insert(id, t.clone());
        self.stats.created.fetch_add(1, Relaxed);
        Lookup::New(t)
    }

    /// Puts the transaction's next deadline on the wheel when it is earlier than what is
    /// there already. Call after every change to a transaction.
    pub fn schedule(&self, t: &mut Txn) {
        let Some(next) = t.next_deadline() else {
            return;
        };
        if t.scheduled.is_some_and(|s| s <= next) {
            return;
        }
        t.scheduled = Some(next);
        self.shard(Self::shard_of_id(t.id)).wheel.insert(next, t.id);
    }

    /// Marks a transaction as only absorbing retransmissions now (for `waiting`).
    pub fn set_waiting(&self, t: &mut Txn) {
        if t.phase != Phase::Waiting {
            t.phase = Phase::Waiting;
            self.shard(Self::shard_of_id(t.id)).waiting += 1;
        }
    }

    /// Forgets a transaction.
    pub fn remove(&self, t: &Txn) {
        let mut s = self.shard(Self::shard_of_id(t.id));
        if s.txns.remove(&t.id).is_some() {
            if s.by_key.get(&t.key) == Some(&t.id) {
                s.by_key.remove(&t.key);
            }
            if t.phase == Phase::Waiting {
                s.waiting -= 1;
            }
            self.stats.freed.fetch_add(1, Relaxed);
        }
    }

    /// Ids whose timers may be due at `now`, from every shard nobody else is advancing.
    pub fn due(&self, now: u64, out: &mut Vec<u64>) {
        for m in self.shards.iter() {
            if let Ok(mut s) = m.try_lock() {
                s.wheel.advance(now, out);
            }
        }
    }

    /// After a burst, once the table is empty again (checked at most once a second), shrinks
    /// the shards' maps to nothing, so the burst's buckets go back to the allocator (which
    /// returns pages to the system by itself).
    pub fn trim_when_idle(&self, now: u64) {
        let at = self.trim_at.load(Relaxed);
        if now < at + 1000
            || self
                .trim_at
                .compare_exchange(at, now, Relaxed, Relaxed)
                .is_err()
        {
            return;
        }
        let freed = self.stats.freed.load(Relaxed);
        if freed == self.trim_freed.load(Relaxed) || self.current() != 0 {
            return;
        }
        self.trim_freed.store(freed, Relaxed);
        for i in 0..SHARDS {
            let mut s = self.shard(i);
            if s.txns.is_empty() {
                s.by_key = HashMap::default();
                s.txns = HashMap::default();
                s.wheel.shrink_if_empty();
            }
        }
        // The binary's allocator (jemalloc, see main.rs) hands the freed pages back by itself.
        tracing::debug!("tm: table empty after {freed} transactions, maps shrunk");
    }

    /// Transactions in the table.
    pub fn current(&self) -> usize {
        (0..SHARDS).map(|i| self.shard(i).txns.len()).sum()
    }

    pub fn waiting(&self) -> usize {
        (0..SHARDS).map(|i| self.shard(i).waiting).sum()
    }
}
