//! `xlog`: declarations mirroring Kamailio 5.6's xlog module: formatted logging.

use sipvm_lang::registry::ArgKind::{Fmt, LogLevel, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "xlog",
    functions: &[
        FnDecl { name: "xlog", args: &[Str, LogLevel, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xdbg", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xinfo", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xnotice", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xwarn", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xerr", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xbug", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xcrit", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xalert", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xlogl", args: &[Str, LogLevel, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xdbgl", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "xlogm", args: &[LogLevel, Fmt], min_args: 2, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "buf_size", ty: ParamType::Int },
        ParamDecl { name: "force_color", ty: ParamType::Int },
        ParamDecl { name: "long_format", ty: ParamType::Int },
        ParamDecl { name: "prefix", ty: ParamType::Str },
        ParamDecl { name: "log_facility", ty: ParamType::Str },
        ParamDecl { name: "log_colors", ty: ParamType::Str },
        ParamDecl { name: "methods_filter", ty: ParamType::Int },
        ParamDecl { name: "prefix_mode", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "C", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- implementations ----

use crate::host::log::{level_of, Level};
use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError};

/// xlog's natives: messages go through `tracing` (target `xlog`).
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "xlog",
        f: xlog,
    },
    Impl {
        name: "xdbg",
        f: |_, a| at(Level::Debug, a),
    },
    Impl {
        name: "xinfo",
        f: |_, a| at(Level::Info, a),
    },
    Impl {
        name: "xnotice",
        f: |_, a| at(Level::Info, a),
    },
    Impl {
        name: "xwarn",
        f: |_, a| at(Level::Warn, a),
    },
    Impl {
        name: "xerr",
        f: |_, a| at(Level::Err, a),
    },
    Impl {
        name: "xbug",
        f: |_, a| at(Level::Err, a),
    },
    Impl {
        name: "xalert",
        f: |_, a| at(Level::Err, a),
    },
    Impl {
        name: "xcrit",
        f: |_, a| at(Level::Err, a),
    },
];

fn emit(level: Level, text: &str) {
    crate::log_at!("xlog", level, text.strip_suffix('\n').unwrap_or(text));
}

/// `xdbg(fmt)`, `xinfo(fmt)`, `xwarn(fmt)`, `xerr(fmt)` and their aliases: `fmt` at one level.
fn at(level: Level, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    emit(level, &arg_str(args, 0));
    Ok(1)
}

/// `xlog(fmt)`, `xlog(level, fmt)`, `xlog(facility, level, fmt)`; `xlog(fmt)` logs at error,
/// as Kamailio's does.
fn xlog(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (level, text) = match args.len() {
        1 => (Level::Err, arg_str(args, 0)),
        2 => (level_of(&arg_str(args, 0)), arg_str(args, 1)),
        _ => {
            let name = arg_str(args, 0);
            let Some(code) = crate::logging::facility(&name) else {
                return Err(HostError(format!("xlog: unknown facility {name:?}")));
            };
            let (level, text) = (level_of(&arg_str(args, 1)), arg_str(args, 2));
            crate::logging::with_facility(code, || emit(level, &text));
            return Ok(1);
        }
    };
    emit(level, &text);
    Ok(1)
}

/// The xlog module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    ..crate::host::Module::decl(&DECL)
};
