//! State shared by every worker that outlives messages and reloads: `$shv` and the named
//! locks of cfgutils. Owned outside the snapshot (DESIGN.md, "Live changes").

use sipvm_vm::Value;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, RwLock};

/// `$shv(name)`: values shared by all workers.
#[derive(Debug, Default)]
pub struct Shv {
    map: RwLock<HashMap<Arc<str>, Value>>,
}

impl Shv {
    pub fn get(&self, name: &str) -> Value {
        let m = self.map.read().unwrap_or_else(|p| p.into_inner());
        m.get(name).cloned().unwrap_or(Value::Null)
    }

    /// Every variable, sorted by name (for `pv.shvGet` without a name).
    pub fn entries(&self) -> Vec<(Arc<str>, Value)> {
        let m = self.map.read().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<(Arc<str>, Value)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    pub fn set(&self, name: &str, v: Value) {
        let mut m = self.map.write().unwrap_or_else(|p| p.into_inner());
        match m.get_mut(name) {
            Some(slot) => *slot = v,
            None => {
                m.insert(Arc::from(name), v);
            }
        }
    }

    /// Applies `modparam("pv", "shvset", "name=i:0")` (or `s:text`); false when malformed.
    pub fn init_from_modparam(&self, spec: &str) -> bool {
        let Some((name, rest)) = spec.split_once('=') else {
            return false;
        };
        let Some((t, val)) = rest.split_once(':') else {
            return false;
        };
        let v = match t.trim() {
            "i" => match val.trim().parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => return false,
            },
            "s" => Value::Str(Arc::from(val)),
            _ => return false,
        };
        self.set(name.trim(), v);
        true
    }
}

/// cfgutils' lock set: `lock("key")` and `unlock("key")` are separate native calls, so a lock
/// is a flag under a mutex, not a guard. Keys hash into `2^lock_set_size` slots, as in
/// Kamailio (two keys may share a slot).
#[derive(Debug)]
pub struct LockSet {
    slots: Vec<(Mutex<bool>, Condvar)>,
}

impl LockSet {
    /// `size_exp` is cfgutils' `lock_set_size` (Kamailio's default 4: 16 locks), capped at 16.
    pub fn new(size_exp: u32) -> Self {
        let n = 1usize << size_exp.min(16);
        LockSet {
            slots: (0..n)
                .map(|_| (Mutex::new(false), Condvar::new()))
                .collect(),
        }
    }

    pub fn slot(&self, key: &str) -> usize {
        // FNV-1a: stable, cheap, no allocation.
        let mut h: u32 = 0x811c_9dc5;
        for b in key.bytes() {
            h = (h ^ b as u32).wrapping_mul(0x0100_0193);
        }
        h as usize & (self.slots.len() - 1)
    }

    pub fn lock(&self, slot: usize) {
        let (m, cv) = &self.slots[slot];
        let mut held = m.lock().unwrap_or_else(|p| p.into_inner());
        while *held {
            held = cv.wait(held).unwrap_or_else(|p| p.into_inner());
        }
        *held = true;
    }

    pub fn try_lock(&self, slot: usize) -> bool {
        let (m, _) = &self.slots[slot];
        let mut held = m.lock().unwrap_or_else(|p| p.into_inner());
        if *held {
            return false;
        }
        *held = true;
        true
    }

    pub fn unlock(&self, slot: usize) {
        let (m, cv) = &self.slots[slot];
        *m.lock().unwrap_or_else(|p| p.into_inner()) = false;
        cv.notify_one();
    }
}

/// Everything workers share.
#[derive(Debug)]
pub struct Shared {
    pub shv: Shv,
    pub locks: LockSet,
    /// cfgutils' `rand_event()` probability in percent: one value for every worker, as
    /// Kamailio keeps it in shared memory (`initial_probability`, default 10).
    pub rand_prob: std::sync::atomic::AtomicI64,
    /// The transaction table (tm).
    pub tm: crate::tm::Tm,
    /// htable's tables (`$sht` and friends, `htable.*` RPCs).
    pub htable: Arc<super::htable::Htables>,
    /// dispatcher's destination sets and probing state.
    pub dispatcher: crate::modules::dispatcher::Dispatcher,
    /// usrloc's location tables (registrar's `save`/`lookup`, `ul.*` RPCs).
    pub usrloc: Arc<crate::usrloc::Usrloc>,
}

impl Shared {
    /// Built from the first snapshot's modparams (`pv shvset`, `cfgutils lock_set_size`).
    pub fn from_snapshot(snap: &sipvm_cfg::Snapshot) -> Self {
        let mut size = 4;
        let mut prob = 10;
        let shv = Shv::default();
        for m in snap.modparams.iter() {
            match (m.module.as_str(), m.param.as_str(), &m.value) {
                ("cfgutils", "lock_set_size", Value::Int(n)) => size = (*n).clamp(0, 16) as u32,
                ("cfgutils", "initial_probability", Value::Int(n)) => prob = (*n).clamp(0, 100),
                ("pv", "shvset", Value::Str(s)) if !shv.init_from_modparam(s) => {
                    tracing::warn!("ignoring malformed shvset \"{s}\"");
                }
                _ => {}
            }
        }
        Shared {
            shv,
            locks: LockSet::new(size),
            rand_prob: std::sync::atomic::AtomicI64::new(prob),
            tm: crate::tm::Tm::new(),
            htable: super::htable::Htables::from_snapshot(snap),
            dispatcher: crate::modules::dispatcher::Dispatcher::from_snapshot(snap),
            usrloc: crate::usrloc::Usrloc::start(snap),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shv_init_and_set() {
        let s = Shv::default();
        assert!(s.init_from_modparam("i=i:0"));
        assert!(s.init_from_modparam("name=s:bob"));
        assert!(!s.init_from_modparam("bad"));
        assert_eq!(s.get("i"), Value::Int(0));
        assert_eq!(s.get("name"), Value::Str("bob".into()));
        s.set("i", Value::Int(5));
        assert_eq!(s.get("i"), Value::Int(5));
        assert_eq!(s.get("none"), Value::Null);
    }

    #[test]
    fn locks_exclude_across_threads() {
        let locks = Arc::new(LockSet::new(1));
        let shv = Arc::new(Shv::default());
        shv.set("n", Value::Int(0));
        let slot = locks.slot("balancing");
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (locks, shv) = (locks.clone(), shv.clone());
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        locks.lock(slot);
                        let Value::Int(n) = shv.get("n") else {
                            panic!()
                        };
                        shv.set("n", Value::Int(n + 1));
                        locks.unlock(slot);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(shv.get("n"), Value::Int(4000));
        assert!(locks.try_lock(slot));
        assert!(!locks.try_lock(slot));
        locks.unlock(slot);
    }
}
