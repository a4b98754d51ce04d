//! `sl`: declarations mirroring Kamailio 5.6's sl module: stateless replies.

use sipvm_lang::registry::ArgKind::{Code, Fmt, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "sl",
    functions: &[
        FnDecl { name: "sl_send_reply", args: &[Code, Fmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "sl_reply", args: &[Code, Fmt], min_args: 2, routes: RouteMask::REQUEST },
        FnDecl { name: "send_reply", args: &[Code, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "send_reply_mode", args: &[Code, Fmt, IntFmt], min_args: 3, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "sl_reply_error", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "sl_forward_reply", args: &[Code, Fmt], min_args: 0, routes: RouteMask::ONREPLY },
    ],
    params: &[
        ParamDecl { name: "default_code", ty: ParamType::Int },
        ParamDecl { name: "default_reason", ty: ParamType::Str },
        ParamDecl { name: "bind_tm", ty: ParamType::Int },
        ParamDecl { name: "rich_redirect", ty: ParamType::Int },
        ParamDecl { name: "event_callback_fl_ack", ty: ParamType::Str },
        ParamDecl { name: "event_callback_lres_sent", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "ltt", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- implementations ----

use crate::forward as send;
use crate::host::natives::arg_code_reason;
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError};

/// sl's natives (stateless replies).
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "sl_send_reply",
        f: sl_send_reply,
    },
    Impl {
        name: "send_reply",
        f: send_reply,
    },
    Impl {
        name: "sl_reply_error",
        f: sl_reply_error,
    },
];

/// `sl_send_reply(code, reason)`. A 3xx carries the destination set (the Request-URI, then
/// appended branches) as Contact headers. ACKs are never answered.
fn sl_send_reply(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if !ctx.msg.is_request() || ctx.msg.method_str().eq_ignore_ascii_case("ACK") {
        return Ok(-1);
    }
    let (code, reason) = arg_code_reason(args)?;
    // One Contact line listing the destination set, as Kamailio's sl writes it.
    let contact = (300..400).contains(&code).then(|| {
        std::iter::once(ctx.ruri_str().to_string())
            .chain(ctx.branches.iter().cloned())
            .map(|u| format!("<{u}>"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    let extra: Vec<(&str, &str)> = contact.iter().map(|c| ("Contact", c.as_str())).collect();
    send::reply(ctx, code, &reason, &extra)?;
    Ok(1)
}

/// `send_reply(code, reason)`: stateful when the script has a transaction (after
/// `t_newtran`/`t_relay`, and in failure routes), stateless otherwise.
fn send_reply(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if crate::modules::tm::has_tx(ctx) {
        let (code, reason) = arg_code_reason(args)?;
        return Ok(
            match crate::modules::tm::natives::reply_stateful(ctx, code, &reason) {
                Some(true) => 1,
                _ => -1,
            },
        );
    }
    sl_send_reply(ctx, args)
}

/// `sl_reply_error()`: sipvm records no internal error codes yet, so this answers 500 as
/// Kamailio does for an unknown error.
fn sl_reply_error(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if !ctx.msg.is_request() || ctx.msg.method_str().eq_ignore_ascii_case("ACK") {
        return Ok(-1);
    }
    send::reply(ctx, 500, "Server Internal Error", &[])?;
    Ok(1)
}

/// Whether `msg` is the ACK of a negative reply sipvm sent statelessly: its To-tag is the one
/// [`send::to_tag`] gave that reply. Kamailio's sl absorbs such ACKs in a pre-script callback
/// (`sl_filter_ACK`), so they never reach `request_route`; the worker asks this before it
/// runs the script, for every request (whether or not the script loads sl).
pub fn absorbs_ack(msg: &crate::sip::Msg) -> bool {
    if msg.method() != Some(crate::sip::Method::Ack) {
        return false;
    }
    match msg.to().ok().and_then(|t| t.tag()) {
        // Our tags start with "sv-": most ACKs (for a callee's 2xx) are told apart without
        // hashing.
        Some(tag) => tag.starts_with("sv-") && tag == send::to_tag(msg),
        None => false,
    }
}

fn ack_in(_: &crate::host::Shared, msg: &crate::sip::Msg, src: std::net::SocketAddr) -> bool {
    let ours = absorbs_ack(msg);
    if ours {
        tracing::debug!("ACK from {src} for our own reply absorbed");
    }
    ours
}

/// The sl module: its natives, and the absorption of ACKs for its own negative replies.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    hooks: crate::host::Hooks {
        request_in: Some(ack_in),
        ..crate::host::Hooks::NONE
    },
    ..crate::host::Module::decl(&DECL)
};
