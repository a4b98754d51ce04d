//! Choosing a destination of a set: the algorithms, skipping inactive destinations, and the
//! order of the failover candidates (Kamailio's `ds_manage_routes`).

use super::state::{skipped, Set};
use std::sync::atomic::Ordering::Relaxed;

/// The algorithms sipvm has; Kamailio's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// 0, 1, 2, 3: a hash of the Call-ID, From URI, To URI or R-URI (computed by the caller).
    Hash(u32),
    /// 4: a counter per set, shared by every worker.
    RoundRobin,
    /// 6
    Random,
    /// 8: the first destination in set order (highest priority).
    Priority,
    /// 9: by `weight` attribute.
    Weight,
    /// 11: by `rweight` over the active destinations.
    RelWeight,
}

/// Why an algorithm number cannot be used.
pub fn unsupported(alg: i64) -> String {
    let name = match alg {
        5 => "hash over the authorization user",
        7 => "hash over hash_pvar",
        10 => "call load",
        12 => "parallel forking",
        13 => "latency optimized",
        _ => "unknown",
    };
    format!(
        "ds_select: algorithm {alg} ({name}) is not implemented by sipvm (0-4, 6, 8, 9 and 11 are)"
    )
}

/// The chosen destination's index, then the others to fail over to (after it in set order,
/// then before it, skipping inactive ones), at most `limit` in all. `None`: every destination
/// is inactive.
pub fn select(set: &Set, alg: Alg, limit: usize) -> Option<Vec<usize>> {
    let n = set.dests.len();
    if n == 0 {
        return None;
    }
    let mut rr_seen = None;
    let start = match alg {
        Alg::Hash(h) => h as usize,
        Alg::RoundRobin => {
            // Take a slot; the counter moves on past the destination really used below.
            let v = set
                .last
                .fetch_update(Relaxed, Relaxed, |l| Some((l + 1) % n))
                .unwrap_or(0);
            rr_seen = Some((v + 1) % n);
            v
        }
        Alg::Random => random() as usize,
        Alg::Priority => 0,
        Alg::Weight => match set.wlist.len() {
            0 => 0,
            len => set.wlist[set.wlast.fetch_add(1, Relaxed) % len] as usize,
        },
        Alg::RelWeight => {
            let rw = set.rwlist.lock().unwrap_or_else(|p| p.into_inner());
            match rw.len() {
                0 => 0,
                len => rw[set.rwlast.fetch_add(1, Relaxed) % len] as usize,
            }
        }
    } % n;
    let mut i = start;
    while skipped(set.dests[i].flags()) {
        i = (i + 1) % n;
        if i == start {
            return None;
        }
    }
    if let Some(seen) = rr_seen {
        // An inactive destination was skipped: the next request starts after the one used,
        // unless another request moved the counter meanwhile.
        let _ = set
            .last
            .compare_exchange(seen, (i + 1) % n, Relaxed, Relaxed);
    }
    let mut out = Vec::with_capacity(n.min(limit.max(1)));
    out.push(i);
    for j in (i + 1..n).chain(0..i) {
        if out.len() >= limit {
            break;
        }
        if !skipped(set.dests[j].flags()) {
            out.push(j);
        }
    }
    Some(out)
}

/// FNV-1a over the key parts: stable across workers and restarts (not Kamailio's hash, so the
/// same Call-ID may land on another destination than under Kamailio, but always the same one).
pub fn hash(parts: &[&str]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for b in p.bytes() {
            h = (h ^ b as u32).wrapping_mul(0x0100_0193);
        }
    }
    h
}

/// The hash key of a URI as Kamailio builds it: the user, then `host[:port]` (the port left
/// out when it is the scheme's default) unless only the user is wanted.
pub fn uri_key(uri: &str, user_only: bool) -> Option<u32> {
    let u = crate::sip::Uri::parse(uri.trim()).ok()?;
    let user = u.user().unwrap_or("");
    if user_only {
        return Some(hash(&[user]));
    }
    let default = if u.scheme() == crate::sip::Scheme::Sips {
        5061
    } else {
        5060
    };
    let hp = match u.port() {
        Some(p) if p != default => u.hostport(),
        _ => u.host(),
    };
    Some(hash(&[user, hp]))
}

/// A random number (algorithm 6, weight shuffles, probe tags).
pub fn random() -> u32 {
    crate::host::rng::next_u32()
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::modules::dispatcher::list::parse;
    use crate::modules::dispatcher::state::{build, Sets, INACTIVE};

    fn sets(text: &str) -> Sets {
        build(parse(text, "t").unwrap(), None)
    }

    fn uris(s: &Set, order: &[usize]) -> Vec<String> {
        order.iter().map(|&i| s.dests[i].spec.uri.clone()).collect()
    }

    const THREE: &str = "1 sip:127.0.0.1:5081\n1 sip:127.0.0.1:5082\n1 sip:127.0.0.1:5083\n";

    #[test]
    fn set_order_is_kamailios() {
        let s = sets("1 sip:a 0 0\n1 sip:b 0 5\n1 sip:c 0 0\n1 sip:d 0 5\n2 sip:e\n");
        let one = s.get(1).unwrap();
        let order: Vec<&str> = one.dests.iter().map(|d| d.spec.uri.as_str()).collect();
        assert_eq!(order, ["sip:d", "sip:b", "sip:c", "sip:a"]);
        assert!(s.get(3).is_none());
    }

    #[test]
    fn round_robin_splits_evenly_and_skips_inactive() {
        let s = sets(THREE);
        let set = s.get(1).unwrap();
        let mut count = [0usize; 3];
        for _ in 0..300 {
            count[select(set, Alg::RoundRobin, usize::MAX).unwrap()[0]] += 1;
        }
        assert_eq!(count, [100, 100, 100]);
        set.dests[1].rt.flags.store(INACTIVE, Relaxed);
        let mut count = [0usize; 3];
        for _ in 0..300 {
            count[select(set, Alg::RoundRobin, usize::MAX).unwrap()[0]] += 1;
        }
        assert_eq!(count[1], 0);
        assert_eq!(count[0] + count[2], 300);
        assert!(count[0].abs_diff(count[2]) <= 2, "{count:?}");
    }

    #[test]
    fn failover_order_and_limit() {
        let s = sets(THREE);
        let set = s.get(1).unwrap();
        // Set order is 5083, 5082, 5081; starting at index 1 the rest wraps around.
        let order = select(set, Alg::Hash(1), usize::MAX).unwrap();
        assert_eq!(
            uris(set, &order),
            [
                "sip:127.0.0.1:5082",
                "sip:127.0.0.1:5081",
                "sip:127.0.0.1:5083"
            ]
        );
        assert_eq!(select(set, Alg::Hash(1), 2).unwrap(), [1, 2]);
        assert_eq!(select(set, Alg::Hash(1), 1).unwrap(), [1]);
        set.dests[2].rt.flags.store(INACTIVE, Relaxed);
        assert_eq!(select(set, Alg::Hash(2), usize::MAX).unwrap(), [0, 1]);
        for d in &set.dests {
            d.rt.flags.store(INACTIVE, Relaxed);
        }
        assert_eq!(select(set, Alg::Hash(0), usize::MAX), None);
        assert_eq!(select(set, Alg::RoundRobin, usize::MAX), None);
    }

    #[test]
    fn hash_algorithms_are_deterministic_and_spread() {
        let s = sets(THREE);
        let set = s.get(1).unwrap();
        let mut count = [0usize; 3];
        for i in 0..3000 {
            let cid = format!("call-{i}@host");
            let a = select(set, Alg::Hash(hash(&[&cid])), 1).unwrap()[0];
            let b = select(set, Alg::Hash(hash(&[&cid])), 1).unwrap()[0];
            assert_eq!(a, b);
            count[a] += 1;
        }
        assert!(count.iter().all(|&c| c > 800), "{count:?}");
        // URI keys: the default port and parameters do not change the key.
        assert_eq!(
            uri_key("sip:bob@example.com", false),
            uri_key("sip:bob@example.com:5060;transport=udp", false)
        );
        assert_ne!(
            uri_key("sip:bob@example.com", false),
            uri_key("sip:bob@example.com:5070", false)
        );
        assert_eq!(
            uri_key("sip:bob@a.example", true),
            uri_key("sip:bob@b.example", true)
        );
        assert_ne!(uri_key("sip:bob@a", false), uri_key("sip:alice@a", false));
    }

    #[test]
    fn random_spreads() {
        let s = sets(THREE);
        let set = s.get(1).unwrap();
        let mut count = [0usize; 3];
        for _ in 0..3000 {
            count[select(set, Alg::Random, 1).unwrap()[0]] += 1;
        }
        assert!(count.iter().all(|&c| c > 800), "{count:?}");
    }

    #[test]
    fn priority_takes_the_highest_active() {
        let s = sets("1 sip:low 0 1\n1 sip:high 0 9\n1 sip:mid 0 5\n");
        let set = s.get(1).unwrap();
        let order = select(set, Alg::Priority, usize::MAX).unwrap();
        assert_eq!(uris(set, &order), ["sip:high", "sip:mid", "sip:low"]);
        set.dests[0].rt.flags.store(INACTIVE, Relaxed);
        assert_eq!(
            uris(set, &select(set, Alg::Priority, 1).unwrap()),
            ["sip:mid"]
        );
    }

    #[test]
    fn weight_distribution() {
        let s = sets("1 sip:a 0 0 weight=20\n1 sip:b 0 0 weight=80\n");
        let set = s.get(1).unwrap();
        let mut count = std::collections::HashMap::new();
        for _ in 0..1000 {
            let i = select(set, Alg::Weight, 1).unwrap()[0];
            *count.entry(set.dests[i].spec.uri.clone()).or_insert(0) += 1;
        }
        // Exact per 100 requests: the slots are cycled.
        assert_eq!(count["sip:a"], 200);
        assert_eq!(count["sip:b"], 800);
        // Without a weight on the first destination (in set order), algorithm 9 takes it.
        let s = sets("1 sip:a 0 0 weight=80\n1 sip:b 0 0\n");
        let set = s.get(1).unwrap();
        assert_eq!(uris(set, &select(set, Alg::Weight, 1).unwrap()), ["sip:b"]);
    }

    #[test]
    fn relative_weight_follows_active_destinations() {
        let s = sets("1 sip:a 0 0 rweight=25\n1 sip:b 0 0 rweight=75\n1 sip:c 0 0 rweight=50\n");
        let set = s.get(1).unwrap();
        let pick = |n: usize| {
            let mut count = std::collections::HashMap::new();
            for _ in 0..n {
                let i = select(set, Alg::RelWeight, 1).unwrap()[0];
                *count.entry(set.dests[i].spec.uri.clone()).or_insert(0usize) += 1;
            }
            count
        };
        let c = pick(1000);
        // 50/150, 75/150, 25/150 of 100 slots: 33, 50, 16 (+1 filler for the last).
        assert_eq!((c["sip:c"], c["sip:b"]), (330, 500));
        // c goes down: the slots are rebuilt over a and b only.
        let ds = crate::modules::dispatcher::state::Dispatcher::with_config(test_cfg());
        ds.sets.store(std::sync::Arc::new(sets(
            "1 sip:a 0 0 rweight=25\n1 sip:b 0 0 rweight=75\n1 sip:c 0 0 rweight=50\n",
        )));
        assert!(ds.update_state(1, "sip:c", INACTIVE));
        let g = ds.sets.load();
        let set = g.get(1).unwrap();
        let mut count = std::collections::HashMap::new();
        for _ in 0..1000 {
            let i = select(set, Alg::RelWeight, 1).unwrap()[0];
            *count.entry(set.dests[i].spec.uri.clone()).or_insert(0usize) += 1;
        }
        assert_eq!(count.get("sip:c"), None);
        assert_eq!(count["sip:b"], 750);
        assert_eq!(count["sip:a"], 250);
    }

    pub fn test_cfg() -> crate::modules::dispatcher::state::Config {
        crate::modules::dispatcher::state::Config {
            enabled: false,
            ..crate::modules::dispatcher::state::Config::with_list("/nonexistent".into(), 2)
        }
    }
}
