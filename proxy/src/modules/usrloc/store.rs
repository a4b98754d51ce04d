//! Bindings, records, sharded tables and the set of tables, with the expiry sweeper.

use super::db::{self, DbConfig, Op, Writer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};

/// Kamailio's `Q_UNSPECIFIED`: a contact registered without `q` (sorts below q=0).
pub const Q_UNSPECIFIED: i32 = -1;

/// One registered contact of an address of record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI, as received.
    pub contact: String,
    /// Absolute expiry time in seconds since the epoch (0: permanent, as in Kamailio).
    pub expires: i64,
    /// q in thousandths, or [`Q_UNSPECIFIED`].
    pub q: i32,
    pub callid: String,
    pub cseq: u32,
    /// Kamailio's `received` (the contact's `received` parameter or registrar's
    /// `received_avp`): where requests for this contact go, empty when not set.
    pub received: String,
    /// The Path vector of the REGISTER (`<sip:a;lr>,<sip:b;lr>`), empty when none.
    pub path: String,
    /// `+sip.instance`, as received (with its quotes removed), empty when none.
    pub instance: String,
    pub reg_id: u32,
    pub user_agent: String,
    /// The socket the REGISTER came in on, `proto:ip:port`.
    pub socket: String,
    /// Where the REGISTER came from (`sip:ip:port[;transport=..]`), kept whether or not it
    /// differs from the contact; not used by `lookup` (Kamailio uses `received` for NAT).
    pub source: String,
    pub last_modified: i64,
    pub flags: u32,
    pub cflags: u32,
    /// Methods the contact accepts (Kamailio's bits; all set when unknown).
    pub methods: u32,
    pub ruid: String,
}

impl Binding {
    /// Kamailio's `VALID_CONTACT`: not expired (or permanent).
    pub fn valid(&self, now: i64) -> bool {
        self.expires == 0 || self.expires > now
    }
}

/// An address of record and its bindings, highest q first; among equal q the older binding
/// comes first (usrloc's insertion rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub aor: String,
    pub hash: u32,
    pub bindings: Vec<Binding>,
}

impl Record {
    pub fn new(aor: &str) -> Self {
        Record {
            aor: aor.to_string(),
            hash: super::core_hash(aor.as_bytes()),
            bindings: Vec::new(),
        }
    }

    /// Inserts before the first binding of lower q (so after every binding of equal q).
    pub fn insert(&mut self, b: Binding) -> usize {
        let at = self
            .bindings
            .iter()
            .position(|x| x.q < b.q)
            .unwrap_or(self.bindings.len());
        // Most AoRs hold one binding: no room for four (Vec's first growth) per record.
        self.bindings.reserve_exact(1);
        self.bindings.insert(at, b);
        at
    }

    /// Replaces binding `i` and repositions it as usrloc's `update_contact_pos` does: when it
    /// no longer fits between its neighbours (q not above the previous one's, not below the
    /// next one's), it moves before the first binding whose q is not lower than its own, or
    /// to the end. That scan assumes ascending q while inserts keep descending q, so a raised
    /// q can land first or last rather than in order: Kamailio 5.6.3 answers so (q 0 raised
    /// to 0.7 among 1 and 0.5 is listed first), and sipvm keeps its order.
    pub fn update(&mut self, i: usize, b: Binding) {
        self.bindings[i] = b;
        let q = self.bindings[i].q;
        let fits_prev = i == 0 || q <= self.bindings[i - 1].q;
        let fits_next = i + 1 >= self.bindings.len() || q >= self.bindings[i + 1].q;
        if fits_prev && fits_next {
            return;
        }
        let b = self.bindings.remove(i);
        let at = self
            .bindings
            .iter()
            .position(|x| x.q >= b.q)
            .unwrap_or(self.bindings.len());
        self.bindings.insert(at, b);
    }

    /// Drops expired bindings; whether any was dropped.
    pub fn purge(&mut self, now: i64) -> bool {
        let n = self.bindings.len();
        self.bindings.retain(|b| b.valid(now));
        n != self.bindings.len()
    }

    pub fn valid(&self, now: i64) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.valid(now))
    }
}

type Shard = HashMap<String, Record>;

/// One usrloc table (Kamailio's "domain"): records sharded by AoR hash.
#[derive(Debug)]
pub struct Table {
    pub name: String,
    shards: Box<[Mutex<Shard>]>,
    writer: Option<Writer>,
}

/// A locked shard and the table it belongs to: what `save` works under.
pub struct Locked<'t> {
    table: &'t Table,
    shard: MutexGuard<'t, Shard>,
}

impl Locked<'_> {
    pub fn get(&self, aor: &str) -> Option<&Record> {
        self.shard.get(aor)
    }

    pub fn get_mut(&mut self, aor: &str) -> Option<&mut Record> {
        self.shard.get_mut(aor)
    }

    /// Stores `rec` (an empty one removes the AoR) and queues it for the database.
    pub fn put(&mut self, rec: Record) {
        self.table.persist(&rec);
        if rec.bindings.is_empty() {
            self.shard.remove(&rec.aor);
        } else {
            self.shard.insert(rec.aor.clone(), rec);
        }
    }

    /// Whether changes are written to a database (and so worth comparing before writing).
    pub fn persists(&self) -> bool {
        self.table.writer.is_some()
    }

    /// After the AoR's record was worked on in place ([`Locked::get_mut`]): one left with no
    /// binding is removed, for the database too; otherwise the database hears of it when it
    /// differs from `original` (its state before, kept only when [`Locked::persists`]).
    pub fn settle(&mut self, aor: &str, original: Option<&Record>) {
        let Some(rec) = self.shard.get(aor) else {
            return;
        };
        if rec.bindings.is_empty() {
            self.remove(aor);
        } else if self.persists() && original != Some(rec) {
            self.table.persist(rec);
        }
    }

    /// Removes the AoR; whether it existed.
    pub fn remove(&mut self, aor: &str) -> bool {
        let Some(rec) = self.shard.remove(aor) else {
            return false;
        };
        self.table.persist(&Record {
            bindings: Vec::new(),
            ..rec
        });
        true
    }
}

impl Table {
    pub(crate) fn new(name: &str, shards: usize, writer: Option<Writer>) -> Self {
        Table {
            name: name.to_string(),
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(Shard::new()))
                .collect(),
            writer,
        }
    }

    /// Number of slots (`Size` in `ul.dump`).
    pub fn size(&self) -> usize {
        self.shards.len()
    }

    fn slot(&self, aor: &str) -> usize {
        super::core_hash(aor.as_bytes()) as usize & (self.shards.len() - 1)
    }

    fn shard(&self, i: usize) -> MutexGuard<'_, Shard> {
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks the shard of `aor`.
    pub fn lock(&self, aor: &str) -> Locked<'_> {
        Locked {
            table: self,
            shard: self.shard(self.slot(aor)),
        }
    }

    fn persist(&self, rec: &Record) {
        if let Some(w) = &self.writer {
            w.send(Op::Replace {
                table: self.name.clone(),
                aor: rec.aor.clone(),
                bindings: rec.bindings.clone(),
            });
        }
    }

    /// The record of `aor` with its valid bindings only; `None` when it has none.
    pub fn get(&self, aor: &str, now: i64) -> Option<Record> {
        let s = self.shard(self.slot(aor));
        let r = s.get(aor)?;
        let bindings: Vec<Binding> = r.valid(now).cloned().collect();
        (!bindings.is_empty()).then(|| Record {
            aor: r.aor.clone(),
            hash: r.hash,
            bindings,
        })
    }

    /// `f` on the record of `aor` as stored (expired bindings included), under its lock.
    pub fn read<T>(&self, aor: &str, f: impl FnOnce(&Record) -> T) -> Option<T> {
        self.shard(self.slot(aor)).get(aor).map(f)
    }

    /// The record of `aor` as stored, expired bindings included.
    pub fn snapshot_one(&self, aor: &str) -> Option<Record> {
        self.shard(self.slot(aor)).get(aor).cloned()
    }

    /// Stores a record as it is (loading from the database, tests).
    pub fn put(&self, rec: Record) {
        self.lock(&rec.aor).put(rec)
    }

    /// Removes the AoR with every binding; whether it was there.
    pub fn remove(&self, aor: &str) -> bool {
        self.lock(aor).remove(aor)
    }

    /// Every record with valid bindings, slot by slot (AoRs sorted inside a slot), and the
    /// count and largest count per slot of AoRs held.
    pub fn snapshot(&self, now: i64) -> (Vec<Record>, usize, usize) {
        let (mut out, mut n, mut max) = (Vec::new(), 0, 0);
        for i in 0..self.shards.len() {
            let s = self.shard(i);
            n += s.len();
            max = max.max(s.len());
            let mut recs: Vec<&Record> = s.values().collect();
            recs.sort_by(|a, b| a.aor.cmp(&b.aor));
            for r in recs {
                let bindings: Vec<Binding> = r.valid(now).cloned().collect();
                if !bindings.is_empty() {
                    out.push(Record {
                        bindings,
                        ..r.clone()
                    });
                }
            }
        }
        (out, n, max)
    }

    /// Removes expired bindings and records left empty; how many bindings went.
    pub fn sweep(&self, now: i64) -> usize {
        let mut gone = 0;
        for i in 0..self.shards.len() {
            let mut s = self.shard(i);
            let mut emptied = Vec::new();
            for r in s.values_mut() {
                let before = r.bindings.len();
                if r.purge(now) {
                    gone += before - r.bindings.len();
                    self.persist(r);
                    if r.bindings.is_empty() {
                        emptied.push(r.aor.clone());
                    }
                }
            }
            for aor in emptied {
                s.remove(&aor);
            }
        }
        gone
    }
}

/// usrloc's settings, from its modparams.
#[derive(Clone, Debug, Default)]
pub struct UlConfig {
    /// `hash_size`: 2^n slots per table (Kamailio's default 10).
    pub hash_size: u32,
    /// `use_domain`: the AoR is `user@host`, not the user alone.
    pub use_domain: bool,
    pub db: Option<DbConfig>,
    /// `timer_interval`: seconds between sweeps of expired bindings (Kamailio's 60).
    pub timer_interval: u64,
}

impl UlConfig {
    /// The settings, or why they cannot be honoured (a `db_url` sipvm cannot use).
    pub fn from_snapshot(snap: &sipvm_cfg::Snapshot) -> Result<Self, String> {
        let mut hash_size = snap.modparam_int("usrloc", "hash_size", 10);
        if hash_size <= 1 {
            hash_size = 9; // Kamailio takes 512 slots then
        }
        let db_mode = snap.modparam_int("usrloc", "db_mode", 0);
        let url = snap
            .modparam("usrloc", "db_url")
            .map(|v| v.to_str().into_owned());
        let db = match (db_mode, url) {
            (m, Some(u)) if m >= 1 => Some(DbConfig::from_url(&u).ok_or_else(|| {
                format!("db_url \"{u}\": sipvm's usrloc stores only to sqlite://PATH yet")
            })?),
            (m, None) if m >= 1 => return Err(format!("db_mode {m} needs a db_url")),
            _ => None,
        };
        let timer_interval = snap.modparam_int("usrloc", "timer_interval", 60);
        if timer_interval < 1 {
            return Err(format!(
                "timer_interval {timer_interval} must be at least 1"
            ));
        }
        Ok(UlConfig {
            hash_size: hash_size.clamp(1, 20) as u32,
            use_domain: snap.modparam_int("usrloc", "use_domain", 0) != 0,
            db,
            timer_interval: timer_interval as u64,
        })
    }
}

/// Every usrloc table, by name, in creation order.
#[derive(Debug)]
pub struct Usrloc {
    pub cfg: UlConfig,
    tables: RwLock<Vec<Arc<Table>>>,
    writer: Option<Writer>,
    ruid_base: String,
    ruid_seq: AtomicU64,
}

impl Usrloc {
    /// An in-memory store (tests, and `db_mode` 0).
    pub fn new(cfg: UlConfig) -> Self {
        Self::with_writer(cfg, None)
    }

    fn with_writer(cfg: UlConfig, writer: Option<Writer>) -> Self {
        Usrloc {
            cfg,
            tables: RwLock::new(Vec::new()),
            writer,
            ruid_base: format!("uloc-{:x}-{:x}", super::now(), std::process::id()),
            ruid_seq: AtomicU64::new(0),
        }
    }

    /// The store of a running server: the tables the script names, bindings loaded from the
    /// database when one is configured, and the sweeper thread.
    /// A database that cannot be opened stops start-up, as in Kamailio.
    pub fn start(snap: &sipvm_cfg::Snapshot) -> Result<Arc<Self>, String> {
        let cfg = UlConfig::from_snapshot(snap)?;
        let mut loaded = Vec::new();
        let writer = match cfg.db.as_ref() {
            Some(c) => {
                let (w, rows) = db::open(c).map_err(|e| e.to_string())?;
                loaded = rows;
                Some(w)
            }
            None => None,
        };
        let every = cfg.timer_interval;
        let ul = Arc::new(Self::with_writer(cfg, writer));
        for name in script_tables(&snap.program) {
            ul.table(&name);
        }
        let now = super::now();
        let n = loaded.len();
        for (table, rec) in loaded {
            let t = ul.table(&table);
            let mut l = t.lock(&rec.aor);
            let mut rec = rec;
            rec.purge(now);
            if !rec.bindings.is_empty() {
                // Straight into the shard: no write back of what was just read.
                l.shard.insert(rec.aor.clone(), rec);
            }
        }
        if n > 0 {
            tracing::info!("usrloc: {n} records loaded from the database");
        }
        spawn_sweeper(Arc::downgrade(&ul), every);
        Ok(ul)
    }

    /// The table `name`, created on first use (Kamailio registers one per name the script
    /// uses).
    pub fn table(&self, name: &str) -> Arc<Table> {
        {
            let t = self.tables.read().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = t.iter().find(|t| t.name == name) {
                return t.clone();
            }
        }
        let mut t = self.tables.write().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = t.iter().find(|t| t.name == name) {
            return t.clone();
        }
        let table = Arc::new(Table::new(
            name,
            1 << self.cfg.hash_size,
            self.writer.clone(),
        ));
        t.push(table.clone());
        table
    }

    /// The table `name` if it exists.
    pub fn find(&self, name: &str) -> Option<Arc<Table>> {
        let t = self.tables.read().unwrap_or_else(|p| p.into_inner());
        t.iter().find(|t| t.name == name).cloned()
    }

    pub fn tables(&self) -> Vec<Arc<Table>> {
        self.tables
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A new record-unique id (Kamailio's `ruid`).
    pub fn next_ruid(&self) -> String {
        let n = self.ruid_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}-{n}", self.ruid_base)
    }

    /// Waits until every queued database write is committed (tests, shutdown).
    pub fn flush(&self) {
        if let Some(w) = &self.writer {
            w.flush();
        }
    }
}

impl Drop for Usrloc {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The table names the script passes to registrar's functions as literals (Kamailio creates
/// them when it fixes up `save("location")` and the like, so `ul.dump` lists them at once).
fn script_tables(prog: &sipvm_vm::Program) -> Vec<String> {
    use sipvm_vm::{Arg, Op, Value};
    let mut out: Vec<String> = Vec::new();
    for op in &prog.code {
        let Op::Call { native, args, .. } = op else {
            continue;
        };
        let Some(n) = prog.natives.get(native.ix()) else {
            continue;
        };
        if &*n.module != "registrar" {
            continue;
        }
        if let Some(Arg::Val(Value::Str(s))) = prog.arglists.get(args.ix()).and_then(|a| a.first())
        {
            if !out.iter().any(|o| **o == **s) {
                out.push(s.to_string());
            }
        }
    }
    out
}

/// Every `timer_interval` seconds, every table drops what has expired (reads already ignore
/// it). Wakes each second to notice that the store is gone.
fn spawn_sweeper(ul: Weak<Usrloc>, every: u64) {
    let r = std::thread::Builder::new()
        .name("usrloc-timer".into())
        .spawn(move || loop {
            for _ in 0..every {
                std::thread::sleep(std::time::Duration::from_secs(1));
                if ul.strong_count() == 0 {
                    return;
                }
            }
            let Some(ul) = ul.upgrade() else { return };
            let now = super::now();
            for t in ul.tables() {
                let n = t.sweep(now);
                if n > 0 {
                    tracing::debug!("usrloc: {n} bindings of {} expired", t.name);
                }
            }
        });
    if let Err(e) = r {
        tracing::error!("usrloc: cannot start the expiry timer: {e}");
    }
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub(crate) fn binding(contact: &str, q: i32, expires: i64) -> Binding {
        Binding {
            contact: contact.into(),
            expires,
            q,
            callid: "c".into(),
            cseq: 1,
            received: String::new(),
            path: String::new(),
            instance: String::new(),
            reg_id: 0,
            user_agent: String::new(),
            socket: String::new(),
            source: String::new(),
            last_modified: 0,
            flags: 0,
            cflags: 0,
            methods: u32::MAX,
            ruid: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::binding;
    use super::*;

    #[test]
    fn q_order_keeps_older_first_among_equals() {
        let mut r = Record::new("alice");
        r.insert(binding("sip:a", 500, 100));
        r.insert(binding("sip:b", Q_UNSPECIFIED, 100));
        r.insert(binding("sip:c", 900, 100));
        r.insert(binding("sip:d", 900, 100));
        r.insert(binding("sip:e", 0, 100));
        let order: Vec<&str> = r.bindings.iter().map(|b| &b.contact[4..]).collect();
        assert_eq!(order, ["c", "d", "a", "e", "b"]);
        // q raised past every other: usrloc's update scan puts it last.
        r.update(3, binding("sip:e", 1000, 100));
        let order: Vec<&str> = r.bindings.iter().map(|b| &b.contact[4..]).collect();
        assert_eq!(order, ["c", "d", "a", "b", "e"]);
        // Raised to a q some binding has: before the first such (Kamailio's replies show it).
        let mut r = Record::new("x");
        r.insert(binding("sip:a", 1000, 100));
        r.insert(binding("sip:b", 500, 100));
        r.insert(binding("sip:c", 0, 100));
        r.update(2, binding("sip:c", 700, 100));
        let order: Vec<&str> = r.bindings.iter().map(|b| &b.contact[4..]).collect();
        assert_eq!(order, ["c", "a", "b"]);
        // Still fitting between its neighbours: stays.
        r.update(2, binding("sip:b", 100, 100));
        let order: Vec<&str> = r.bindings.iter().map(|b| &b.contact[4..]).collect();
        assert_eq!(order, ["c", "a", "b"]);
    }

    #[test]
    fn expired_bindings_are_invisible_then_swept() {
        let t = Table::new("location", 16, None);
        let mut r = Record::new("bob");
        r.insert(binding("sip:short", 0, 110));
        r.insert(binding("sip:long", 0, 200));
        t.put(r);
        assert_eq!(t.get("bob", 100).map(|r| r.bindings.len()), Some(2));
        // At 110 the short one has expired: gone from reads before any sweep.
        let r = t.get("bob", 110).unwrap();
        assert_eq!(r.bindings.len(), 1);
        assert_eq!(r.bindings[0].contact, "sip:long");
        assert_eq!(t.snapshot(110).0[0].bindings.len(), 1);
        assert_eq!(t.sweep(110), 1);
        assert!(t.get("bob", 200).is_none());
        assert_eq!(t.sweep(200), 1);
        assert_eq!(t.snapshot(200), (Vec::new(), 0, 0));
    }

    #[test]
    fn permanent_binding_never_expires() {
        let b = binding("sip:x", 0, 0);
        assert!(b.valid(i64::MAX));
    }

    #[test]
    fn tables_by_name() {
        let ul = Usrloc::new(UlConfig {
            hash_size: 4,
            ..UlConfig::default()
        });
        let a = ul.table("location");
        let b = ul.table("location");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.size(), 16);
        assert!(ul.find("other").is_none());
        assert_ne!(ul.next_ruid(), ul.next_ruid());
    }
}
