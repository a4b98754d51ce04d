//! `debugger`: Kamailio 5.6's debugger module; sipvm implements its config tracing
//! (`cfgtrace`), see docs/modules/debugger.md.
//!
//! `dbg_pv_dump([mask[, level]])` and `dbg_sip_msg([level[, facility]])` take a log level
//! (`L_INFO`...), but their short forms drop trailing arguments, and the compiler treats a
//! function with a `LogLevel` argument and optional arguments as xlog-style (short forms drop
//! leading ones, see `super::RIGHT_ALIGNED`): so the level is declared `Str` here and is to be
//! checked by the implementation.

use sipvm_lang::registry::ArgKind::{Int, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "debugger",
    functions: &[
        FnDecl { name: "dbg_breakpoint", args: &[Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "dbg_pv_dump", args: &[Int, Str], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "dbg_sip_msg", args: &[Str, Str], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
    ],
    params: &[
        ParamDecl { name: "cfgtrace", ty: ParamType::Int },
        ParamDecl { name: "cfgtrace_format", ty: ParamType::Int },
        ParamDecl { name: "breakpoint", ty: ParamType::Int },
        ParamDecl { name: "log_level", ty: ParamType::Int },
        ParamDecl { name: "log_facility", ty: ParamType::Str },
        ParamDecl { name: "log_prefix", ty: ParamType::Str },
        ParamDecl { name: "log_level_name", ty: ParamType::Str },
        ParamDecl { name: "log_assign", ty: ParamType::Int },
        ParamDecl { name: "step_usleep", ty: ParamType::Int },
        ParamDecl { name: "step_loops", ty: ParamType::Int },
        ParamDecl { name: "mod_hash_size", ty: ParamType::Int },
        ParamDecl { name: "mod_level_mode", ty: ParamType::Int },
        ParamDecl { name: "mod_level", ty: ParamType::Str },
        ParamDecl { name: "mod_facility_mode", ty: ParamType::Int },
        ParamDecl { name: "mod_facility", ty: ParamType::Str },
        ParamDecl { name: "reset_msgid", ty: ParamType::Int },
        ParamDecl { name: "cfgpkgcheck", ty: ParamType::Int },
        ParamDecl { name: "cfgtest", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

mod trace;

/// The debugger module: `cfgtrace` and the parameters that shape its lines; the breakpoint
/// machinery and `dbg_*` functions stay declared only.
pub static MODULE: crate::host::Module = crate::host::Module {
    params: trace::PARAMS,
    restart: trace::PARAMS,
    state: Some(trace::state),
    hooks: crate::host::Hooks {
        trace: Some(crate::host::Trace {
            on: trace::on,
            f: trace::trace,
        }),
        ..crate::host::Hooks::NONE
    },
    ..crate::host::Module::decl(&DECL)
};
