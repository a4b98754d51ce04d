//! `path`: declarations mirroring Kamailio 5.6's path module: Path header (RFC 3327).

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "path",
    functions: &[
        FnDecl { name: "add_path", args: &[Fmt, Fmt], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "add_path_received", args: &[Fmt, Fmt], min_args: 0, routes: RouteMask::REQUEST },
    ],
    params: &[
        ParamDecl { name: "use_received", ty: ParamType::Int },
        ParamDecl { name: "received_format", ty: ParamType::Int },
        ParamDecl { name: "enable_r2", ty: ParamType::Int },
        ParamDecl { name: "sockname_mode", ty: ParamType::Int },
        ParamDecl { name: "received_name", ty: ParamType::Str },
    ],
    pvs: &[],
    transforms: &[],
};
