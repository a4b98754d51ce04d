//! `pike`: declarations mirroring Kamailio 5.6's pike module: flood detection.

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "pike",
    functions: &[
        FnDecl { name: "pike_check_req", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "pike_check_ip", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
    ],
    params: &[
        ParamDecl { name: "sampling_time_unit", ty: ParamType::Int },
        ParamDecl { name: "reqs_density_per_unit", ty: ParamType::Int },
        ParamDecl { name: "remove_latency", ty: ParamType::Int },
        ParamDecl { name: "pike_log_level", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

// ---- the module: shared counting table, natives, `pike.top`, sweeping on the worker tick ----

mod rpc;
pub mod table;

pub use table::{Config, Row, Status, Table, Verdict, MAX_TRACKED};

use crate::host::natives::arg_str;
use crate::host::{Ctx, Env, Hooks, Impl, Module};
use sipvm_vm::{ArgValue, HostError};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// pike's shared state: the table, its clock, and whether a config loads the module.
pub struct Pike {
    pub table: Table,
    epoch: Instant,
    /// `loadmodule "pike.so"` is in the file (the RPC methods exist only then, as in Kamailio).
    pub enabled: bool,
}

impl Pike {
    pub fn new(cfg: Config, enabled: bool) -> Pike {
        Pike {
            table: Table::new(cfg),
            epoch: Instant::now(),
            enabled,
        }
    }

    /// Milliseconds on the table's clock.
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// One request from `ip`, now: Kamailio's return code, with its log lines.
    pub fn check(&self, ip: IpAddr) -> i64 {
        let (verdict, unblocked) = self.table.hit(ip, self.now_ms());
        let ip = ip.to_canonical();
        if unblocked {
            log(
                self.table.cfg.log_level,
                &format!("PIKE - UNBLOCKing ip {ip}"),
            );
        }
        if verdict == Verdict::NewlyBlocked {
            log(
                self.table.cfg.log_level,
                &format!("PIKE - BLOCKing ip {ip}"),
            );
        }
        verdict.code()
    }
}

/// Logs at a Kamailio level number (`pike_log_level`).
fn log(level: i64, text: &str) {
    crate::log_at!("pike", crate::host::log::level_of_int(level), text);
}

/// An address as `pike_check_ip` takes it: IPv4, IPv6, IPv6 in brackets.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    s.parse().ok()
}

fn pike_check_req(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(ctx.state::<Pike>().check(ctx.src.ip()))
}

/// Kamailio answers -1 (false) for an empty or unparsable address, after an error line.
fn pike_check_ip(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let text = arg_str(args, 0);
    if text.is_empty() {
        return Ok(-1);
    }
    match parse_ip(&text) {
        Some(ip) => Ok(ctx.state::<Pike>().check(ip)),
        None => {
            tracing::error!(target: "pike", "failed to parse ip address: {text}");
            Ok(-1)
        }
    }
}

static IMPLS: &[Impl] = &[
    Impl {
        name: "pike_check_req",
        f: pike_check_req,
    },
    Impl {
        name: "pike_check_ip",
        f: pike_check_ip,
    },
];

fn check(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    Config::from_modparams(m).map(|_| ())
}

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let cfg = Config::from_modparams(&snap.modparams)?;
    let enabled = snap.modules.iter().any(|m| m == "pike");
    Ok(Arc::new(Pike::new(cfg, enabled)))
}

/// Every worker's tick: at most one sweep a second, on whichever worker gets there first; the
/// others pay one atomic load.
fn tick(e: &mut Env<'_>, _: &mut sipvm_vm::Vm) {
    let pike = e.shared.state::<Pike>();
    if !pike.enabled {
        return;
    }
    if let Some(swept) = pike.table.maybe_sweep(pike.now_ms()) {
        for ip in swept.unblocked {
            log(
                pike.table.cfg.log_level,
                &format!("PIKE - UNBLOCKing ip {ip}"),
            );
        }
    }
}

/// The pike module: flood detection per source address.
pub static MODULE: Module = Module {
    params: &[
        "sampling_time_unit",
        "reqs_density_per_unit",
        "remove_latency",
        "pike_log_level",
    ],
    restart: &[
        "sampling_time_unit",
        "reqs_density_per_unit",
        "remove_latency",
        "pike_log_level",
    ],
    natives: IMPLS,
    check: Some(check),
    state: Some(state),
    rpc: Some(rpc::register),
    hooks: Hooks {
        tick: Some(tick),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
