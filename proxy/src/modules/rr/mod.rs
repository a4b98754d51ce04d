//! `rr`: declarations mirroring Kamailio 5.6's rr module: record-routing and loose routing.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Regex, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
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

use crate::host::natives::{arg_int, arg_str};
use crate::host::{Ctx, Hooks, Impl, Module, PvImpl};
use record::RrKind;
use sipvm_vm::{ArgValue, HostError, PvKey, Value};

pub mod callbacks;
pub mod loose;
pub mod record;

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
    Ok(record::record(ctx, RrKind::Auto { params }, true))
}

/// `record_route_preset(addr[, addr2])`: the second address needs `enable_double_rr`.
fn record_route_preset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if record::state(ctx).is_some_and(|s| s.added) {
        tracing::error!("rr: double attempt to record-route");
        return Ok(-1);
    }
    let mut addrs = vec![arg_str(args, 0).into_owned()];
    if args.len() > 1 {
        record::state_mut(ctx); // so the config below is read once and kept
        if record::config(ctx).double_rr == 0 {
            tracing::error!("record_route_preset: two addresses need enable_double_rr");
            return Ok(-1);
        }
        addrs.push(arg_str(args, 1).into_owned());
    }
    Ok(record::record(ctx, RrKind::Preset(addrs), false))
}

fn record_route_advertised_address(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let addr = arg_str(args, 0).into_owned();
    Ok(record::record(ctx, RrKind::Advertised(addr), true))
}

/// `add_rr_param(param)`: `param` is written as given (with its leading `;`).
fn add_rr_param(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let p = arg_str(args, 0).into_owned();
    Ok(if record::add_param(ctx, &p) { 1 } else { -1 })
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
    record::state_mut(ctx);
    if !record::config(ctx).append_fromtag {
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
    record::state_mut(ctx).record = None;
    Ok(1)
}

/// `rr_next_hop_route()`: `loose_route()` consumed our Route and another one follows.
fn rr_next_hop_route(ctx: &mut Ctx<'_>, _args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(if record::state(ctx).is_some_and(|s| s.route_addr) {
        1
    } else {
        -1
    })
}

// ---- pseudo-variables ----

fn opt(x: Option<&str>) -> sipvm_vm::Value {
    x.map(|s| sipvm_vm::Value::Str(s.into()))
        .unwrap_or(sipvm_vm::Value::Null)
}

/// `$route_uri`: the topmost Route's URI.
fn route_uri(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    let r = ctx.msg.route().ok();
    Ok(opt(r.and_then(|r| r.first()).map(|n| n.uri().as_str())))
}

/// `$fti`/`$tti`: the From/To tag as in the initial request (swapped downstream).
fn tag_of(ctx: &Ctx<'_>, from: bool) -> Value {
    let (f, t) = (ctx.msg.from().ok(), ctx.msg.to().ok());
    let pick = if from != loose::is_upstream(ctx) {
        f
    } else {
        t
    };
    opt(pick.and_then(|n| n.tag()).filter(|t| !t.is_empty()))
}

fn fti(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    Ok(tag_of(ctx, true))
}

fn tti(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    Ok(tag_of(ctx, false))
}

/// `$rdir(id)` 1 downstream, 2 upstream; `$rdir(name)` the word.
fn rdir(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    let up = loose::is_upstream(ctx);
    Ok(match k.name.unwrap_or("") {
        "name" => Value::Str(if up { "upstream" } else { "downstream" }.into()),
        _ => Value::Int(if up { 2 } else { 1 }),
    })
}

#[rustfmt::skip]
static PVS: &[PvImpl] = &[
    PvImpl { name: "route_uri", get: route_uri, set: None },
    PvImpl { name: "fti", get: fti, set: None },
    PvImpl { name: "tti", get: tti, set: None },
    PvImpl { name: "rdir", get: rdir, set: None },
];

fn send_hook(ctx: &Ctx<'_>, out: &crate::transport::Local, e: &mut crate::sip::Edits) {
    record::apply(ctx, out, e);
}

/// The rr module: its natives and pseudo-variables, and the Record-Route it adds when a
/// request leaves.
pub static MODULE: Module = Module {
    params: &[
        "append_fromtag",
        "enable_double_rr",
        "enable_full_lr",
        "add_username",
        "custom_user_avp",
        "force_send_socket",
        "ignore_sips",
    ],
    natives: IMPLS,
    pvs: PVS,
    hooks: Hooks {
        send: Some(send_hook),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
