//! pike's counting: per source address, the requests of the current and the previous sampling
//! window, and whether the address is blocked ("red"). Shared by every worker: the addresses
//! are spread over `SHARDS` mutex-guarded maps, so two workers contend only when their
//! addresses fall in the same shard. Time is passed in (milliseconds on the state's clock),
//! so the logic is tested on simulated time.
//!
//! Kamailio's facts kept (5.6 `ip_tree.c`, `pike_funcs.c`): an address is hot when the hits of
//! the previous window, of the current one, or their mean reach `reqs_density_per_unit`; the
//! request that makes it hot is refused with -2 (logged once), later ones with -1; the windows
//! turn every `sampling_time_unit` seconds for all addresses at once, and an address is
//! unblocked at the first turn where it is no longer hot; an address is forgotten
//! `remove_latency` seconds after its last request, by a sweep that runs about once a second.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};

/// The most addresses tracked at once. Kamailio's tree grows until shared memory runs out; a
/// spoofed-source UDP flood could make that any size, so sipvm bounds it. 131072 entries are
/// about 10 MiB, far more than the distinct sources a proxy hears within `remove_latency`.
pub const MAX_TRACKED: usize = 1 << 17;
/// Independent locks; a power of two.
pub const SHARDS: usize = 64;
const PER_SHARD: usize = MAX_TRACKED / SHARDS;
/// A full shard frees this many entries at once (after dropping the expired ones), so a
/// stream of new addresses pays for one scan per `EVICT_BATCH` inserts.
const EVICT_BATCH: usize = PER_SHARD / 8;
/// How often the idle entries are swept, at most.
pub const SWEEP_EVERY_MS: u64 = 1000;

/// The module parameters, as used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `sampling_time_unit`, in ms (default 2 s).
    pub unit_ms: u64,
    /// `reqs_density_per_unit` (default 30).
    pub density: u32,
    /// `remove_latency`, in ms (default 120 s).
    pub latency_ms: u64,
    /// `pike_log_level`, a Kamailio level number (default `L_WARN`, 0).
    pub log_level: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            unit_ms: 2000,
            density: 30,
            latency_ms: 120_000,
            log_level: 0,
        }
    }
}

impl Config {
    /// From `modparam("pike", ...)` settings (the last of each wins); an error names the
    /// parameter.
    pub fn from_modparams(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<Config, String> {
        let get = |p: &str, min: i64| -> Result<Option<i64>, String> {
            let Some(s) = m.iter().rev().find(|s| s.module == "pike" && s.param == p) else {
                return Ok(None);
            };
            match s.value.try_int() {
                Some(n) if n >= min => Ok(Some(n)),
                Some(n) => Err(format!("{p}: {n} is below {min}")),
                None => Err(format!("{p}: not an integer: \"{}\"", s.value.to_str())),
            }
        };
        let d = Config::default();
        // Kamailio keeps hit counters in 16 bits; larger values would never block there.
        let density = get("reqs_density_per_unit", 1)?.map_or(d.density, |n| {
            u32::try_from(n.min(i64::from(u32::MAX))).unwrap_or(u32::MAX)
        });
        Ok(Config {
            unit_ms: get("sampling_time_unit", 1)?
                .map_or(d.unit_ms, |n| (n.min(86_400 * 365) as u64) * 1000),
            density,
            latency_ms: get("remove_latency", 0)?
                .map_or(d.latency_ms, |n| (n.min(86_400 * 365) as u64) * 1000),
            log_level: get("pike_log_level", i64::MIN)?.unwrap_or(d.log_level),
        })
    }
}

/// What `pike_check_req()` / `pike_check_ip()` answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 1: not flooding.
    Ok,
    /// -1: flooding, detected before.
    Blocked,
    /// -2: flooding, detected by this request.
    NewlyBlocked,
}

impl Verdict {
    pub fn code(self) -> i64 {
        match self {
            Verdict::Ok => 1,
            Verdict::Blocked => -1,
            Verdict::NewlyBlocked => -2,
        }
    }
}

/// `pike.top`'s status of an address (Kamailio's `node_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok,
    Warm,
    Hot,
}

impl Status {
    /// Kamailio's `node_status_array`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "",
            Status::Warm => "WARM",
            Status::Hot => "HOT",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// The window `curr` counts (`now_ms / unit_ms`).
    window: u64,
    prev: u32,
    curr: u32,
    red: bool,
    last_ms: u64,
}

fn hot(prev: u32, curr: u32, max: u32) -> bool {
    prev >= max || curr >= max || (u64::from(prev) + u64::from(curr)) / 2 >= u64::from(max)
}

impl Entry {
    /// The counters as of window `w`: what Kamailio's swap timer would have made of them.
    fn view(&self, w: u64) -> (u32, u32) {
        if self.window == w {
            (self.prev, self.curr)
        } else if self.window + 1 == w {
            (self.curr, 0)
        } else {
            (0, 0)
        }
    }

    /// Moves to window `w`; true when that unblocks the address.
    fn roll(&mut self, w: u64, max: u32) -> bool {
        if self.window >= w {
            return false;
        }
        (self.prev, self.curr) = self.view(w);
        self.window = w;
        if self.red && !hot(self.prev, self.curr, max) {
            self.red = false;
            return true;
        }
        false
    }
}

#[derive(Default)]
struct Shard {
    map: HashMap<IpAddr, Entry>,
}

/// One row of `pike.top`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub ip: IpAddr,
    pub leaf_hits_prev: u32,
    pub leaf_hits_curr: u32,
    /// Seconds until the address is forgotten.
    pub expires: u64,
    pub status: Status,
}

/// What one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub removed: usize,
    pub unblocked: Vec<IpAddr>,
}

/// The tracked addresses.
pub struct Table {
    pub cfg: Config,
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    next_sweep_ms: AtomicU64,
    /// Kamailio's `pike:blocked_ips` counter: addresses newly blocked.
    pub blocked: AtomicU64,
}

/// The canonical form: an IPv4-mapped IPv6 source is its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

impl Table {
    pub fn new(cfg: Config) -> Table {
        Table {
            cfg,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
            next_sweep_ms: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
        }
    }

    fn shard(&self, ip: &IpAddr) -> MutexGuard<'_, Shard> {
        let i = (self.hasher.hash_one(ip) as usize) & (SHARDS - 1);
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn window(&self, now_ms: u64) -> u64 {
        now_ms / self.cfg.unit_ms.max(1)
    }

    fn expired(&self, e: &Entry, now_ms: u64) -> bool {
        now_ms >= e.last_ms.saturating_add(self.cfg.latency_ms)
    }

    /// One request from `ip` at `now_ms`. The second value is true when this request's window
    /// turn unblocked the address (for the log line).
    pub fn hit(&self, ip: IpAddr, now_ms: u64) -> (Verdict, bool) {
        let ip = canonical(ip);
        let w = self.window(now_ms);
        let max = self.cfg.density;
        let mut shard = self.shard(&ip);
        if !shard.map.contains_key(&ip) && shard.map.len() >= PER_SHARD {
            self.make_room(&mut shard, now_ms);
        }
        let e = shard.map.entry(ip).or_insert(Entry {
            window: w,
            prev: 0,
            curr: 0,
            red: false,
            last_ms: now_ms,
        });
        let unblocked = e.roll(w, max);
        e.curr = e.curr.saturating_add(1);
        e.last_ms = e.last_ms.max(now_ms);
        let verdict = if !hot(e.prev, e.curr, max) {
            Verdict::Ok
        } else if e.red {
            Verdict::Blocked
        } else {
            e.red = true;
            Verdict::NewlyBlocked
        };
        drop(shard);
        if verdict == Verdict::NewlyBlocked {
            self.blocked.fetch_add(1, Relaxed);
        }
        (verdict, unblocked)
    }

    /// A full shard: drop the expired entries, then (if still full) the least recently heard
    /// ones, unblocked ones first, so spraying new sources does not lift a block.
    fn make_room(&self, shard: &mut Shard, now_ms: u64) {
        shard.map.retain(|_, e| !self.expired(e, now_ms));
        if shard.map.len() < PER_SHARD {
            return;
        }
        let mut by_age: Vec<(bool, u64, IpAddr)> = shard
            .map
            .iter()
            .map(|(ip, e)| (e.red, e.last_ms, *ip))
            .collect();
        let n = EVICT_BATCH.clamp(1, by_age.len());
        by_age.select_nth_unstable(n - 1);
        for (_, _, ip) in &by_age[..n] {
            shard.map.remove(ip);
        }
    }

    /// Forgets the addresses idle for `remove_latency` and turns the windows of the blocked
    /// ones (the unblocked are returned, for the log).
    pub fn sweep(&self, now_ms: u64) -> Swept {
        let w = self.window(now_ms);
        let max = self.cfg.density;
        let mut out = Swept::default();
        for s in self.shards.iter() {
            let mut s = s.lock().unwrap_or_else(|p| p.into_inner());
            let before = s.map.len();
            s.map.retain(|ip, e| {
                if self.expired(e, now_ms) {
                    return false;
                }
                if e.red && e.roll(w, max) {
                    out.unblocked.push(*ip);
                }
                true
            });
            out.removed += before - s.map.len();
        }
        out
    }

    /// Runs `sweep` when `SWEEP_EVERY_MS` passed since the last one, on one caller only.
    pub fn maybe_sweep(&self, now_ms: u64) -> Option<Swept> {
        let next = self.next_sweep_ms.load(Relaxed);
        if now_ms < next {
            return None;
        }
        self.next_sweep_ms
            .compare_exchange(next, now_ms + SWEEP_EVERY_MS, Relaxed, Relaxed)
            .ok()?;
        Some(self.sweep(now_ms))
    }

    /// The tracked addresses with at least status `min` (all of them for `Status::Ok`), in
    /// address order; `exact` keeps only that status.
    pub fn top(&self, min: Status, exact: bool, now_ms: u64) -> Vec<Row> {
        let w = self.window(now_ms);
        let max = self.cfg.density;
        let mut rows = Vec::new();
        for s in self.shards.iter() {
            let s = s.lock().unwrap_or_else(|p| p.into_inner());
            for (ip, e) in &s.map {
                let (prev, curr) = e.view(w);
                let status = if hot(prev, curr, max) {
                    Status::Hot
                } else if curr >= max >> 2 {
                    Status::Warm
                } else {
                    Status::Ok
                };
                if status < min || (exact && status != min) {
                    continue;
                }
                let expires = e
                    .last_ms
                    .saturating_add(self.cfg.latency_ms)
                    .saturating_sub(now_ms)
                    / 1000;
                rows.push(Row {
                    ip: *ip,
                    leaf_hits_prev: prev,
                    leaf_hits_curr: curr,
                    expires,
                    status,
                });
            }
        }
        rows.sort_by_key(|r| r.ip);
        rows
    }

    /// How many addresses are tracked.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).map.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn table(unit_s: u64, density: u32, latency_s: u64) -> Table {
        Table::new(Config {
            unit_ms: unit_s * 1000,
            density,
            latency_ms: latency_s * 1000,
            log_level: 0,
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn codes(t: &Table, a: IpAddr, n: usize, now_ms: u64) -> Vec<i64> {
        (0..n).map(|_| t.hit(a, now_ms).0.code()).collect()
    }

    #[test]
    fn the_density_th_request_of_a_window_blocks() {
        let t = table(2, 5, 120);
        let a = ip("192.0.2.1");
        assert_eq!(codes(&t, a, 7, 100), [1, 1, 1, 1, -2, -1, -1]);
        assert_eq!(t.blocked.load(Relaxed), 1);
        // Another address is not affected.
        assert_eq!(t.hit(ip("192.0.2.2"), 100).0, Verdict::Ok);
    }

    #[test]
    fn a_slow_source_is_never_blocked() {
        let t = table(2, 5, 120);
        let a = ip("192.0.2.1");
        // 4 per 2 s window, for a minute.
        for w in 0..30u64 {
            assert_eq!(codes(&t, a, 4, w * 2000 + 10), [1, 1, 1, 1], "window {w}");
        }
    }

    #[test]
    fn blocking_lasts_until_a_window_below_the_density() {
        let t = table(2, 5, 120);
        let a = ip("198.51.100.9");
        assert_eq!(codes(&t, a, 6, 0), [1, 1, 1, 1, -2, -1]);
        // Next window: the previous one (6 hits) still makes it hot.
        assert_eq!(codes(&t, a, 1, 2000), [-1]);
        // The window after: the previous had 1 hit: unblocked at the turn.
        let (v, unblocked) = t.hit(a, 4000);
        assert_eq!((v, unblocked), (Verdict::Ok, true));
        // Flooding again is a new detection.
        assert_eq!(codes(&t, a, 4, 4500), [1, 1, 1, -2]);
        assert_eq!(t.blocked.load(Relaxed), 2);
    }

    #[test]
    fn a_flood_that_goes_on_stays_blocked() {
        let t = table(2, 5, 120);
        let a = ip("198.51.100.9");
        assert_eq!(codes(&t, a, 5, 0)[4], -2);
        for w in 1..20u64 {
            assert_eq!(codes(&t, a, 5, w * 2000), [-1; 5], "window {w}");
        }
    }

    #[test]
    fn the_sweep_unblocks_and_forgets() {
        let t = table(2, 5, 10);
        let a = ip("203.0.113.5");
        let b = ip("203.0.113.6");
        codes(&t, a, 5, 0);
        codes(&t, b, 1, 0);
        assert_eq!(t.sweep(1000), Swept::default());
        let s = t.sweep(2100);
        assert_eq!(s, Swept::default(), "previous window still hot");
        let s = t.sweep(4100);
        assert_eq!(s.unblocked, vec![a]);
        assert_eq!(t.top(Status::Hot, true, 4100), vec![]);
        assert_eq!(t.len(), 2);
        // 10 s after their last request, both are gone.
        assert_eq!(t.sweep(9999).removed, 0);
        assert_eq!(t.sweep(10_000).removed, 2);
        assert!(t.is_empty());
        // Forgotten: counting starts again.
        assert_eq!(codes(&t, a, 4, 10_500), [1, 1, 1, 1]);
    }

    #[test]
    fn requests_keep_an_address_in_memory() {
        let t = table(2, 50, 10);
        let a = ip("203.0.113.5");
        for s in 0..30u64 {
            t.hit(a, s * 1000);
            assert_eq!(t.sweep(s * 1000 + 500).removed, 0);
        }
        assert_eq!(t.sweep(29_000 + 10_000).removed, 1);
    }

    #[test]
    fn maybe_sweep_runs_once_per_second() {
        let t = table(2, 5, 1);
        assert!(t.maybe_sweep(0).is_some());
        assert!(t.maybe_sweep(10).is_none());
        assert!(t.maybe_sweep(999).is_none());
        assert!(t.maybe_sweep(1000).is_some());
        assert!(t.maybe_sweep(1500).is_none());
    }

    #[test]
    fn mean_of_two_windows_counts() {
        // Kamailio's third rule, (prev + curr) / 2 >= max, never fires alone (one of the two
        // is then >= max); the result is the same as the first two rules.
        assert!(hot(10, 0, 10) && hot(0, 10, 10) && !hot(9, 9, 10));
        assert!(hot(u32::MAX, u32::MAX, u32::MAX));
    }

    #[test]
    fn top_lists_hot_warm_and_all() {
        let t = table(2, 8, 120);
        codes(&t, ip("10.0.0.3"), 9, 0); // hot
        codes(&t, ip("10.0.0.1"), 3, 0); // warm: 3 >= 8 >> 2
        codes(&t, ip("10.0.0.2"), 1, 0); // ok
        let hot = t.top(Status::Hot, true, 500);
        assert_eq!(hot.len(), 1);
        assert_eq!(
            hot[0],
            Row {
                ip: ip("10.0.0.3"),
                leaf_hits_prev: 0,
                leaf_hits_curr: 9,
                expires: 119,
                status: Status::Hot
            }
        );
        let warm = t.top(Status::Warm, true, 500);
        assert_eq!(
            warm.iter().map(|r| r.ip).collect::<Vec<_>>(),
            [ip("10.0.0.1")]
        );
        let all = t.top(Status::Ok, false, 500);
        let ips: Vec<_> = all.iter().map(|r| r.ip.to_string()).collect();
        assert_eq!(ips, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
        // One window later the counts have moved to "prev"; two later they are zero.
        let r = &t.top(Status::Hot, true, 2000)[0];
        assert_eq!((r.leaf_hits_prev, r.leaf_hits_curr), (9, 0));
        assert!(t.top(Status::Hot, true, 4000).is_empty());
    }

    #[test]
    fn mapped_ipv6_is_the_ipv4_address() {
        let t = table(2, 3, 120);
        codes(&t, ip("192.0.2.1"), 2, 0);
        assert_eq!(t.hit(ip("::ffff:192.0.2.1"), 0).0, Verdict::NewlyBlocked);
        assert_eq!(t.len(), 1);
        assert_eq!(t.hit(ip("2001:db8::1"), 0).0, Verdict::Ok);
    }

    #[test]
    fn counters_saturate() {
        let t = table(2, u32::MAX, 120);
        let a = ip("192.0.2.1");
        {
            let mut s = t.shard(&a);
            s.map.insert(
                a,
                Entry {
                    window: 0,
                    prev: 0,
                    curr: u32::MAX - 1,
                    red: false,
                    last_ms: 0,
                },
            );
        }
        assert_eq!(t.hit(a, 0).0, Verdict::NewlyBlocked);
        assert_eq!(t.hit(a, 0).0, Verdict::Blocked);
    }

    #[test]
    fn the_table_is_capped_and_keeps_blocked_sources() {
        let t = table(2, 3, 120);
        let flooder = ip("198.51.100.1");
        codes(&t, flooder, 3, 0);
        // A spray of twice the cap in new sources, none expired.
        for i in 0..(2 * MAX_TRACKED) as u32 {
            let a = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
            assert_eq!(t.hit(a, 1 + u64::from(i) / 1000).0, Verdict::Ok);
        }
        assert!(t.len() <= MAX_TRACKED, "{} tracked", t.len());
        assert!(t.len() > MAX_TRACKED / 2, "{} tracked", t.len());
        // The block survived the eviction of the oldest entries.
        assert_eq!(t.hit(flooder, 2000).0, Verdict::Blocked);
        // The most recent sources are still there, the oldest gone.
        let last = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + 2 * MAX_TRACKED as u32 - 1));
        let first = IpAddr::V4(Ipv4Addr::from(0x0a00_0000));
        let all = t.top(Status::Ok, false, 2000);
        assert!(all.iter().any(|r| r.ip == last));
        assert!(!all.iter().any(|r| r.ip == first));
    }

    #[test]
    fn a_full_shard_drops_expired_entries_first() {
        let t = table(2, 3, 10);
        for i in 0..(MAX_TRACKED as u32) {
            t.hit(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 0);
        }
        // 20 s later, everything is expired: new sources replace them without a sweep.
        for i in 0..(MAX_TRACKED as u32) {
            t.hit(IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i)), 20_000);
        }
        assert!(t.len() <= MAX_TRACKED);
        let old = t
            .top(Status::Ok, false, 20_000)
            .iter()
            .filter(|r| matches!(r.ip, IpAddr::V4(v) if v.octets()[0] == 10))
            .count();
        assert_eq!(old, 0);
    }

    #[test]
    fn config_from_modparams() {
        use sipvm_lang::compile::ModParamSetting;
        use sipvm_vm::Value;
        let set = |p: &str, v: Value| ModParamSetting {
            module: "pike".into(),
            param: p.into(),
            value: v,
        };
        assert_eq!(Config::from_modparams(&[]).unwrap(), Config::default());
        let c = Config::from_modparams(&[
            set("sampling_time_unit", Value::Int(10)),
            set("reqs_density_per_unit", Value::Int(16)),
            set("remove_latency", Value::Int(4)),
            set("pike_log_level", Value::Int(-1)),
        ])
        .unwrap();
        assert_eq!(
            c,
            Config {
                unit_ms: 10_000,
                density: 16,
                latency_ms: 4000,
                log_level: -1
            }
        );
        let e = Config::from_modparams(&[set("sampling_time_unit", Value::Int(0))]);
        assert!(e.unwrap_err().contains("sampling_time_unit"));
        assert!(Config::from_modparams(&[set("reqs_density_per_unit", Value::Int(0))]).is_err());
        assert!(Config::from_modparams(&[set("remove_latency", Value::Int(-1))]).is_err());
    }
}
