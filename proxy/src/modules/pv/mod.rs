//! `pv`: declarations mirroring Kamailio 5.6's pv module, and its transformations
//! (`trans.rs`). Like its pseudo-variable classes, the transformations are core in sipvm
//! (`core.rs` declares them): they work without `loadmodule "pv.so"`, as they always have.

pub mod core_pvs;
pub mod natives;
pub mod sbranch;
pub mod time_pvs;
pub mod trans;
#[cfg(test)]
mod trans_tests;
pub mod xavp;
pub mod xpv;

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "pv",
    functions: &[
        FnDecl { name: "pv_isset", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "pv_unset", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "pv_xavp_print", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_xavu_print", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_xavi_print", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_var_to_xavp", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "pv_xavp_to_var", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_int", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "typeof", args: &[Pv, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "not_empty", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xavp_copy", args: &[Str, IntFmt, Str, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavp_slist_explode", args: &[Fmt, Fmt, Fmt, Fmt], min_args: 4, routes: RouteMask::ANY },
        FnDecl { name: "xavp_params_explode", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavp_params_implode", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavu_params_explode", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavu_params_implode", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavp_child_seti", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavp_child_sets", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavp_rm", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xavp_child_rm", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "xavi_child_seti", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavi_child_sets", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "xavi_rm", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xavi_child_rm", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sbranch_set_ruri", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "sbranch_append", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "sbranch_reset", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_evalx", args: &[Pv, Fmt], min_args: 2, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "shvset", ty: ParamType::Str },
        ParamDecl { name: "varset", ty: ParamType::Str },
        ParamDecl { name: "avp_aliases", ty: ParamType::Str },
    ],
    pvs: &[],
    transforms: &[],
};

// ---- implementations ----

use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError, Value};

/// pv's natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "pv_isset",
        f: pv_isset,
    },
    Impl {
        name: "pv_unset",
        f: pv_unset,
    },
    Impl {
        name: "is_int",
        f: is_int,
    },
    Impl {
        name: "typeof",
        f: pv_typeof,
    },
    Impl {
        name: "not_empty",
        f: not_empty,
    },
    Impl {
        name: "pv_xavp_print",
        f: natives::pv_xavp_print,
    },
    Impl {
        name: "pv_xavu_print",
        f: natives::pv_xavu_print,
    },
    Impl {
        name: "pv_xavi_print",
        f: natives::pv_xavi_print,
    },
    Impl {
        name: "xavp_rm",
        f: natives::xavp_rm,
    },
    Impl {
        name: "xavi_rm",
        f: natives::xavi_rm,
    },
    Impl {
        name: "xavp_child_rm",
        f: natives::xavp_child_rm,
    },
    Impl {
        name: "xavi_child_rm",
        f: natives::xavi_child_rm,
    },
    Impl {
        name: "xavp_child_seti",
        f: natives::xavp_child_seti,
    },
    Impl {
        name: "xavp_child_sets",
        f: natives::xavp_child_sets,
    },
    Impl {
        name: "xavi_child_seti",
        f: natives::xavi_child_seti,
    },
    Impl {
        name: "xavi_child_sets",
        f: natives::xavi_child_sets,
    },
    Impl {
        name: "xavp_params_explode",
        f: natives::xavp_params_explode,
    },
    Impl {
        name: "xavu_params_explode",
        f: natives::xavu_params_explode,
    },
    Impl {
        name: "xavp_params_implode",
        f: natives::xavp_params_implode,
    },
    Impl {
        name: "xavu_params_implode",
        f: natives::xavu_params_implode,
    },
    Impl {
        name: "xavp_slist_explode",
        f: natives::xavp_slist_explode,
    },
    Impl {
        name: "xavp_copy",
        f: natives::xavp_copy,
    },
    Impl {
        name: "sbranch_set_ruri",
        f: sbranch::sbranch_set_ruri,
    },
    Impl {
        name: "sbranch_append",
        f: sbranch::sbranch_append,
    },
    Impl {
        name: "sbranch_reset",
        f: sbranch::sbranch_reset,
    },
];

/// The value of argument 0, a pseudo-variable; None when it cannot be read.
fn arg0(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Option<Value> {
    match crate::host::natives::arg_pv_value(ctx, args, 0) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::debug!("pv: {e}");
            None
        }
    }
}

/// `pv_isset(pv)`: 1 when the pseudo-variable has a value (not `$null`), else -1.
fn pv_isset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(match arg0(ctx, args) {
        Some(v) if !v.is_null() => 1,
        _ => -1,
    })
}

/// `pv_unset(pv)`: assigns `$null`; 1, or -1 when the class cannot be assigned. What only
/// the VM holds (`$var`...) it writes when the native returns.
fn pv_unset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(ArgValue::Pv(pv)) = args.first() else {
        return Err(HostError("argument 1 is not a pseudo-variable".into()));
    };
    let prog = ctx.snap.program.clone();
    let key = match crate::host::natives::static_key(&prog, *pv) {
        Ok(k) if !ctx.pv_in.iter().any(|(p, _)| p == pv) => k,
        _ => {
            crate::host::natives::set_out(ctx, args, 0, Value::Null)?;
            return Ok(1);
        }
    };
    Ok(match sipvm_vm::Host::set_pv(ctx, &prog, key, Value::Null) {
        Ok(()) => 1,
        Err(e) => {
            tracing::error!("pv_unset: failed to unset variable: {e}");
            -1
        }
    })
}

/// `is_int(pv)`: 1 when the value is an integer (`$sp`, an `$avp` set to a number), -1
/// otherwise (a string of digits is a string, as in Kamailio).
fn is_int(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(match arg0(ctx, args) {
        Some(Value::Int(_)) => 1,
        _ => -1,
    })
}

/// `typeof(pv, type)`: 1 when the value is of the type named by the first letter of `type`
/// (`i`nteger, `n`ull, `s`tring), else -1.
fn pv_typeof(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let t = crate::host::natives::arg_str(args, 1).into_owned();
    let Some(v) = arg0(ctx, args) else {
        return Ok(-1);
    };
    let yes = match t.chars().next() {
        Some('i' | 'I') => matches!(v, Value::Int(_)),
        Some('n' | 'N') => v.is_null(),
        Some('s' | 'S') => matches!(v, Value::Str(_)),
        _ => false,
    };
    Ok(if yes { 1 } else { -1 })
}

/// `not_empty(pv)`: 1 when the value is a non-empty string, else -1.
fn not_empty(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(match arg0(ctx, args) {
        Some(Value::Str(s)) if !s.is_empty() => 1,
        _ => -1,
    })
}

/// The pv module.
pub static MODULE: crate::host::Module = crate::host::Module {
    params: &["shvset", "varset"],
    restart: &["shvset"],
    natives: IMPLS,
    ..crate::host::Module::decl(&DECL)
};
