//! `$shv(name)`: values shared by every worker, outliving reloads; the core module's state
//! (sipvm serves the pv module's classes from the core).

use sipvm_vm::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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

/// The core's shared state, built from `modparam("pv", "shvset", ...)`.
pub fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let shv = Shv::default();
    for m in snap
        .modparams
        .iter()
        .filter(|m| m.module == "pv" && m.param == "shvset")
    {
        if let Value::Str(s) = &m.value {
            if !shv.init_from_modparam(s) {
                tracing::warn!("ignoring malformed shvset \"{s}\"");
            }
        }
    }
    Ok(Arc::new(shv))
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
}
