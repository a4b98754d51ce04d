//! `uac`: Kamailio 5.6's uac module: From/To replacement with restore through a Record-Route
//! parameter, digest authentication of relayed requests (`uac_auth`), requests sent from the
//! script (`uac_req_send`, `$uac_req`, `event_route[uac:reply]`) and remote registrations
//! loaded from a db_text `uacreg` table. See docs/modules/uac.md.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "uac",
    functions: &[
        FnDecl { name: "uac_replace_from", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::BRANCH) },
        FnDecl { name: "uac_restore_from", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "uac_replace_to", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::BRANCH) },
        FnDecl { name: "uac_restore_to", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "uac_auth", args: &[IntFmt], min_args: 0, routes: RouteMask::FAILURE },
        FnDecl { name: "uac_auth_mode", args: &[IntFmt], min_args: 1, routes: RouteMask::FAILURE },
        FnDecl { name: "uac_req_send", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "uac_reg_lookup", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "uac_reg_lookup_uri", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "uac_reg_status", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "uac_reg_request_to", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "uac_reg_enable", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "uac_reg_disable", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "uac_reg_refresh", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "rr_from_store_param", ty: ParamType::Str },
        ParamDecl { name: "rr_to_store_param", ty: ParamType::Str },
        ParamDecl { name: "restore_mode", ty: ParamType::Str },
        ParamDecl { name: "restore_dlg", ty: ParamType::Int },
        ParamDecl { name: "restore_passwd", ty: ParamType::Str },
        ParamDecl { name: "restore_from_avp", ty: ParamType::Str },
        ParamDecl { name: "restore_to_avp", ty: ParamType::Str },
        ParamDecl { name: "credential", ty: ParamType::Str },
        ParamDecl { name: "auth_username_avp", ty: ParamType::Str },
        ParamDecl { name: "auth_realm_avp", ty: ParamType::Str },
        ParamDecl { name: "auth_password_avp", ty: ParamType::Str },
        ParamDecl { name: "reg_db_url", ty: ParamType::Str },
        ParamDecl { name: "reg_db_table", ty: ParamType::Str },
        ParamDecl { name: "reg_contact_addr", ty: ParamType::Str },
        ParamDecl { name: "reg_timer_interval", ty: ParamType::Int },
        ParamDecl { name: "reg_retry_interval", ty: ParamType::Int },
        ParamDecl { name: "reg_keep_callid", ty: ParamType::Int },
        ParamDecl { name: "reg_random_delay", ty: ParamType::Int },
        ParamDecl { name: "reg_active", ty: ParamType::Int },
        ParamDecl { name: "reg_gc_interval", ty: ParamType::Int },
        ParamDecl { name: "reg_hash_size", ty: ParamType::Int },
        ParamDecl { name: "reg_use_domain", ty: ParamType::Int },
        ParamDecl { name: "default_socket", ty: ParamType::Str },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "uac_req", form: PvForm::Named, writable: true },
    ],
    transforms: &[],
};

// ---- the module ----

pub mod auth;
pub mod client;
pub mod codec;
pub mod config;
pub mod dbtext;
pub mod reg;
mod regfns;
pub mod replace;
mod rpc;
pub mod send;

pub use config::{Config, Credential, RestoreMode};

use crate::host::{Env, Hooks, Impl, Module, PvImpl, ReplyVerdict};
use crate::sip::Msg;
use std::net::SocketAddr;
use std::sync::Arc;

/// uac's shared state: its settings, the transactions whose replies get From/To restored,
/// the requests it sent itself and the remote registrations.
pub struct Uac {
    pub cfg: Config,
    /// `loadmodule "uac.so"` is in the file: hooks act only then.
    pub enabled: bool,
    pub restores: replace::Restores,
    pub client: client::Client,
    pub reg: reg::Registrations,
}

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let enabled = snap.modules.iter().any(|m| m == "uac");
    let cfg = Config::of(snap, enabled)?;
    let reg = reg::Registrations::load(&cfg)?;
    if enabled && cfg.restore_mode == RestoreMode::Auto {
        crate::modules::rr::callbacks::register("uac", replace::rr_checker);
    }
    Ok(Arc::new(Uac {
        cfg,
        enabled,
        restores: replace::Restores::default(),
        client: client::Client::default(),
        reg,
    }))
}

fn check(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    config::check(m)
}

/// Replies to our own requests are ours; a reply of a transaction whose From/To was
/// replaced goes to tm rewritten.
fn reply(e: &mut Env<'_>, vm: &mut sipvm_vm::Vm, msg: &Msg, src: SocketAddr) -> ReplyVerdict {
    let Some(uac) = e.shared.try_state::<Uac>() else {
        return ReplyVerdict::Pass;
    };
    if !uac.enabled {
        return ReplyVerdict::Pass;
    }
    if client::on_reply(e, vm, msg, src) {
        return ReplyVerdict::Taken;
    }
    replace::on_reply(e, vm, msg, src)
}

fn tick(e: &mut Env<'_>, vm: &mut sipvm_vm::Vm) {
    let Some(uac) = e.shared.try_state::<Uac>() else {
        return;
    };
    if !uac.enabled {
        return;
    }
    client::tick(e, vm);
    reg::tick(e);
    uac.restores.sweep(e.shared);
}

fn request_done(ctx: &mut crate::host::Ctx<'_>, _: &mut sipvm_vm::Vm, _: &sipvm_vm::Program) {
    replace::note_transaction(ctx);
}

static IMPLS: &[Impl] = &[
    Impl {
        name: "uac_replace_from",
        f: replace::uac_replace_from,
    },
    Impl {
        name: "uac_replace_to",
        f: replace::uac_replace_to,
    },
    Impl {
        name: "uac_restore_from",
        f: replace::uac_restore_from,
    },
    Impl {
        name: "uac_restore_to",
        f: replace::uac_restore_to,
    },
    Impl {
        name: "uac_auth",
        f: auth::uac_auth,
    },
    Impl {
        name: "uac_auth_mode",
        f: auth::uac_auth_mode,
    },
    Impl {
        name: "uac_req_send",
        f: send::uac_req_send,
    },
    Impl {
        name: "uac_reg_lookup",
        f: regfns::uac_reg_lookup,
    },
    Impl {
        name: "uac_reg_lookup_uri",
        f: regfns::uac_reg_lookup_uri,
    },
    Impl {
        name: "uac_reg_status",
        f: regfns::uac_reg_status,
    },
    Impl {
        name: "uac_reg_request_to",
        f: regfns::uac_reg_request_to,
    },
    Impl {
        name: "uac_reg_enable",
        f: regfns::uac_reg_enable,
    },
    Impl {
        name: "uac_reg_disable",
        f: regfns::uac_reg_disable,
    },
    Impl {
        name: "uac_reg_refresh",
        f: regfns::uac_reg_refresh,
    },
];

static PVS: &[PvImpl] = &[PvImpl {
    name: "uac_req",
    get: send::get_uac_req,
    set: Some(send::set_uac_req),
}];

/// The uac module. It sits before tm in the module list: its reply hook hands tm a reply
/// with From/To restored.
pub static MODULE: Module = Module {
    natives: IMPLS,
    pvs: PVS,
    params: config::PARAMS,
    restart: config::PARAMS,
    check: Some(check),
    state: Some(state),
    rpc: Some(rpc::register),
    hooks: Hooks {
        reply: Some(reply),
        tick: Some(tick),
        request_done: Some(request_done),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
