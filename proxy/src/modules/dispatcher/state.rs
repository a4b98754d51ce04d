//! The dispatcher's shared state: the destination sets behind an `ArcSwap` (a reload builds a
//! whole new list and swaps it in: a request sees the old list or the new one, never a mix),
//! each destination's run-time state, and the module parameters read at start.

use super::list::{self, DestSpec, ListError};
use crate::transport::Proto;
use arc_swap::ArcSwap;
use sipvm_vm::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Destination state bits, Kamailio's values (they are the list file's flags column too).
pub const INACTIVE: u32 = 1;
pub const TRYING: u32 = 2;
pub const DISABLED: u32 = 4;
pub const PROBING: u32 = 8;
pub const NODNS: u32 = 16;
pub const STATES_ALL: u32 = 31;

/// Module `flags`: hash on the URI user only; keep the other destinations for failover.
pub const HASH_USER_ONLY: i64 = 1;
pub const FAILOVER_ON: i64 = 2;

/// `ds_probing_mode` values.
pub const PROBE_NONE: i64 = 0;
pub const PROBE_ALL: i64 = 1;
pub const PROBE_INACTIVE: i64 = 2;
pub const PROBE_ONLYFLAGGED: i64 = 3;

/// Whether selection skips a destination with these flags.
pub fn skipped(flags: u32) -> bool {
    flags & (INACTIVE | DISABLED) != 0
}

/// What changes at run time for one destination. Shared by the old and the new list when a
/// reload keeps the destination, so state set meanwhile is not lost.
#[derive(Debug, Default)]
pub struct Runtime {
    pub flags: AtomicU32,
    /// Kamailio's `message_count`: failed probes while trying, answered ones while inactive.
    pub count: AtomicU32,
}

/// One destination of a set.
#[derive(Debug)]
pub struct Dest {
    pub spec: DestSpec,
    /// Where probes and `ds_is_from_list` look: IP literals and `localhost` only (no DNS).
    pub addr: Option<SocketAddr>,
    /// The URI's `transport` parameter (`None` when it has none, Kamailio's PROTO_NONE).
    pub proto: Option<Proto>,
    pub host: String,
    pub port: u16,
    pub rt: Arc<Runtime>,
    /// The URI as a script value: stored in AVPs per request without copying.
    pub uri_value: Value,
}

impl Dest {
    pub fn flags(&self) -> u32 {
        self.rt.flags.load(Relaxed)
    }
    pub fn attrs_weight(&self) -> u32 {
        self.spec.attrs.as_ref().map_or(0, |a| a.weight)
    }
    pub fn attrs_rweight(&self) -> u32 {
        self.spec.attrs.as_ref().map_or(0, |a| a.rweight)
    }
}

/// A destination set. `dests` is in Kamailio's order: by priority, highest first; among equal
/// priorities the later line first.
#[derive(Debug)]
pub struct Set {
    pub id: i64,
    pub dests: Vec<Dest>,
    /// Round-robin position, shared by every worker (Kamailio's `last`).
    pub last: AtomicUsize,
    /// Algorithm 9: 100 slots of destination indexes by weight, shuffled (empty: no weights).
    pub wlist: Vec<u16>,
    pub wlast: AtomicUsize,
    /// Algorithm 11: like `wlist` over active destinations by `rweight`, rebuilt when one goes
    /// up or down.
    pub rwlist: Mutex<Vec<u16>>,
    pub rwlast: AtomicUsize,
}

/// Every set of one loaded list, by id.
#[derive(Debug, Default)]
pub struct Sets {
    pub sets: Vec<Set>,
    /// Set ids in Kamailio's `dispatcher.list` order (see `order.rs`).
    pub listing: Vec<i64>,
}

impl Sets {
    pub fn get(&self, id: i64) -> Option<&Set> {
        self.sets
            .binary_search_by_key(&id, |s| s.id)
            .ok()
            .map(|i| &self.sets[i])
    }
}

/// Module parameters (read once at start, as Kamailio's need a restart).
#[derive(Debug, Clone)]
pub struct Config {
    pub enabled: bool,
    pub list_path: PathBuf,
    pub flags: i64,
    pub force_dst: bool,
    pub probing_threshold: u32,
    pub inactive_threshold: u32,
    pub ping_interval_ms: u64,
    pub probing_mode: i64,
    /// `code=N` entries (>= 100) and `class=N` entries (1..6).
    pub ping_reply_codes: Vec<u16>,
    pub ping_method: String,
    pub ping_from: String,
    pub reload_delta_s: u64,
    /// How long a probe waits for its final reply: tm's `fr_timer` (Kamailio sends probes as tm
    /// transactions).
    pub probe_timeout_ms: u64,
}

impl Config {
    pub fn from_snapshot(snap: &sipvm_cfg::Snapshot) -> Config {
        let int = |p: &str, d: i64| {
            snap.modparam("dispatcher", p)
                .and_then(Value::try_int)
                .unwrap_or(d)
        };
        let text = |p: &str, d: &str| {
            snap.modparam("dispatcher", p)
                .map(|v| v.to_str().into_owned())
                .unwrap_or_else(|| d.to_string())
        };
        let list_file = text("list_file", "dispatcher.list");
        Config {
            enabled: snap.modules.iter().any(|m| m == "dispatcher"),
            list_path: list::resolve(&list_file, &snap.file),
            flags: int("flags", 0),
            force_dst: int("force_dst", 1) != 0,
            probing_threshold: int("ds_probing_threshold", 1).max(0) as u32,
            inactive_threshold: int("ds_inactive_threshold", 1).max(0) as u32,
            ping_interval_ms: int("ds_ping_interval", 0).max(0) as u64 * 1000,
            probing_mode: int("ds_probing_mode", PROBE_NONE),
            ping_reply_codes: reply_codes(&text("ds_ping_reply_codes", "")),
            ping_method: text("ds_ping_method", "OPTIONS"),
            ping_from: text("ds_ping_from", "sip:dispatcher@localhost"),
            reload_delta_s: int("reload_delta", 5).max(0) as u64,
            probe_timeout_ms: snap.modparam_int("tm", "fr_timer", 30000).max(100) as u64,
        }
    }

    /// Kamailio's defaults around one list file, for tests and tools: probing off, no reload
    /// delay, a 1 s probe timeout.
    pub fn with_list(list_path: PathBuf, flags: i64) -> Config {
        Config {
            enabled: true,
            list_path,
            flags,
            force_dst: true,
            probing_threshold: 1,
            inactive_threshold: 1,
            ping_interval_ms: 0,
            probing_mode: PROBE_NONE,
            ping_reply_codes: Vec::new(),
            ping_method: "OPTIONS".into(),
            ping_from: "sip:dispatcher@localhost".into(),
            reload_delta_s: 0,
            probe_timeout_ms: 1000,
        }
    }

    /// Whether a probe's final reply counts as "alive": any 2xx, or one listed in
    /// `ds_ping_reply_codes`.
    pub fn alive_code(&self, code: u16) -> bool {
        (200..300).contains(&code)
            || self.ping_reply_codes.iter().any(
                |&c| {
                    if c >= 100 {
                        c == code
                    } else {
                        c == code / 100
                    }
                },
            )
    }
}

/// `code=404;class=3`: the codes (100..699) and classes (1..6); anything else is ignored.
fn reply_codes(s: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for part in s.split(';') {
        let Some((n, v)) = part.split_once('=') else {
            continue;
        };
        let Ok(v) = v.trim().parse::<u16>() else {
            continue;
        };
        match n.trim().to_ascii_lowercase().as_str() {
            "code" if (100..700).contains(&v) => out.push(v),
            "class" if (1..7).contains(&v) => out.push(v),
            _ => {}
        }
    }
    out
}

/// Why `dispatcher.reload` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("Ongoing reload")]
    Ongoing,
    #[error("Reload Failed ({0})")]
    List(#[from] ListError),
}

/// A probe waiting for its reply.
#[derive(Debug, Clone)]
pub struct Probe {
    pub set: i64,
    pub uri: String,
    pub sent: Instant,
}

/// The module's state in `Shared`: outlives messages and `route.reload`.
#[derive(Debug)]
pub struct Dispatcher {
    pub cfg: Config,
    pub sets: ArcSwap<Sets>,
    /// `dispatcher.ping_active`.
    pub ping_active: AtomicBool,
    /// When the next round of probes is due (ms since `epoch`); one worker wins each round.
    pub next_ping_ms: AtomicU64,
    pub epoch: Instant,
    pub probes: Mutex<HashMap<String, Probe>>,
    pub probe_seq: AtomicU64,
    /// Kamailio refuses a reload within `reload_delta` seconds of the previous one.
    last_reload: Mutex<Option<Instant>>,
    /// Why the list could not be loaded at start (the server then refuses to run).
    pub startup_error: Option<ListError>,
}

impl Dispatcher {
    pub fn from_snapshot(snap: &sipvm_cfg::Snapshot) -> Dispatcher {
        Dispatcher::with_config(Config::from_snapshot(snap))
    }

    pub fn with_config(cfg: Config) -> Dispatcher {
        let mut startup_error = None;
        let sets = if cfg.enabled {
            match list::load(&cfg.list_path) {
                Ok(specs) => build(specs, None),
                Err(e) => {
                    startup_error = Some(e);
                    Sets::default()
                }
            }
        } else {
            Sets::default()
        };
        Dispatcher {
            next_ping_ms: AtomicU64::new(cfg.ping_interval_ms),
            cfg,
            sets: ArcSwap::from_pointee(sets),
            ping_active: AtomicBool::new(true),
            epoch: Instant::now(),
            probes: Mutex::new(HashMap::new()),
            probe_seq: AtomicU64::new(0),
            last_reload: Mutex::new(None),
            startup_error,
        }
    }

    /// `dispatcher.reload`: reads the list file again and swaps it in whole; a file that
    /// cannot be read or parsed leaves the running list as it is.
    pub fn reload(&self) -> Result<usize, ReloadError> {
        let mut last = self.last_reload.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = *last {
            if self.cfg.reload_delta_s > 0 && t.elapsed().as_secs() < self.cfg.reload_delta_s {
                return Err(ReloadError::Ongoing);
            }
        }
        *last = Some(Instant::now());
        let specs = list::load(&self.cfg.list_path)?;
        let old = self.sets.load();
        let new = build(specs, Some(&old));
        let n = new.sets.len();
        self.sets.store(Arc::new(new));
        tracing::info!(
            "dispatcher: reloaded {} ({n} sets)",
            self.cfg.list_path.display()
        );
        Ok(n)
    }

    /// The state bits of destination `uri` in set `set`.
    pub fn state_of(&self, set: i64, uri: &str) -> Option<u32> {
        let sets = self.sets.load();
        let d = sets
            .get(set)?
            .dests
            .iter()
            .find(|d| d.spec.uri.eq_ignore_ascii_case(uri))?;
        Some(d.flags())
    }

    /// Kamailio's `ds_update_state`: applies `state` to destination `uri` of set `set`, with
    /// the probing/inactive thresholds. False when there is no such destination.
    pub fn update_state(&self, set: i64, uri: &str, state: u32) -> bool {
        let sets = self.sets.load();
        let Some(s) = sets.get(set) else {
            return false;
        };
        let Some(d) = s
            .dests
            .iter()
            .find(|d| d.spec.uri.eq_ignore_ascii_case(uri))
        else {
            return false;
        };
        let old = d.flags();
        let mut state = state;
        let init = state;
        if state & TRYING != 0 && old & INACTIVE != 0 {
            // Inactive stays inactive: it must come back to active before trying again.
            state = (state & !TRYING) | INACTIVE;
        }
        let mut flags = old & !STATES_ALL;
        flags |= if state & DISABLED != 0 {
            DISABLED
        } else {
            state
        };
        if state & TRYING != 0 {
            let n = d.rt.count.fetch_add(1, Relaxed) + 1;
            if n >= self.cfg.probing_threshold {
                flags = (flags & !TRYING) | INACTIVE;
                d.rt.count.store(0, Relaxed);
            }
        } else if init & TRYING == 0 && old & INACTIVE != 0 {
            let n = d.rt.count.fetch_add(1, Relaxed) + 1;
            if n < self.cfg.inactive_threshold {
                flags |= INACTIVE | (old & PROBING);
            } else {
                d.rt.count.store(0, Relaxed);
            }
        } else {
            d.rt.count.store(0, Relaxed);
        }
        d.rt.flags.store(flags, Relaxed);
        if skipped(old) != skipped(flags) {
            tracing::info!(
                "dispatcher: {uri} in set {set} is {}",
                if skipped(flags) { "down" } else { "up" }
            );
            if d.attrs_rweight() > 0 {
                s.rebuild_rweights();
            }
        }
        true
    }

    /// `dispatcher.set_state`: sets the state bits as given (no thresholds); `uri` "all" sets
    /// every destination of the set. False when the set or destination does not exist.
    pub fn set_state(&self, set: i64, uri: &str, state: u32) -> bool {
        let sets = self.sets.load();
        let Some(s) = sets.get(set) else {
            return false;
        };
        let mut found = false;
        let mut rw = false;
        for d in &s.dests {
            if uri == "all" || d.spec.uri.eq_ignore_ascii_case(uri) {
                let old = d.flags();
                d.rt.flags.store((old & !STATES_ALL) | state, Relaxed);
                rw |= d.attrs_rweight() > 0 && skipped(old) != skipped(state);
                found = true;
                if uri != "all" {
                    break;
                }
            }
        }
        if rw {
            s.rebuild_rweights();
        }
        found || uri == "all"
    }
}

impl Set {
    fn new(id: i64, dests: Vec<Dest>, last: usize) -> Set {
        let n = dests.len().max(1);
        let mut s = Set {
            id,
            dests,
            last: AtomicUsize::new(last % n),
            wlist: Vec::new(),
            wlast: AtomicUsize::new(0),
            rwlist: Mutex::new(Vec::new()),
            rwlast: AtomicUsize::new(0),
        };
        s.wlist = s.weights();
        s.rebuild_rweights();
        s
    }

    /// 100 slots, each destination `weight` times (the last fills what is left), shuffled.
    /// Empty when the first destination has no weight (Kamailio's rule).
    fn weights(&self) -> Vec<u16> {
        if self.dests.first().is_none_or(|d| d.attrs_weight() == 0) {
            return Vec::new();
        }
        let mut w = Vec::with_capacity(100);
        'fill: for (i, d) in self.dests.iter().enumerate() {
            for _ in 0..d.attrs_weight() {
                if w.len() == 100 {
                    break 'fill;
                }
                w.push(i as u16);
            }
        }
        let last = (self.dests.len() - 1) as u16;
        w.resize(100, last);
        shuffle(&mut w);
        w
    }

    /// The relative-weight slots over the destinations that are not skipped.
    pub fn rebuild_rweights(&self) {
        let mut slots = Vec::with_capacity(100);
        if self.dests.len() >= 2 {
            let live: Vec<(usize, u32)> = self
                .dests
                .iter()
                .enumerate()
                .filter(|(_, d)| !skipped(d.flags()))
                .map(|(i, d)| (i, d.attrs_rweight()))
                .collect();
            let sum: u32 = live.iter().map(|(_, w)| w).sum();
            // Each destination rweight*100/sum slots (none at all when every rweight is 0).
            slots.extend(live.iter().flat_map(|&(i, w)| {
                let n = (w * 100).checked_div(sum).unwrap_or(0) as usize;
                std::iter::repeat_n(i as u16, n)
            }));
            if let Some(&fill) = slots.last() {
                slots.resize(100, fill);
                shuffle(&mut slots);
            }
        }
        *self.rwlist.lock().unwrap_or_else(|p| p.into_inner()) = slots;
    }
}

/// Builds the sets of a list. With `old`, a destination on the same set and URI with the same
/// flags column keeps its run-time state object, and a set keeps its round-robin position.
pub fn build(specs: Vec<DestSpec>, old: Option<&Sets>) -> Sets {
    let mut by_set: Vec<(i64, Vec<DestSpec>)> = Vec::new();
    for s in specs {
        match by_set.iter_mut().find(|(id, _)| *id == s.set) {
            Some((_, v)) => v.push(s),
            None => by_set.push((s.set, vec![s])),
        }
    }
    let first_seen: Vec<i64> = by_set.iter().map(|(id, _)| *id).collect();
    let mut sets: Vec<Set> = by_set
        .into_iter()
        .map(|(id, mut specs)| {
            // Highest priority first; equal priorities in reverse file order (Kamailio's).
            specs.reverse();
            specs.sort_by_key(|s| std::cmp::Reverse(s.priority));
            let prev = old.and_then(|o| o.get(id));
            let dests = specs
                .into_iter()
                .map(|spec| {
                    let kept = prev.and_then(|p| {
                        p.dests.iter().find(|d| {
                            d.spec.uri.eq_ignore_ascii_case(&spec.uri) && d.spec.flags == spec.flags
                        })
                    });
                    let rt = match kept {
                        Some(d) => d.rt.clone(),
                        None => Arc::new(Runtime {
                            flags: AtomicU32::new(spec.flags),
                            count: AtomicU32::new(0),
                        }),
                    };
                    make_dest(spec, rt)
                })
                .collect();
            let last = prev.map_or(0, |p| p.last.load(Relaxed));
            Set::new(id, dests, last)
        })
        .collect();
    sets.sort_by_key(|s| s.id);
    Sets {
        sets,
        listing: super::order::listing_order(&first_seen),
    }
}

fn make_dest(spec: DestSpec, rt: Arc<Runtime>) -> Dest {
    let (host, port, proto, addr) = match crate::sip::Uri::parse(&spec.uri) {
        Ok(u) => {
            let proto = u.param("transport").flatten().and_then(Proto::from_name);
            let default = if u.scheme() == crate::sip::Scheme::Sips {
                5061
            } else {
                5060
            };
            let addr = crate::forward::resolve(u.host(), u.port(), default);
            (u.host().to_string(), u.port().unwrap_or(0), proto, addr)
        }
        Err(_) => (String::new(), 0, None, None),
    };
    Dest {
        uri_value: Value::str(&spec.uri),
        spec,
        addr,
        proto,
        host,
        port,
        rt,
    }
}

/// Fisher-Yates with the module's random numbers.
fn shuffle(v: &mut [u16]) {
    for j in 0..v.len() {
        let k = j + (super::algo::random() as usize % (v.len() - j));
        v.swap(j, k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_list(name: &str, text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("sipvm-ds-{}-{name}.list", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    fn with_file(path: PathBuf) -> Dispatcher {
        let mut cfg = crate::modules::dispatcher::algo::tests::test_cfg();
        cfg.enabled = true;
        cfg.list_path = path;
        Dispatcher::with_config(cfg)
    }

    #[test]
    fn state_survives_reload_for_unchanged_destinations() {
        let p = temp_list(
            "keep",
            "1 sip:127.0.0.1:1 0 0\n1 sip:127.0.0.1:2 0 0\n1 sip:127.0.0.1:3 8\n",
        );
        let d = with_file(p.clone());
        assert!(d.startup_error.is_none());
        assert!(d.set_state(1, "sip:127.0.0.1:1", INACTIVE | PROBING));
        assert!(d.set_state(1, "sip:127.0.0.1:3", DISABLED));
        assert!(d.update_state(1, "sip:127.0.0.1:2", TRYING));
        // 2 went inactive with the default threshold 1; a new destination, and 3's flags
        // column changes: that one takes the file's state.
        std::fs::write(&p, "1 sip:127.0.0.1:1 0 0\n1 sip:127.0.0.1:2 0 0\n1 sip:127.0.0.1:3 0\n1 sip:127.0.0.1:4\n").unwrap();
        d.reload().unwrap();
        assert_eq!(d.state_of(1, "sip:127.0.0.1:1"), Some(INACTIVE | PROBING));
        assert_eq!(d.state_of(1, "sip:127.0.0.1:2"), Some(INACTIVE));
        assert_eq!(d.state_of(1, "sip:127.0.0.1:3"), Some(0));
        assert_eq!(d.state_of(1, "sip:127.0.0.1:4"), Some(0));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn malformed_reload_changes_nothing() {
        let p = temp_list("bad", "1 sip:127.0.0.1:1\n2 sip:127.0.0.1:2\n");
        let d = with_file(p.clone());
        let before = d.sets.load_full();
        std::fs::write(&p, "1 sip:127.0.0.1:1\n\n# c\n2 sip:127.0.0.1:2 x\n").unwrap();
        let e = d.reload().unwrap_err().to_string();
        assert_eq!(
            e,
            format!("Reload Failed ({}:4: bad flags \"x\")", p.display())
        );
        assert!(Arc::ptr_eq(&before, &d.sets.load_full()));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn reload_delta_refuses_a_quick_second_reload() {
        let p = temp_list("delta", "1 sip:127.0.0.1:1\n");
        let mut d = with_file(p.clone());
        d.cfg.reload_delta_s = 5;
        assert!(d.reload().is_ok());
        assert!(matches!(d.reload(), Err(ReloadError::Ongoing)));
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn readers_see_one_whole_list_while_reloads_swap() {
        let a = "1 sip:10.0.0.1 0 0 duid=a\n1 sip:10.0.0.2 0 0 duid=a\n1 sip:10.0.0.3 0 0 duid=a\n";
        let b = "1 sip:10.0.1.1 0 0 duid=b\n1 sip:10.0.1.2 0 0 duid=b\n";
        let p = temp_list("swap", a);
        let d = Arc::new(with_file(p.clone()));
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let (d, stop) = (d.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut n = 0u64;
                    while !stop.load(Relaxed) {
                        let sets = d.sets.load();
                        let s = sets.get(1).unwrap();
                        let duid = |x: &Dest| x.spec.attrs.as_ref().unwrap().duid.clone();
                        let first = duid(&s.dests[0]);
                        assert!(s.dests.iter().all(|x| duid(x) == first));
                        let want = if first.as_deref() == Some("a") { 3 } else { 2 };
                        assert_eq!(s.dests.len(), want);
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        for i in 0..200 {
            std::fs::write(&p, if i % 2 == 0 { b } else { a }).unwrap();
            d.reload().unwrap();
        }
        stop.store(true, Relaxed);
        for r in readers {
            assert!(r.join().unwrap() > 0);
        }
        std::fs::remove_file(&p).unwrap();
    }
}
