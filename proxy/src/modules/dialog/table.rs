//! The dialog table: every dialog the proxy follows, keyed by Call-ID and the caller's tag,
//! with Kamailio's states and identifiers (`h_entry`, `h_id`). One mutex: dialogs change a
//! few times per call, far less often than transactions. Bounded by [`MAX_DIALOGS`].

use bytes::Bytes;
use sipvm_cfg::Running;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// The most dialogs followed at once: `dlg_manage()` fails (-1) beyond it, so a flood of
/// INVITEs cannot grow the table without bound.
pub const MAX_DIALOGS: usize = 100_000;
/// Kamailio's hash table size (`hash_size` default): `h_entry` is the Call-ID's slot in it.
pub const HASH_SIZE: u32 = 4096;

/// The clean-up limits (Kamailio's `early_timeout`, `noack_timeout`, `end_timeout`), seconds.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// An unconfirmed or early dialog older than this goes.
    pub early: u64,
    /// A 2xx without ACK for longer than this: the dialog's lifetime becomes 10 s.
    pub noack: u64,
    /// A deleted dialog still there after this goes.
    pub end: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            early: 300,
            noack: 60,
            end: 300,
        }
    }
}
/// BYEs waiting for their reply, at most.
pub const MAX_PENDING_BYES: usize = 4096;

/// Kamailio's dialog states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Unconfirmed = 1,
    Early = 2,
    ConfirmedNa = 3,
    Confirmed = 4,
    Deleted = 5,
}

/// Kamailio's `DLG_IFLAG_TIMEOUTBYE`.
pub const IFLAG_TIMEOUT_BYE: u32 = 1 << 0;
/// Kamailio's `DLG_IFLAG_TIMER_NORESET` (`dlg_set_property("timeout-noreset")`).
pub const IFLAG_TIMER_NORESET: u32 = 1 << 3;

/// One side of the dialog.
#[derive(Clone, Debug, Default)]
pub struct Leg {
    pub tag: String,
    pub contact: String,
    pub cseq: u32,
    /// The Record-Route entries this side sees, in the order it uses them as Route.
    pub route_set: Vec<String>,
    /// The socket the proxy uses towards this side (index into the server's sockets).
    pub local: usize,
    pub socket: String,
    /// Where this side's messages came from (the fallback next hop).
    pub addr: Option<SocketAddr>,
}

#[derive(Debug)]
pub struct Dialog {
    pub h_entry: u32,
    pub h_id: u32,
    pub callid: String,
    pub from_uri: String,
    pub to_uri: String,
    pub state: State,
    pub caller: Leg,
    pub callee: Leg,
    pub init_ts: u64,
    pub start_ts: u64,
    pub end_ts: u64,
    /// Seconds from confirmation to the timeout.
    pub lifetime: u64,
    /// Absolute time (seconds since the epoch) of the next timer: the timeout once
    /// confirmed, the early/no-ACK limits before, the removal once deleted.
    pub timer_at: u64,
    pub sflags: u32,
    pub iflags: u32,
    pub toroute: Option<String>,
    /// Profiles in the order set: (name, value for profiles with value).
    pub profiles: Vec<(String, Option<String>)>,
    pub vars: Vec<(String, String)>,
    /// The program generation that created the dialog: its timeout route runs there.
    pub running: Option<Running>,
    /// Asked to end (RPC, dlg_bye, timeout): BYEs to send by the next tick.
    pub bye_to: Option<ByeTo>,
}

/// Which sides get a BYE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByeTo {
    Caller,
    Callee,
    Both,
}

impl Dialog {
    pub fn id(&self) -> u64 {
        (u64::from(self.h_entry) << 32) | u64::from(self.h_id)
    }

    pub fn in_profile(&self, name: &str, value: Option<&str>) -> bool {
        self.profiles
            .iter()
            .any(|(n, v)| n == name && (value.is_none() || v.as_deref() == value))
    }

    /// Moves to `Deleted`, once.
    pub fn delete(&mut self, now: u64) {
        if self.state != State::Deleted {
            self.state = State::Deleted;
            self.end_ts = now;
        }
    }
}

/// A BYE sipvm sent, resent over UDP until answered (RFC 3261 timer E doubling, 7 tries).
#[derive(Debug)]
pub struct PendingBye {
    /// The dialog it ends (which goes once all its BYEs are answered).
    pub dialog: u64,
    pub branch: String,
    pub data: Bytes,
    pub dst: SocketAddr,
    pub local: usize,
    pub next_at: u64,
    pub ivl: u64,
    pub tries: u8,
}

#[derive(Default)]
struct Inner {
    by_id: HashMap<u64, Dialog>,
    by_key: HashMap<(String, String), u64>,
    pending: Vec<PendingBye>,
}

/// Counters Kamailio keeps as statistics.
#[derive(Default, Debug)]
pub struct Stats {
    pub processed: AtomicU64,
    pub expired: AtomicU64,
    pub failed: AtomicU64,
}

pub struct Table {
    inner: Mutex<Inner>,
    /// [`MAX_DIALOGS`], smaller in tests.
    cap: usize,
    next_id: AtomicU64,
    /// Something for the tick to do (BYEs to send or resend).
    pub work: AtomicBool,
    /// The second of the last timer sweep.
    pub swept: AtomicU64,
    pub stats: Stats,
    /// `hash_size`: a power of two.
    hash_size: u32,
    limits: Limits,
}

impl Default for Table {
    fn default() -> Self {
        Table::with_cap(MAX_DIALOGS)
    }
}

/// The Call-ID's slot in a table of `size` slots, as `h_entry`.
pub fn h_entry(callid: &str, size: u32) -> u32 {
    // FNV-1a: stable across runs, like Kamailio's core hash (not the same numbers).
    let mut h: u32 = 0x811c_9dc5;
    for b in callid.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h % size.max(1)
}

/// Where a message sits in its dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// From the caller (Kamailio's `DLG_DIR_DOWNSTREAM`, 1).
    Downstream = 1,
    /// From the callee (`DLG_DIR_UPSTREAM`, 2).
    Upstream = 2,
}

impl Table {
    /// A table holding at most `cap` dialogs.
    pub fn with_cap(cap: usize) -> Table {
        Table::new(cap, HASH_SIZE, Limits::default())
    }

    /// A table of `hash_size` slots holding at most `cap` dialogs, cleaned up by `limits`.
    pub fn new(cap: usize, hash_size: u32, limits: Limits) -> Table {
        Table {
            hash_size,
            limits,
            inner: Mutex::default(),
            cap,
            next_id: AtomicU64::new(0),
            work: AtomicBool::new(false),
            swept: AtomicU64::new(0),
            stats: Stats::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a dialog made by `make` (given its identifiers), unless one exists for the key or
    /// the table is full. Returns its id, and whether it is new.
    pub fn insert(
        &self,
        callid: &str,
        ftag: &str,
        make: impl FnOnce(u32, u32) -> Dialog,
    ) -> Option<(u64, bool)> {
        let mut g = self.lock();
        let key = (callid.to_string(), ftag.to_string());
        if let Some(id) = g.by_key.get(&key) {
            return Some((*id, false));
        }
        if g.by_id.len() >= self.cap {
            return None;
        }
        let h_id = (self.next_id.fetch_add(1, Relaxed) % u64::from(u32::MAX)) as u32 + 1;
        let d = make(h_entry(callid, self.hash_size), h_id);
        let id = d.id();
        g.by_key.insert(key, id);
        g.by_id.insert(id, d);
        self.stats.processed.fetch_add(1, Relaxed);
        Some((id, true))
    }

    /// The dialog of a message: by Call-ID and From tag (the caller sends), else by Call-ID
    /// and To tag (the callee sends); a callee tag, once known, must match the other tag.
    pub fn find(&self, callid: &str, ftag: &str, ttag: Option<&str>) -> Option<(u64, Dir)> {
        let g = self.lock();
        let matches = |id: &u64, other: Option<&str>| {
            g.by_id.get(id).is_some_and(|d| {
                d.callee.tag.is_empty() || other.is_none_or(|o| o.is_empty() || o == d.callee.tag)
            })
        };
        if let Some(id) = g.by_key.get(&(callid.to_string(), ftag.to_string())) {
            if matches(id, ttag) {
                return Some((*id, Dir::Downstream));
            }
        }
        let t = ttag?;
        let id = g.by_key.get(&(callid.to_string(), t.to_string()))?;
        matches(id, Some(ftag)).then_some((*id, Dir::Upstream))
    }

    /// Runs `f` on dialog `id`.
    pub fn with<R>(&self, id: u64, f: impl FnOnce(&mut Dialog) -> R) -> Option<R> {
        let mut g = self.lock();
        g.by_id.get_mut(&id).map(f)
    }

    /// Removes dialog `id`.
    pub fn remove(&self, id: u64) {
        let mut g = self.lock();
        if let Some(d) = g.by_id.remove(&id) {
            g.by_key.remove(&(d.callid, d.caller.tag));
        }
    }

    /// Every dialog, through `f` (RPC listings), in `h_entry`, `h_id` order.
    pub fn each(&self, mut f: impl FnMut(&Dialog)) {
        let g = self.lock();
        let mut ids: Vec<&u64> = g.by_id.keys().collect();
        ids.sort_unstable();
        for id in ids {
            f(&g.by_id[id]);
        }
    }

    /// Every dialog, through `f`, to change.
    pub fn each_mut(&self, mut f: impl FnMut(&mut Dialog)) {
        let mut g = self.lock();
        g.by_id.values_mut().for_each(&mut f);
    }

    /// How many dialogs not deleted are in profile `name` (with `value` when given).
    pub fn profile_size(&self, name: &str, value: Option<&str>) -> usize {
        let g = self.lock();
        g.by_id
            .values()
            .filter(|d| d.state < State::Deleted && d.in_profile(name, value))
            .count()
    }

    /// Asks for the end of dialog `id` (BYEs by the next tick). False when there is no
    /// such dialog or it is not confirmed.
    pub fn end(&self, id: u64, to: ByeTo) -> bool {
        let ok = self
            .with(id, |d| {
                if matches!(d.state, State::ConfirmedNa | State::Confirmed) {
                    d.bye_to = Some(to);
                    true
                } else {
                    false
                }
            })
            .unwrap_or(false);
        if ok {
            self.work.store(true, Relaxed);
        }
        ok
    }

    /// Takes out the dialogs asked to end and those whose timer is due at `now`.
    pub fn due(&self, now: u64, timers: bool) -> (Vec<(u64, ByeTo)>, Vec<u64>) {
        let mut g = self.lock();
        let mut ending = Vec::new();
        let mut timed = Vec::new();
        let mut gone = Vec::new();
        for (id, d) in g.by_id.iter_mut() {
            if let Some(to) = d.bye_to.take() {
                ending.push((*id, to));
            } else if timers {
                let l = &self.limits;
                match d.state {
                    State::Deleted if now > d.end_ts + l.end => gone.push(*id),
                    State::Unconfirmed | State::Early if now > d.init_ts + l.early => {
                        gone.push(*id)
                    }
                    State::ConfirmedNa | State::Confirmed => {
                        // Kamailio's clean-up: a 2xx left without ACK ends in 10 s.
                        if d.state == State::ConfirmedNa
                            && d.start_ts > 0
                            && now > d.start_ts + l.noack
                            && d.lifetime != 10
                        {
                            d.lifetime = 10;
                            d.timer_at = now + 10;
                        }
                        if d.timer_at <= now {
                            timed.push(*id);
                        }
                    }
                    _ => {}
                }
            }
        }
        for id in gone {
            if let Some(d) = g.by_id.remove(&id) {
                g.by_key.remove(&(d.callid, d.caller.tag));
            }
        }
        (ending, timed)
    }

    /// Counts per state, as `dlg.stats_active` reports them.
    pub fn counts(&self) -> [usize; 4] {
        let g = self.lock();
        let mut c = [0; 4];
        for d in g.by_id.values() {
            if (d.state as usize) <= 4 {
                c[d.state as usize - 1] += 1;
            }
        }
        c
    }

    pub fn add_pending(&self, p: PendingBye) {
        let mut g = self.lock();
        if g.pending.len() >= MAX_PENDING_BYES {
            g.pending.remove(0);
        }
        g.pending.push(p);
        self.work.store(true, Relaxed);
    }

    /// A reply to one of our BYEs: stop resending it; the dialog goes when all its BYEs are
    /// answered (Kamailio frees it on the BYE replies). True when it was ours.
    pub fn answered(&self, branch: &str) -> bool {
        let mut g = self.lock();
        let Some(i) = g.pending.iter().position(|p| p.branch == branch) else {
            return false;
        };
        let dialog = g.pending.remove(i).dialog;
        let deleted = g
            .by_id
            .get(&dialog)
            .is_some_and(|d| d.state == State::Deleted);
        if deleted && !g.pending.iter().any(|p| p.dialog == dialog) {
            if let Some(d) = g.by_id.remove(&dialog) {
                g.by_key.remove(&(d.callid, d.caller.tag));
            }
        }
        true
    }

    /// The BYEs to resend at `now_ms` (each rescheduled; dropped after the last try).
    pub fn resend(&self, now_ms: u64) -> Vec<(Bytes, SocketAddr, usize)> {
        let mut g = self.lock();
        let mut out = Vec::new();
        g.pending.retain_mut(|p| {
            if p.next_at > now_ms {
                return true;
            }
            if p.tries >= 7 {
                return false;
            }
            out.push((p.data.clone(), p.dst, p.local));
            p.tries += 1;
            p.ivl = (p.ivl * 2).min(4000);
            p.next_at = now_ms + p.ivl;
            true
        });
        if g.pending.is_empty() && g.by_id.values().all(|d| d.bye_to.is_none()) {
            self.work.store(false, Relaxed);
        }
        out
    }

    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn dialog(h_entry: u32, h_id: u32, callid: &str, ftag: &str) -> Dialog {
        Dialog {
            h_entry,
            h_id,
            callid: callid.into(),
            from_uri: "sip:a@x".into(),
            to_uri: "sip:b@y".into(),
            state: State::Unconfirmed,
            caller: Leg {
                tag: ftag.into(),
                ..Leg::default()
            },
            callee: Leg::default(),
            init_ts: 0,
            start_ts: 0,
            end_ts: 0,
            lifetime: 10,
            timer_at: 0,
            sflags: 0,
            iflags: 0,
            toroute: None,
            profiles: Vec::new(),
            vars: Vec::new(),
            running: None,
            bye_to: None,
        }
    }

    #[test]
    fn finds_both_directions_and_checks_the_callee_tag() {
        let t = Table::default();
        let (id, new) = t
            .insert("c1", "ft", |e, i| dialog(e, i, "c1", "ft"))
            .unwrap();
        assert!(new);
        assert_eq!(
            t.insert("c1", "ft", |e, i| dialog(e, i, "c1", "ft"))
                .unwrap(),
            (id, false)
        );
        assert_eq!(t.find("c1", "ft", None), Some((id, Dir::Downstream)));
        t.with(id, |d| d.callee.tag = "tt".into());
        assert_eq!(t.find("c1", "ft", Some("tt")), Some((id, Dir::Downstream)));
        assert_eq!(t.find("c1", "tt", Some("ft")), Some((id, Dir::Upstream)));
        assert_eq!(t.find("c1", "ft", Some("other")), None);
        assert_eq!(t.find("c2", "ft", None), None);
        t.remove(id);
        assert!(t.is_empty());
    }

    #[test]
    fn timers_remove_early_and_deleted_dialogs_and_report_timeouts() {
        let t = Table::default();
        let (a, _) = t.insert("a", "1", |e, i| dialog(e, i, "a", "1")).unwrap();
        let (b, _) = t.insert("b", "1", |e, i| dialog(e, i, "b", "1")).unwrap();
        t.with(b, |d| {
            d.state = State::Confirmed;
            d.timer_at = 5;
        });
        let (ending, timed) = t.due(6, true);
        assert!(ending.is_empty());
        assert_eq!(timed, vec![b]);
        assert_eq!(t.len(), 2, "the early one is not due yet");
        let _ = t.due(300, true);
        assert!(t.with(a, |_| ()).is_some(), "not older than early_timeout");
        let _ = t.due(301, true);
        assert!(t.with(a, |_| ()).is_none());
        assert_eq!(t.counts(), [0, 0, 0, 1]);
        assert!(t.end(b, ByeTo::Both));
        assert_eq!(t.due(0, false).0, vec![(b, ByeTo::Both)]);
    }

    #[test]
    fn limits_cut_unacknowledged_dialogs_and_drop_deleted_ones() {
        let l = Limits {
            early: 5,
            noack: 3,
            end: 7,
        };
        let t = Table::new(10, 1, l);
        let (a, _) = t.insert("a", "1", |e, i| dialog(e, i, "a", "1")).unwrap();
        assert_eq!(t.with(a, |d| d.h_entry), Some(0), "one slot");
        t.with(a, |d| {
            d.state = State::ConfirmedNa;
            d.start_ts = 100;
            d.lifetime = 1000;
            d.timer_at = 1100;
        });
        assert!(t.due(103, true).1.is_empty());
        assert!(t.due(104, true).1.is_empty());
        assert_eq!(t.with(a, |d| (d.lifetime, d.timer_at)), Some((10, 114)));
        assert_eq!(t.due(114, true).1, vec![a]);
        t.with(a, |d| d.delete(120));
        let _ = t.due(127, true);
        assert!(t.with(a, |_| ()).is_some());
        let _ = t.due(128, true);
        assert!(t.with(a, |_| ()).is_none());
    }

    #[test]
    fn the_table_is_bounded() {
        let t = Table::with_cap(2);
        for c in ["a", "b"] {
            assert!(t.insert(c, "1", |e, i| dialog(e, i, c, "1")).is_some());
        }
        assert!(t.insert("c", "1", |e, i| dialog(e, i, "c", "1")).is_none());
        assert_eq!(
            t.insert("a", "1", |e, i| dialog(e, i, "a", "1"))
                .map(|r| r.1),
            Some(false)
        );
        for n in 0..MAX_PENDING_BYES + 5 {
            t.add_pending(PendingBye {
                dialog: 0,
                branch: format!("p{n}"),
                data: Bytes::from_static(b"x"),
                dst: "127.0.0.1:1".parse().unwrap(),
                local: 0,
                next_at: u64::MAX,
                ivl: 500,
                tries: 0,
            });
        }
        assert!(!t.answered("p0"), "the oldest pending BYEs make room");
        assert!(t.answered(&format!("p{}", MAX_PENDING_BYES + 4)));
    }

    #[test]
    fn byes_are_resent_until_answered() {
        let t = Table::default();
        let (id, _) = t.insert("c", "1", |e, i| dialog(e, i, "c", "1")).unwrap();
        t.with(id, |d| d.delete(0));
        t.add_pending(PendingBye {
            dialog: id,
            branch: "b".into(),
            data: Bytes::from_static(b"x"),
            dst: "127.0.0.1:1".parse().unwrap(),
            local: 0,
            next_at: 0,
            ivl: 500,
            tries: 0,
        });
        assert_eq!(t.resend(0).len(), 1);
        assert!(t.resend(100).is_empty());
        assert!(t.answered("b"));
        assert!(!t.answered("b"));
        assert!(
            t.is_empty(),
            "its last BYE answered, the deleted dialog goes"
        );
    }
}
