//! `rr`: declarations mirroring Kamailio 5.6's rr module: record-routing and loose routing.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Regex, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "rr",
    functions: &[
        FnDecl { name: "loose_route", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "loose_route_preloaded", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "loose_route_mode", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "record_route", args: &[Fmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "record_route_preset", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "record_route_advertised_address", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "add_rr_param", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "check_route_param", args: &[Regex], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "is_direction", args: &[Str], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "remove_record_route", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "rr_next_hop_route", args: &[], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "append_fromtag", ty: ParamType::Int },
        ParamDecl { name: "enable_double_rr", ty: ParamType::Int },
        ParamDecl { name: "enable_full_lr", ty: ParamType::Int },
        ParamDecl { name: "add_username", ty: ParamType::Int },
        ParamDecl { name: "enable_socket_mismatch_warning", ty: ParamType::Int },
        ParamDecl { name: "custom_user_avp", ty: ParamType::Str },
        ParamDecl { name: "force_send_socket", ty: ParamType::Int },
        ParamDecl { name: "ignore_sips", ty: ParamType::Int },
        ParamDecl { name: "sockname_mode", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "route_uri", form: PvForm::Plain, writable: false },
        PvDecl { name: "fti", form: PvForm::Plain, writable: false },
        PvDecl { name: "tti", form: PvForm::Plain, writable: false },
        PvDecl { name: "rdir", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- implementations ----

use crate::host::loose;
use crate::host::natives::{arg_int, arg_str};
use crate::host::rr::{self, RrKind};
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError};

/// The rr natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "loose_route",
        f: loose_route,
    },
    Impl {
        name: "loose_route_preloaded",
        f: loose_route_preloaded,
    },
    Impl {
        name: "loose_route_mode",
        f: loose_route_mode,
    },
    Impl {
        name: "record_route",
        f: record_route,
    },
    Impl {
        name: "record_route_preset",
        f: record_route_preset,
    },
    Impl {
        name: "record_route_advertised_address",
        f: record_route_advertised_address,
    },
    Impl {
        name: "add_rr_param",
        f: add_rr_param,
    },
    Impl {
        name: "check_route_param",
        f: check_route_param,
    },
    Impl {
        name: "is_direction",
        f: is_direction,
    },
    Impl {
        name: "remove_record_route",
        f: remove_record_route,
    },
    Impl {
        name: "rr_next_hop_route",
        f: rr_next_hop_route,
    },
];

/// `loose_route()`: loose routing with strict-router recovery (mode 0).
fn loose_route(ctx: &mut Ctx<'_>, _args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(loose::loose_route(ctx, 0))
}

/// `loose_route_preloaded()`: true only when the route set was preloaded and held only us.
fn loose_route_preloaded(ctx: &mut Ctx<'_>, _args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(if loose::loose_route(ctx, 0) == -3 {
        1
    } else {
        -1
    })
}

fn loose_route_mode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let mode = arg_int(args, 0)?;
    Ok(loose::loose_route(ctx, mode))
}

/// `record_route([params])`: `params` are written as given (with their leading `;`).
fn record_route(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let params = arg_str(args, 0).into_owned();
    Ok(rr::record(ctx, RrKind::Auto { params }, true))
}

/// `record_route_preset(addr[, addr2])`: the second address needs `enable_double_rr`.
fn record_route_preset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if ctx.rr.added {
        tracing::error!("rr: double attempt to record-route");
        return Ok(-1);
    }
    let mut addrs = vec![arg_str(args, 0).into_owned()];
    if args.len() > 1 {
        if rr::config(ctx).double_rr == 0 {
            tracing::error!("record_route_preset: two addresses need enable_double_rr");
            return Ok(-1);
        }
        addrs.push(arg_str(args, 1).into_owned());
    }
    Ok(rr::record(ctx, RrKind::Preset(addrs), false))
}

fn record_route_advertised_address(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let addr = arg_str(args, 0).into_owned();
    Ok(rr::record(ctx, RrKind::Advertised(addr), true))
}

/// `add_rr_param(param)`: `param` is written as given (with its leading `;`).
fn add_rr_param(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let p = arg_str(args, 0).into_owned();
    Ok(if rr::add_param(ctx, &p) { 1 } else { -1 })
}

/// `check_route_param(re)`: the regex against `;params` of our Route (after `loose_route()`,
/// or the topmost Route when it is ours).
fn check_route_param(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(params) = loose::routed_params(ctx) else {
        return Ok(-1);
    };
    let text = format!(";{params}");
    let hit = match args.first() {
        Some(ArgValue::Regex(r)) => r.is_match(&text),
        Some(ArgValue::Val(v)) => regex::RegexBuilder::new(&v.to_str())
            .case_insensitive(true)
            .build()
            .map_err(|e| HostError(format!("check_route_param: bad regex: {e}")))?
            .is_match(&text),
        _ => return Err(HostError("check_route_param: missing regex".into())),
    };
    Ok(if hit { 1 } else { -1 })
}

/// `is_direction("downstream"|"upstream")`, by the `ftag` of our Route; Kamailio refuses the
/// call at startup when `append_fromtag` is off, sipvm when it runs.
fn is_direction(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if !rr::config(ctx).append_fromtag {
        return Err(HostError(
            "is_direction() needs modparam(\"rr\", \"append_fromtag\", 1)".into(),
        ));
    }
    let dir = arg_str(args, 0);
    let want_up = if dir.eq_ignore_ascii_case("upstream") {
        true
    } else if dir.eq_ignore_ascii_case("downstream") {
        false
    } else {
        return Err(HostError(format!(
            "is_direction: unknown direction {dir:?}"
        )));
    };
    Ok(if loose::is_upstream(ctx) == want_up {
        1
    } else {
        -1
    })
}

/// `remove_record_route()`: forget the Record-Route asked for on this message.
fn remove_record_route(ctx: &mut Ctx<'_>, _args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.rr.record = None;
    Ok(1)
}

/// `rr_next_hop_route()`: `loose_route()` consumed our Route and another one follows.
fn rr_next_hop_route(ctx: &mut Ctx<'_>, _args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(if ctx.rr.route_addr { 1 } else { -1 })
}
