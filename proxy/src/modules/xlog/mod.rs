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

mod natives;

/// Refuses the parameters sipvm cannot honour (docs/modules/xlog.md).
fn check(params: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    if params
        .iter()
        .any(|m| m.module == "xlog" && m.param == "log_colors")
    {
        return Err(
            "xlog: log_colors is not supported: sipvm does not colour its log lines \
                    by level (core log_color)"
                .into(),
        );
    }
    let get = |n: &str| {
        params
            .iter()
            .rev()
            .find(|m| m.module == "xlog" && m.param == n)
            .map(|m| m.value.clone())
    };
    natives::XlogCfg::read(get).map(|_| ())
}

/// The xlog module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: natives::IMPLS,
    pvs: natives::PVS,
    params: &[
        "buf_size",
        "force_color",
        "long_format",
        "prefix",
        "log_facility",
        "methods_filter",
        "prefix_mode",
    ],
    check: Some(check),
    ..crate::host::Module::decl(&DECL)
};
