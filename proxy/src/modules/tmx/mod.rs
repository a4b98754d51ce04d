//! `tmx`: declarations mirroring Kamailio 5.6's tmx module: tm extensions.
//!
//! sipvm merges tmx into tm: `loadmodule "tmx.so"` stays accepted and brings these functions
//! and the `precheck_trans` parameter, but tmx's pseudo-variables (`$T_branch_idx`,
//! `$T_reply_code`, `$T_req(..)`...) are declared by `tm` (see `tm.rs`), so loading tm alone
//! provides them (Kamailio's tmx cannot be loaded without tm anyway).

use sipvm_lang::registry::ArgKind::{Code, Fmt, IntFmt, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "tmx",
    functions: &[
        FnDecl { name: "t_cancel_branches", args: &[Str], min_args: 1, routes: RouteMask::ONREPLY },
        FnDecl { name: "t_cancel_callid", args: &[Fmt, Fmt, IntFmt, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "t_reply_callid", args: &[Fmt, Fmt, Code, Fmt], min_args: 4, routes: RouteMask::ANY },
        FnDecl { name: "t_flush_flags", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "t_flush_xflags", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "t_is_failure_route", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "t_is_branch_route", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "t_is_reply_route", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "t_is_request_route", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "t_suspend", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "t_continue", args: &[IntFmt, IntFmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "t_reuse_branch", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONEVENT) },
        FnDecl { name: "t_precheck_trans", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "t_drop", args: &[IntFmt], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "precheck_trans", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

/// tmx's natives sipvm has.
pub static IMPLS: &[crate::host::Impl] = &[
    crate::host::Impl {
        name: "t_precheck_trans",
        f: crate::modules::tm::natives::t_precheck_trans,
    },
    crate::host::Impl {
        name: "t_flush_flags",
        f: t_flush_flags,
    },
    crate::host::Impl {
        name: "t_is_branch_route",
        f: t_is_branch_route,
    },
    crate::host::Impl {
        name: "t_is_failure_route",
        f: t_is_failure_route,
    },
    crate::host::Impl {
        name: "t_is_reply_route",
        f: t_is_reply_route,
    },
    crate::host::Impl {
        name: "t_is_request_route",
        f: t_is_request_route,
    },
];

use crate::host::Ctx;
use sipvm_vm::{ArgValue, HostError, RouteKind};

/// The kind of route running: tm's routes say so in tm's slot; otherwise a request is in
/// request_route and a reply in the core reply_route.
fn route_kind(ctx: &Ctx<'_>) -> RouteKind {
    let tm = ctx
        .slots
        .get::<crate::modules::tm::state::TmCtx>()
        .and_then(|t| t.route);
    tm.unwrap_or(if ctx.msg.is_request() {
        RouteKind::Request
    } else {
        RouteKind::Reply
    })
}

fn truth(b: bool) -> Result<i64, HostError> {
    Ok(if b { 1 } else { -1 })
}

/// `t_flush_flags()`: the message's flags become the transaction's (the routes it runs
/// later see them); -1 without a transaction.
fn t_flush_flags(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    use crate::modules::tm::state::TmSlot;
    let flags = ctx.flags;
    if ctx
        .slots
        .get::<crate::modules::tm::state::TmCtx>()
        .is_none()
    {
        tracing::error!("failed to flush flags - no transaction found");
        return Ok(-1);
    }
    match ctx.slots.tm().with(|t| t.flags = flags) {
        Some(()) => Ok(1),
        None => {
            tracing::error!("failed to flush flags - no transaction found");
            Ok(-1)
        }
    }
}

/// `t_is_branch_route()`: 1 in a branch_route, else -1.
fn t_is_branch_route(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    truth(route_kind(ctx) == RouteKind::Branch)
}

/// `t_is_failure_route()`: 1 in a failure_route, else -1.
fn t_is_failure_route(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    truth(route_kind(ctx) == RouteKind::Failure)
}

/// `t_is_reply_route()`: 1 in an onreply_route or the core reply_route, else -1.
fn t_is_reply_route(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    truth(matches!(
        route_kind(ctx),
        RouteKind::OnReply | RouteKind::Reply
    ))
}

/// `t_is_request_route()`: 1 in request_route, else -1.
fn t_is_request_route(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    truth(route_kind(ctx) == RouteKind::Request)
}

/// The tmx module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    ..crate::host::Module::decl(&DECL)
};
