//! `xlog`: declarations mirroring Kamailio 5.6's xlog module: formatted logging.

use sipvm_lang::registry::ArgKind::{Fmt, LogLevel, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "xlog",
    functions: &[
        FnDecl { name: "xlog", args: &[Str, LogLevel, Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xdbg", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xinfo", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xnotice", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xwarn", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xerr", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xbug", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xcrit", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xalert", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xlogl", args: &[Str, LogLevel, Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xdbgl", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "xlogm", args: &[LogLevel, Fmt], min_args: 2, routes: RouteMask::ANY, implemented: false },
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
};
