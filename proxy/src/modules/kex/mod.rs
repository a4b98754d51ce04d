//! `kex`: Kamailio 5.6's kex module (core extensions: flags, debug, printf); see
//! docs/modules/kex.md.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "kex",
    functions: &[
        FnDecl { name: "setsflag", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "resetsflag", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "issflagset", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setbflag", args: &[IntFmt, IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "resetbflag", args: &[IntFmt, IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "isbflagset", args: &[IntFmt, IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setdsturi", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "resetdsturi", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "isdsturiset", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "pv_printf", args: &[Pv, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "avp_printf", args: &[Pv, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "is_myself", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setdebug", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "resetdebug", args: &[], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[],
    pvs: &[
        PvDecl { name: "sruid", form: PvForm::Plain, writable: false },
    ],
    transforms: &[],
};

mod natives;

/// kex: flags, the destination URI, `pv_printf`, `is_myself`, `setdebug`/`resetdebug`
/// (a worker's own log level), `$sruid`.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: natives::IMPLS,
    pvs: natives::PVS,
    ..crate::host::Module::decl(&DECL)
};
