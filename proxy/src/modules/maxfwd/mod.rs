//! `maxfwd`: declarations mirroring Kamailio 5.6's maxfwd module: Max-Forwards handling.

use sipvm_lang::registry::ArgKind::IntFmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "maxfwd",
    functions: &[
        FnDecl { name: "maxfwd_process", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "mf_process_maxfwd_header", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "process_maxfwd", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "is_maxfwd_lt", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "maxfwd_at_least", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "mf_lowlimit", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
    ],
    params: &[
        ParamDecl { name: "max_limit", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

// ---- implementations ----

use crate::host::natives::arg_int;
use crate::host::{Ctx, Impl};
use crate::sip::{HeaderName, HeaderPos};
use sipvm_vm::{ArgValue, HostError, Value};

/// maxfwd's natives.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "mf_process_maxfwd_header",
        f: process,
    },
    Impl {
        name: "maxfwd_process",
        f: process,
    },
];

/// Kamailio's default `max_limit`.
const DEFAULT_MAX_LIMIT: i64 = 70;

/// `maxfwd_process(limit)`: no header → add `Max-Forwards: limit`, return 2; 0 → -1 (the
/// script answers 483); else decrement (capped at `max_limit`), return 1; unreadable → -2.
fn process(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let limit = arg_int(args, 0)?;
    let max_limit = ctx
        .snap
        .modparams
        .iter()
        .find(|m| m.module == "maxfwd" && m.param == "max_limit")
        .and_then(|m| {
            if let Value::Int(n) = m.value {
                Some(n)
            } else {
                None
            }
        })
        .unwrap_or(DEFAULT_MAX_LIMIT);
    let Some(index) = ctx.msg.find(HeaderName::MaxForwards) else {
        ctx.edits
            .add_header(HeaderPos::End, "Max-Forwards", &limit.to_string());
        return Ok(2);
    };
    let value = match ctx.msg.max_forwards() {
        Ok(Some(v)) => v as i64,
        _ => return Ok(-2),
    };
    if value == 0 {
        return Ok(-1);
    }
    let new = (value - 1).min(max_limit);
    let Some(h) = ctx.msg.header(index) else {
        return Ok(-2);
    };
    let base = ctx.msg.as_bytes().as_ptr() as usize;
    let start = h.value.as_ptr() as usize - base;
    ctx.edits
        .replace_range(start, start + h.value.len(), new.to_string().as_bytes());
    Ok(1)
}

/// The maxfwd module.
pub static MODULE: crate::host::Module = crate::host::Module {
    params: &["max_limit"],
    natives: IMPLS,
    ..crate::host::Module::decl(&DECL)
};
