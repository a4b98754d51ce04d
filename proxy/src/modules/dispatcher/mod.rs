//! `dispatcher`: load balancing over destination sets (Kamailio 5.6's dispatcher module).
//! The declarations, then the natives; the list file is `list`, the shared state `state`, the
//! algorithms `algo`, OPTIONS probing `probe`, the RPC methods `control/dispatcher.rs`. See
//! docs/modules/dispatcher.md.

pub mod algo;
pub mod list;
mod natives;
pub mod order;
pub mod probe;
mod rpc;
pub mod state;

pub use natives::IMPLS;
pub use probe::{on_probe_reply, on_tick};
pub use state::Dispatcher;

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "dispatcher",
    functions: &[
        FnDecl { name: "ds_select", args: &[IntFmt, IntFmt, IntFmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "ds_select_dst", args: &[IntFmt, IntFmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "ds_select_domain", args: &[IntFmt, IntFmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "ds_select_routes", args: &[Fmt, Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "ds_next_dst", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "ds_next_domain", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "ds_set_dst", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "ds_set_domain", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "ds_mark_dst", args: &[Str], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "ds_is_from_list", args: &[IntFmt, IntFmt, Fmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "ds_list_exist", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "ds_list_exists", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "ds_load_unset", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "ds_load_update", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "ds_is_active", args: &[IntFmt, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "ds_reload", args: &[], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "list_file", ty: ParamType::Str },
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "table_name", ty: ParamType::Str },
        ParamDecl { name: "setid_col", ty: ParamType::Str },
        ParamDecl { name: "destination_col", ty: ParamType::Str },
        ParamDecl { name: "flags_col", ty: ParamType::Str },
        ParamDecl { name: "priority_col", ty: ParamType::Str },
        ParamDecl { name: "attrs_col", ty: ParamType::Str },
        ParamDecl { name: "force_dst", ty: ParamType::Int },
        ParamDecl { name: "flags", ty: ParamType::Int },
        ParamDecl { name: "use_default", ty: ParamType::Int },
        ParamDecl { name: "xavp_dst", ty: ParamType::Str },
        ParamDecl { name: "xavp_dst_mode", ty: ParamType::Int },
        ParamDecl { name: "xavp_ctx", ty: ParamType::Str },
        ParamDecl { name: "xavp_ctx_mode", ty: ParamType::Int },
        ParamDecl { name: "hash_pvar", ty: ParamType::Str },
        ParamDecl { name: "setid_pvname", ty: ParamType::Str },
        ParamDecl { name: "attrs_pvname", ty: ParamType::Str },
        ParamDecl { name: "ds_probing_threshold", ty: ParamType::Int },
        ParamDecl { name: "ds_inactive_threshold", ty: ParamType::Int },
        ParamDecl { name: "ds_ping_method", ty: ParamType::Str },
        ParamDecl { name: "ds_ping_from", ty: ParamType::Str },
        ParamDecl { name: "ds_ping_interval", ty: ParamType::Int },
        ParamDecl { name: "ds_ping_latency_stats", ty: ParamType::Int },
        ParamDecl { name: "ds_latency_estimator_alpha", ty: ParamType::Int },
        ParamDecl { name: "ds_ping_reply_codes", ty: ParamType::Str },
        ParamDecl { name: "ds_probing_mode", ty: ParamType::Int },
        ParamDecl { name: "ds_hash_size", ty: ParamType::Int },
        ParamDecl { name: "ds_hash_expire", ty: ParamType::Int },
        ParamDecl { name: "ds_hash_initexpire", ty: ParamType::Int },
        ParamDecl { name: "ds_hash_check_interval", ty: ParamType::Int },
        ParamDecl { name: "outbound_proxy", ty: ParamType::Str },
        ParamDecl { name: "ds_default_socket", ty: ParamType::Str },
        ParamDecl { name: "ds_default_sockname", ty: ParamType::Str },
        ParamDecl { name: "ds_timer_mode", ty: ParamType::Int },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
        ParamDecl { name: "ds_attrs_none", ty: ParamType::Int },
        ParamDecl { name: "ds_db_extra_attrs", ty: ParamType::Str },
        ParamDecl { name: "ds_load_mode", ty: ParamType::Int },
        ParamDecl { name: "reload_delta", ty: ParamType::Int },
        ParamDecl { name: "ds_dns_mode", ty: ParamType::Int },
        ParamDecl { name: "ds_dns_interval", ty: ParamType::Int },
        ParamDecl { name: "ds_dns_ttl", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "dsv", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- the module ----

use crate::host::{Env, Hooks, Module};

fn state(
    snap: &sipvm_cfg::Snapshot,
) -> Result<std::sync::Arc<dyn std::any::Any + Send + Sync>, String> {
    Ok(std::sync::Arc::new(Dispatcher::from_snapshot(snap)))
}

/// Kamailio refuses to start when a configured list cannot be loaded.
fn startup(shared: &crate::host::Shared, _: &sipvm_cfg::Snapshot) -> Result<(), String> {
    match &shared.state::<Dispatcher>().startup_error {
        Some(e) => Err(format!("no destination list loaded: {e}")),
        None => Ok(()),
    }
}

fn tick(e: &mut Env<'_>, _: &mut sipvm_vm::Vm) {
    on_tick(e.shared, e.locals, e.out);
}

/// The dispatcher module: destination sets, their selection and failover, probing.
pub static MODULE: Module = Module {
    params: &[
        "list_file",
        "force_dst",
        "flags",
        "ds_probing_threshold",
        "ds_inactive_threshold",
        "ds_ping_method",
        "ds_ping_from",
        "ds_ping_interval",
        "ds_ping_reply_codes",
        "ds_probing_mode",
        "reload_delta",
    ],
    restart: &[
        "list_file",
        "force_dst",
        "flags",
        "ds_probing_threshold",
        "ds_inactive_threshold",
        "ds_ping_method",
        "ds_ping_from",
        "ds_ping_interval",
        "ds_ping_reply_codes",
        "ds_probing_mode",
        "reload_delta",
    ],
    natives: IMPLS,
    state: Some(state),
    rpc: Some(rpc::register),
    hooks: Hooks {
        startup: Some(startup),
        reply_in: Some(on_probe_reply),
        tick: Some(tick),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
