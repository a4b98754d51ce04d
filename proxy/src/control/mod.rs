//! sipvm's live-control surface: the RPC methods of the core (`route.*`, `cfg.*`, `core.*`,
//! statistics), every module's methods (each module registers its own), and where the RPC
//! server listens. See docs/rpc.md.

mod cfgvars;
mod misc;
mod route;

use sipvm_cfg::Snapshot;
use sipvm_rpc::{Registry, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// `core.version`'s text: Kamailio's shape, `NAME VERSION (ARCH/OS)`.
pub fn version() -> String {
    format!(
        "sipvm {} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

/// `secs` since the epoch as C's `ctime` writes it in local time, without the newline
/// (`Sun Nov 22 10:24:33 2026`), as Kamailio's `core.uptime` does.
pub fn ctime(secs: i64) -> String {
    let t = secs as libc::time_t;
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: ctime_r writes at most 26 bytes into buf and NUL-terminates it.
    let p = unsafe { libc::ctime_r(&t, buf.as_mut_ptr()) };
    if p.is_null() {
        return secs.to_string();
    }
    // SAFETY: p points into buf, NUL-terminated by ctime_r.
    let s = unsafe { std::ffi::CStr::from_ptr(p) };
    s.to_string_lossy().trim_end().to_string()
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Registers the core methods: `core.version`, `core.uptime`.
pub fn register_core(reg: &Registry) {
    let started = now_secs();
    reg.method(
        "core.version",
        "Returns the version string of the server.",
        |_| Ok(Value::from(version())),
    );
    reg.method(
        "core.uptime",
        "Returns uptime: the current time, the start time and seconds since the start.",
        move |_| {
            let now = now_secs();
            let mut o = serde_json::Map::new();
            o.insert("now".into(), Value::from(ctime(now)));
            o.insert("up_since".into(), Value::from(ctime(started)));
            o.insert("uptime".into(), Value::from(now - started));
            Ok(Value::Object(o))
        },
    );
}

/// What RPC methods act on (kept under this name for the control files).
pub type State = crate::host::Server;

/// A registry holding the built-ins, the core's control methods and every module's methods.
pub fn registry(state: &State) -> Arc<Registry> {
    let reg = Registry::new();
    register_core(&reg);
    route::register(&reg, state);
    cfgvars::register(&reg, state);
    misc::register(&reg, state);
    for f in state.shared.modules.iter().filter_map(|m| m.rpc) {
        f(&reg, state);
    }
    Arc::new(reg)
}

/// Where to listen: `--rpc ADDR`, else the `rpc_listen` global, else 127.0.0.1:5065; and
/// whether the address was asked for (`false` for the default).
pub fn listen_addr(cli: Option<&str>, snap: &Snapshot) -> (String, bool) {
    if let Some(a) = cli {
        return (a.to_string(), true);
    }
    match snap.global("rpc_listen").last() {
        Some(g) => (g.value.to_string(), true),
        None => (sipvm_rpc::DEFAULT_ADDR.to_string(), false),
    }
}

/// Starts the RPC server. An address that was asked for must bind (or `sipvm run` fails); the
/// default one may be taken by another instance, which is only warned about.
pub fn start(
    cli: Option<&str>,
    snap: &Snapshot,
    state: &State,
) -> Result<Option<sipvm_rpc::ServerHandle>, sipvm_rpc::server::ServeError> {
    let (addr, explicit) = listen_addr(cli, snap);
    let live = state.live.clone();
    let metrics: sipvm_rpc::server::Metrics = Arc::new(move || route::metrics(&live));
    match sipvm_rpc::server::serve_with_metrics(&addr, registry(state), Some(metrics)) {
        Ok(h) => {
            tracing::info!("JSON-RPC on http://{}/RPC", h.local_addr());
            Ok(Some(h))
        }
        Err(e) if !explicit => {
            tracing::warn!("{e}; JSON-RPC is not served (set rpc_listen or --rpc)");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
