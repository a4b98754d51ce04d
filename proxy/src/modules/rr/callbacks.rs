//! Kamailio's rr callbacks (`register_rrcb`): other modules ask to see every request that
//! `loose_route()` routed through one of our own Route entries with parameters (uac restores
//! From/To there). Registered by name, once per process; rr names no module.

use crate::host::Ctx;
use std::sync::RwLock;

/// A callback: the request, after `loose_route()` consumed our Route.
pub type RrCallback = fn(&mut Ctx<'_>);

static CALLBACKS: RwLock<Vec<(&'static str, RrCallback)>> = RwLock::new(Vec::new());

/// Adds `f` under `name` (again under the same name: kept once).
pub fn register(name: &'static str, f: RrCallback) {
    let mut l = CALLBACKS.write().unwrap_or_else(|e| e.into_inner());
    if !l.iter().any(|(n, _)| *n == name) {
        l.push((name, f));
    }
}

/// Runs the callbacks when `loose_route()` found our Route with parameters.
pub fn run(ctx: &mut Ctx<'_>) {
    let has_params = super::record::state(ctx)
        .and_then(|s| s.routed.as_deref())
        .is_some_and(|p| !p.is_empty());
    if !has_params {
        return;
    }
    let l: Vec<RrCallback> = CALLBACKS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(_, f)| *f)
        .collect();
    for f in l {
        f(ctx);
    }
}
