//! `dialog`: Kamailio 5.6's dialog module: dialogs followed through the proxy (INVITE, 1xx,
//! 2xx, ACK, BYE), profiles, flags, variables, timeouts that end calls with BYEs both ways,
//! and the `dlg.*` RPCs. Dialogs live in the module's shared state (`table.rs`), so they
//! outlive reloads. See docs/modules/dialog.md.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "dialog",
    functions: &[
        FnDecl { name: "dlg_manage", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "set_dlg_profile", args: &[Str, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "unset_dlg_profile", args: &[Str, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "is_in_profile", args: &[Str, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "get_profile_size", args: &[Str, Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "dlg_setflag", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dlg_resetflag", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dlg_isflagset", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dlg_bye", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dlg_refer", args: &[Str, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "dlg_bridge", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "dlg_get", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "is_known_dlg", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "dlg_set_timeout", args: &[IntFmt, IntFmt, IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dlg_set_timeout_by_profile", args: &[Str, Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "dlg_set_property", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dlg_reset_property", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dlg_remote_profile", args: &[Fmt, Str, Fmt, Fmt, IntFmt], min_args: 5, routes: RouteMask::ANY },
        FnDecl { name: "dlg_set_ruri", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "dlg_db_load_callid", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dlg_db_load_extra", args: &[], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "enable_stats", ty: ParamType::Int },
        ParamDecl { name: "hash_size", ty: ParamType::Int },
        ParamDecl { name: "rr_param", ty: ParamType::Str },
        ParamDecl { name: "dlg_flag", ty: ParamType::Int },
        ParamDecl { name: "timeout_avp", ty: ParamType::Str },
        ParamDecl { name: "default_timeout", ty: ParamType::Int },
        ParamDecl { name: "dlg_extra_hdrs", ty: ParamType::Str },
        ParamDecl { name: "dlg_match_mode", ty: ParamType::Int },
        ParamDecl { name: "detect_spirals", ty: ParamType::Int },
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "db_mode", ty: ParamType::Int },
        ParamDecl { name: "table_name", ty: ParamType::Str },
        ParamDecl { name: "call_id_column", ty: ParamType::Str },
        ParamDecl { name: "from_uri_column", ty: ParamType::Str },
        ParamDecl { name: "from_tag_column", ty: ParamType::Str },
        ParamDecl { name: "to_uri_column", ty: ParamType::Str },
        ParamDecl { name: "to_tag_column", ty: ParamType::Str },
        ParamDecl { name: "h_id_column", ty: ParamType::Str },
        ParamDecl { name: "h_entry_column", ty: ParamType::Str },
        ParamDecl { name: "state_column", ty: ParamType::Str },
        ParamDecl { name: "start_time_column", ty: ParamType::Str },
        ParamDecl { name: "timeout_column", ty: ParamType::Str },
        ParamDecl { name: "to_cseq_column", ty: ParamType::Str },
        ParamDecl { name: "from_cseq_column", ty: ParamType::Str },
        ParamDecl { name: "to_route_column", ty: ParamType::Str },
        ParamDecl { name: "from_route_column", ty: ParamType::Str },
        ParamDecl { name: "to_contact_column", ty: ParamType::Str },
        ParamDecl { name: "from_contact_column", ty: ParamType::Str },
        ParamDecl { name: "to_sock_column", ty: ParamType::Str },
        ParamDecl { name: "from_sock_column", ty: ParamType::Str },
        ParamDecl { name: "sflags_column", ty: ParamType::Str },
        ParamDecl { name: "toroute_name_column", ty: ParamType::Str },
        ParamDecl { name: "vars_table_name", ty: ParamType::Str },
        ParamDecl { name: "vars_h_id_column", ty: ParamType::Str },
        ParamDecl { name: "vars_h_entry_column", ty: ParamType::Str },
        ParamDecl { name: "vars_key_column", ty: ParamType::Str },
        ParamDecl { name: "vars_value_column", ty: ParamType::Str },
        ParamDecl { name: "db_update_period", ty: ParamType::Int },
        ParamDecl { name: "db_fetch_rows", ty: ParamType::Int },
        ParamDecl { name: "profiles_with_value", ty: ParamType::Str },
        ParamDecl { name: "profiles_no_value", ty: ParamType::Str },
        ParamDecl { name: "bridge_controller", ty: ParamType::Str },
        ParamDecl { name: "bridge_contact", ty: ParamType::Str },
        ParamDecl { name: "ruri_pvar", ty: ParamType::Str },
        ParamDecl { name: "initial_cbs_inscript", ty: ParamType::Int },
        ParamDecl { name: "send_bye", ty: ParamType::Int },
        ParamDecl { name: "wait_ack", ty: ParamType::Int },
        ParamDecl { name: "xavp_cfg", ty: ParamType::Str },
        ParamDecl { name: "ka_timer", ty: ParamType::Int },
        ParamDecl { name: "ka_interval", ty: ParamType::Int },
        ParamDecl { name: "timeout_noreset", ty: ParamType::Int },
        ParamDecl { name: "timer_procs", ty: ParamType::Int },
        ParamDecl { name: "track_cseq_updates", ty: ParamType::Int },
        ParamDecl { name: "lreq_callee_headers", ty: ParamType::Str },
        ParamDecl { name: "db_skip_load", ty: ParamType::Int },
        ParamDecl { name: "ka_failed_limit", ty: ParamType::Int },
        ParamDecl { name: "enable_dmq", ty: ParamType::Int },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
        ParamDecl { name: "early_timeout", ty: ParamType::Int },
        ParamDecl { name: "noack_timeout", ty: ParamType::Int },
        ParamDecl { name: "end_timeout", ty: ParamType::Int },
        ParamDecl { name: "h_id_start", ty: ParamType::Int },
        ParamDecl { name: "h_id_step", ty: ParamType::Int },
        ParamDecl { name: "keep_proxy_rr", ty: ParamType::Int },
        ParamDecl { name: "dlg_filter_mode", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "DLG_count", form: PvForm::Plain, writable: false },
        PvDecl { name: "DLG_lifetime", form: PvForm::Plain, writable: false },
        PvDecl { name: "DLG_status", form: PvForm::Plain, writable: false },
        PvDecl { name: "dlg_ctx", form: PvForm::Named, writable: true },
        PvDecl { name: "dlg", form: PvForm::Named, writable: false },
        PvDecl { name: "dlg_var", form: PvForm::Named, writable: true },
    ],
    transforms: &[],
};

// ---- the module ----

pub mod logic;
mod natives;
mod pvs;
mod rpc;
pub mod table;

use crate::host::{Hooks, Module, Shared};
use crate::modules::tm::Tm;
use std::sync::Arc;

/// The dialog module's state: its settings and the table of dialogs.
pub struct Dlg {
    /// Whether the script loads dialog.so.
    pub enabled: bool,
    pub table: table::Table,
    pub dlg_flag: Option<u32>,
    /// Seconds (Kamailio's default: 12 hours).
    pub default_timeout: u64,
    pub send_bye: bool,
    pub profiles_wv: Vec<String>,
    pub profiles_nv: Vec<String>,
    /// `timeout_avp`: the AVP's name (`$avp(name)`).
    pub timeout_avp: Option<String>,
    /// `timeout_noreset`: requests within the dialog do not restart its timeout.
    pub timeout_noreset: bool,
}

/// A 0/1 parameter (Kamailio refuses other values).
fn bool_param(snap: &sipvm_cfg::Snapshot, name: &str, default: i64) -> Result<bool, String> {
    match snap.modparam_int("dialog", name, default) {
        0 => Ok(false),
        1 => Ok(true),
        n => Err(format!("invalid value {n} for {name} param")),
    }
}

/// A parameter sipvm honours at one value only (what it does).
fn only(snap: &sipvm_cfg::Snapshot, name: &str, default: i64, what: &str) -> Result<(), String> {
    match snap.modparam_int("dialog", name, default) {
        n if n == default => Ok(()),
        n => Err(format!(
            "{name} {n}: sipvm implements only {default} ({what})"
        )),
    }
}

/// `hash_size`: below 1 is 1 (as Kamailio); a power of two.
fn hash_size(snap: &sipvm_cfg::Snapshot) -> Result<u32, String> {
    let n = snap
        .modparam_int("dialog", "hash_size", i64::from(table::HASH_SIZE))
        .max(1);
    match u32::try_from(n) {
        Ok(n) if n.is_power_of_two() => Ok(n),
        _ => Err(format!("hash_size {n} is not a power of 2")),
    }
}

/// `early_timeout`, `noack_timeout`, `end_timeout`: seconds.
fn limit(snap: &sipvm_cfg::Snapshot, name: &str, default: u64) -> Result<u64, String> {
    let n = snap.modparam_int("dialog", name, default as i64);
    u64::try_from(n).map_err(|_| format!("{name} {n} is negative"))
}

/// `timeout_avp`: `$avp(name)`.
fn timeout_avp(snap: &sipvm_cfg::Snapshot) -> Result<Option<String>, String> {
    let Some(v) = snap.modparam("dialog", "timeout_avp") else {
        return Ok(None);
    };
    let v = v.to_str();
    match v
        .trim()
        .strip_prefix("$avp(")
        .and_then(|r| r.strip_suffix(')'))
    {
        Some(n) if !n.is_empty() => Ok(Some(n.to_string())),
        _ => Err(format!("timeout_avp {v:?}: not an AVP definition")),
    }
}

/// `profiles_with_value` / `profiles_no_value`: names separated by `;`.
fn names(snap: &sipvm_cfg::Snapshot, param: &str) -> Vec<String> {
    snap.modparam("dialog", param)
        .map(|v| {
            v.to_str()
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let dlg_flag = match snap.modparam_int("dialog", "dlg_flag", -1) {
        -1 => None,
        n @ 0..=63 => Some(n as u32),
        n => return Err(format!("dlg_flag {n} is not a flag (0-63)")),
    };
    let default_timeout = snap.modparam_int("dialog", "default_timeout", 12 * 3600);
    if default_timeout <= 0 {
        return Err("0 default_timeout not accepted".into());
    }
    let (wv, nv) = (
        names(snap, "profiles_with_value"),
        names(snap, "profiles_no_value"),
    );
    if let Some(p) = wv.iter().find(|p| nv.contains(p)) {
        return Err(format!("profile {p} is defined twice"));
    }
    // Spirals: a second pass of the INVITE finds the dialog it made (same key). Sequential
    // requests match on Call-ID and tags, never on an `rr_param` (Kamailio's mode 2).
    only(snap, "detect_spirals", 1, "spirals are always detected")?;
    only(
        snap,
        "dlg_match_mode",
        2,
        "requests match by Call-ID and tags",
    )?;
    let limits = table::Limits {
        early: limit(snap, "early_timeout", 300)?,
        noack: limit(snap, "noack_timeout", 60)?,
        end: limit(snap, "end_timeout", 300)?,
    };
    Ok(Arc::new(Dlg {
        enabled: snap.modules.iter().any(|m| m == "dialog"),
        table: table::Table::new(table::MAX_DIALOGS, hash_size(snap)?, limits),
        dlg_flag,
        default_timeout: default_timeout as u64,
        send_bye: snap.modparam_int("dialog", "send_bye", 0) != 0,
        profiles_wv: wv,
        profiles_nv: nv,
        timeout_avp: timeout_avp(snap)?,
        timeout_noreset: bool_param(snap, "timeout_noreset", 0)?,
    }))
}

/// Follows the INVITE transactions' replies (tm's events) when the script loads dialog.
fn startup(shared: &Shared, _: &sipvm_cfg::Snapshot) -> Result<(), String> {
    if shared.state::<Dlg>().enabled {
        shared.state::<Tm>().events.add(logic::on_tx);
    }
    Ok(())
}

/// Parameters sipvm honours (read at start-up).
const PARAMS: &[&str] = &[
    "dlg_flag",
    "default_timeout",
    "profiles_with_value",
    "profiles_no_value",
    "send_bye",
    "timeout_avp",
    "timeout_noreset",
    "hash_size",
    "detect_spirals",
    "dlg_match_mode",
    "early_timeout",
    "noack_timeout",
    "end_timeout",
];

/// The dialog module: dialogs, profiles, timeouts, `dlg.*` RPCs.
pub static MODULE: Module = Module {
    natives: natives::IMPLS,
    pvs: pvs::PVS,
    params: PARAMS,
    restart: PARAMS,
    state: Some(state),
    rpc: Some(rpc::register),
    hooks: Hooks {
        startup: Some(startup),
        request_in: Some(logic::request_in),
        request_done: Some(logic::request_done),
        reply_in: Some(logic::reply_in),
        tick: Some(logic::tick),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
