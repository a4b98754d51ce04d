//! cfgutils' shared state: the lock set of `lock()`/`unlock()`, `rand_event()`'s
//! probability, the global flags and the `hash_file` digest, one for every worker as Kamailio
//! keeps them in shared memory (and kept across reloads).

use crate::host::{MsgState, Shared};
use std::sync::atomic::{AtomicI64, AtomicU32};
use std::sync::{Condvar, Mutex};

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

/// cfgutils' shared state.
#[derive(Debug)]
pub struct Cfgutils {
    pub locks: LockSet,
    /// `rand_event()` probability in percent (`initial_probability`, default 10).
    pub rand_prob: AtomicI64,
    /// The 32 global flags (`initial_gflags`).
    pub gflags: AtomicU32,
    /// `hash_file` and the hex MD5 of its content at start-up.
    pub hash: Option<(String, String)>,
}

pub fn state(
    snap: &sipvm_cfg::Snapshot,
) -> Result<std::sync::Arc<dyn std::any::Any + Send + Sync>, String> {
    let size = snap
        .modparam_int("cfgutils", "lock_set_size", 4)
        .clamp(0, 16) as u32;
    let prob = snap
        .modparam_int("cfgutils", "initial_probability", 10)
        .clamp(0, 100);
    let gflags = snap.modparam_int("cfgutils", "initial_gflags", 0) as u32;
    let file = snap
        .modparam("cfgutils", "hash_file")
        .map(|v| v.to_str().into_owned());
    let hash = match file {
        Some(f) => {
            let h = super::misc::md5_file(&f)
                .map_err(|e| format!("cfgutils: could not hash the config file {f}: {e}"))?;
            tracing::debug!(target: "cfgutils", "config file hash is {h}");
            Some((f, h))
        }
        None => {
            tracing::info!(target: "cfgutils", "no hash_file given, disable hash functionality");
            None
        }
    };
    Ok(std::sync::Arc::new(Cfgutils {
        locks: LockSet::new(size),
        rand_prob: AtomicI64::new(prob),
        gflags: AtomicU32::new(gflags),
        hash,
    }))
}

/// The lock slots a message took with `lock()` and did not release.
#[derive(Default)]
pub struct HeldLocks(pub Vec<usize>);

impl MsgState for HeldLocks {
    /// Released when the script ends, so a forgotten `unlock` cannot stall other workers
    /// (Kamailio would keep them).
    fn finish(&mut self, shared: &Shared) {
        let locks = &shared.state::<Cfgutils>().locks;
        for slot in self.0.drain(..) {
            locks.unlock(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::core::shv::Shv;
    use sipvm_vm::Value;
    use std::sync::Arc;

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
