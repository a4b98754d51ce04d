//! `tm`: declarations mirroring Kamailio 5.6's tm module: transaction management, plus the
//! pseudo-variables of Kamailio's tmx module, which sipvm merges into tm (see `tmx.rs`).

use sipvm_lang::registry::ArgKind::{Code, Fmt, HostPort, Int, IntFmt, Regex, Route, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};
use sipvm_vm::RouteKind;

pub mod branch;
pub mod build;
pub mod events;
pub mod flow;
pub mod key;
pub mod natives;
pub mod pvs;
mod rpc;
pub mod state;
mod table;
pub mod txn;
mod wheel;

pub use key::Key;
pub use state::has_tx;
pub use table::*;
pub use txn::{Armed, Branch, Phase, Txn};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "tm",
    functions: &[
        FnDecl { name: "t_newtran", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_lookup_request", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_lookup_cancel", args: &[Int], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_reply", args: &[Code, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "t_send_reply", args: &[Code, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "t_retransmit_reply", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_release", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_relay_to_udp", args: &[Fmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_relay_to_tcp", args: &[Fmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_relay_to_tls", args: &[Fmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_relay_to_sctp", args: &[Fmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_replicate", args: &[Fmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_replicate_udp", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_replicate_tcp", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_replicate_tls", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_replicate_sctp", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_replicate_to", args: &[Fmt, HostPort], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_relay", args: &[Fmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_relay_to_avp", args: &[Fmt, HostPort], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_relay_to", args: &[Fmt, IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_forward_nonack", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_forward_nonack_uri", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_forward_nonack_udp", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_forward_nonack_tcp", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_forward_nonack_tls", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_forward_nonack_sctp", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_forward_nonack_to", args: &[Fmt, HostPort], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "t_relay_cancel", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_on_failure", args: &[Route(RouteKind::Failure)], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_on_branch_failure", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_on_reply", args: &[Route(RouteKind::OnReply)], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_on_branch", args: &[Route(RouteKind::Branch)], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_check_status", args: &[Regex], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "t_write_req", args: &[Str, Str], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_write_unix", args: &[Str, Str], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_set_fr", args: &[IntFmt, IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_reset_fr", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_set_retr", args: &[IntFmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_reset_retr", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_set_max_lifetime", args: &[IntFmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_reset_max_lifetime", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_set_auto_inv_100", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "t_set_disable_6xx", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_set_disable_failover", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_set_no_e2e_cancel_reason", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_disable_e2e_cancel_reason", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_set_disable_internal_reply", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_branch_timeout", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONEVENT) },
        FnDecl { name: "t_branch_replied", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONEVENT) },
        FnDecl { name: "t_any_timeout", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_any_replied", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_is_canceled", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_is_retr_async_reply", args: &[], min_args: 0, routes: RouteMask::TM_ONREPLY },
        FnDecl { name: "t_is_expired", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_grep_status", args: &[Code], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::TM_ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_drop_replies", args: &[Str], min_args: 0, routes: RouteMask::FAILURE },
        FnDecl { name: "t_save_lumps", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_check_trans", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_is_set", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "t_use_uac_headers", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "t_uac_send", args: &[Fmt, Fmt, Fmt, Fmt, Fmt, Fmt], min_args: 6, routes: RouteMask::ANY },
        FnDecl { name: "t_get_status_code", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "t_load_contacts", args: &[IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_next_contacts", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "t_next_contact_flow", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_clean", args: &[], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "ruri_matching", ty: ParamType::Int },
        ParamDecl { name: "via1_matching", ty: ParamType::Int },
        ParamDecl { name: "callid_matching", ty: ParamType::Int },
        ParamDecl { name: "callid_cseq_matching", ty: ParamType::Int },
        ParamDecl { name: "fr_timer", ty: ParamType::Int },
        ParamDecl { name: "fr_inv_timer", ty: ParamType::Int },
        ParamDecl { name: "wt_timer", ty: ParamType::Int },
        ParamDecl { name: "retr_timer1", ty: ParamType::Int },
        ParamDecl { name: "retr_timer2", ty: ParamType::Int },
        ParamDecl { name: "max_inv_lifetime", ty: ParamType::Int },
        ParamDecl { name: "max_noninv_lifetime", ty: ParamType::Int },
        ParamDecl { name: "noisy_ctimer", ty: ParamType::Int },
        ParamDecl { name: "auto_inv_100", ty: ParamType::Int },
        ParamDecl { name: "auto_inv_100_reason", ty: ParamType::Str },
        ParamDecl { name: "unix_tx_timeout", ty: ParamType::Int },
        ParamDecl { name: "restart_fr_on_each_reply", ty: ParamType::Int },
        ParamDecl { name: "fr_timer_avp", ty: ParamType::Str },
        ParamDecl { name: "fr_inv_timer_avp", ty: ParamType::Str },
        ParamDecl { name: "tw_append", ty: ParamType::Str },
        ParamDecl { name: "pass_provisional_replies", ty: ParamType::Int },
        ParamDecl { name: "aggregate_challenges", ty: ParamType::Int },
        ParamDecl { name: "unmatched_cancel", ty: ParamType::Int },
        ParamDecl { name: "default_code", ty: ParamType::Int },
        ParamDecl { name: "default_reason", ty: ParamType::Str },
        ParamDecl { name: "reparse_invite", ty: ParamType::Int },
        ParamDecl { name: "ac_extra_hdrs", ty: ParamType::Str },
        ParamDecl { name: "blst_503", ty: ParamType::Int },
        ParamDecl { name: "blst_503_def_timeout", ty: ParamType::Int },
        ParamDecl { name: "blst_503_min_timeout", ty: ParamType::Int },
        ParamDecl { name: "blst_503_max_timeout", ty: ParamType::Int },
        ParamDecl { name: "blst_methods_add", ty: ParamType::Int },
        ParamDecl { name: "blst_methods_lookup", ty: ParamType::Int },
        ParamDecl { name: "cancel_b_method", ty: ParamType::Int },
        ParamDecl { name: "reparse_on_dns_failover", ty: ParamType::Int },
        ParamDecl { name: "on_sl_reply", ty: ParamType::Str },
        ParamDecl { name: "contacts_avp", ty: ParamType::Str },
        ParamDecl { name: "contact_flows_avp", ty: ParamType::Str },
        ParamDecl { name: "disable_6xx_block", ty: ParamType::Int },
        ParamDecl { name: "local_ack_mode", ty: ParamType::Int },
        ParamDecl { name: "failure_reply_mode", ty: ParamType::Int },
        ParamDecl { name: "faked_reply_prio", ty: ParamType::Int },
        ParamDecl { name: "remap_503_500", ty: ParamType::Int },
        ParamDecl { name: "failure_exec_mode", ty: ParamType::Int },
        ParamDecl { name: "dns_reuse_rcv_socket", ty: ParamType::Int },
        ParamDecl { name: "local_cancel_reason", ty: ParamType::Int },
        ParamDecl { name: "e2e_cancel_reason", ty: ParamType::Int },
        ParamDecl { name: "xavp_contact", ty: ParamType::Str },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
        ParamDecl { name: "relay_100", ty: ParamType::Int },
        ParamDecl { name: "rich_redirect", ty: ParamType::Int },
        ParamDecl { name: "event_callback_lres_sent", ty: ParamType::Str },
        ParamDecl { name: "exec_time_check", ty: ParamType::Int },
        ParamDecl { name: "reply_relay_mode", ty: ParamType::Int },
        ParamDecl { name: "enable_uac_fr", ty: ParamType::Int },
    ],
    // Kamailio's tmx module exports these; sipvm serves them from tm (see `tmx.rs`).
    pvs: &[
        PvDecl { name: "T_branch_idx", form: PvForm::Plain, writable: false },
        PvDecl { name: "T_reply_ruid", form: PvForm::Plain, writable: false },
        PvDecl { name: "T_reply_code", form: PvForm::Plain, writable: false },
        PvDecl { name: "T_reply_reason", form: PvForm::Plain, writable: false },
        PvDecl { name: "T_reply_last", form: PvForm::Plain, writable: false },
        PvDecl { name: "T_inv", form: PvForm::OfMessage, writable: false },
        PvDecl { name: "T_req", form: PvForm::OfMessage, writable: false },
        PvDecl { name: "T_rpl", form: PvForm::OfMessage, writable: false },
        PvDecl { name: "T", form: PvForm::Named, writable: false },
        PvDecl { name: "T_branch", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- the module ----

use crate::host::{Env, Hooks, Module, ReplyVerdict, Shared};
use crate::sip::Msg;
use std::net::SocketAddr;

fn state(
    _: &sipvm_cfg::Snapshot,
) -> Result<std::sync::Arc<dyn std::any::Any + Send + Sync>, String> {
    Ok(std::sync::Arc::new(Tm::new()))
}

/// The hop-by-hop ACK of a negative reply a transaction sent ends there (RFC 3261 §17.2.1);
/// absorbed before the script, see docs/modules/tm.md.
fn ack_in(shared: &Shared, msg: &Msg, _: SocketAddr) -> bool {
    msg.method() == Some(crate::sip::Method::Ack) && flow::absorb_ack(shared.state::<Tm>(), msg)
}

fn env<'e>(e: &'e mut Env<'_>) -> flow::Env<'e> {
    let tm = e.shared.state::<Tm>();
    flow::Env {
        tm,
        shared: e.shared,
        locals: e.locals,
        out: e.out,
        now: tm.now(),
    }
}

/// A reply on one of our branches goes to its transaction; one with our branch prefix but no
/// valid check part is forged (or from an earlier run of the process): dropped, as neither a
/// transaction nor the stateless path may take it.
fn reply(e: &mut Env<'_>, vm: &mut sipvm_vm::Vm, msg: &Msg, src: SocketAddr) -> ReplyVerdict {
    let branch = msg.top_via().ok().and_then(|v| v.branch());
    let ours = branch.and_then(key::parse_branch);
    if ours.is_none() && branch.is_some_and(|b| b.starts_with(key::BRANCH_PREFIX)) {
        tracing::debug!("reply from {src} with a branch sipvm did not make: dropped");
        return ReplyVerdict::Taken;
    }
    match ours {
        Some((id, idx)) if flow::on_reply(&mut env(e), vm, id, idx, msg, src) => {
            ReplyVerdict::Taken
        }
        _ => ReplyVerdict::Pass,
    }
}

/// Runs the transaction timers that are due.
fn tick(e: &mut Env<'_>, vm: &mut sipvm_vm::Vm) {
    thread_local! {
        static DUE: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    DUE.with(|due| flow::tick(&mut env(e), vm, &mut due.borrow_mut()));
}

/// The tm module: transactions, their timers and routes, `tm.stats`.
pub static MODULE: Module = Module {
    params: &[
        "fr_timer",
        "fr_inv_timer",
        "wt_timer",
        "retr_timer1",
        "retr_timer2",
        "failure_reply_mode",
    ],
    natives: natives::IMPLS,
    pvs: pvs::PVS,
    state: Some(state),
    rpc: Some(rpc::register),
    hooks: Hooks {
        request_in: Some(ack_in),
        request_done: Some(branch::run_pending),
        reply: Some(reply),
        tick: Some(tick),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
