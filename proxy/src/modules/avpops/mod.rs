//! `avpops`: Kamailio 5.6's avpops module, its functions that need no database: AVPs
//! checked, copied, pushed into the request, changed by integer operations and sed-like
//! substitutions, deleted, printed. The database functions (`avp_db_*`) and parameters are
//! the database issue's (#14): declared, not implemented. See docs/modules/avpops.md.

use sipvm_lang::registry::ArgKind::{Fmt, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

/// Kamailio's REQUEST_ROUTE|FAILURE_ROUTE|BRANCH_ROUTE|ONREPLY_ROUTE|LOCAL_ROUTE.
const ROUTES: RouteMask = RouteMask::REQUEST
    .or(RouteMask::FAILURE)
    .or(RouteMask::BRANCH)
    .or(RouteMask::ONREPLY)
    .or(RouteMask::LOCAL);

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "avpops",
    functions: &[
        FnDecl { name: "avp_print", args: &[], min_args: 0, routes: ROUTES },
        FnDecl { name: "avp_db_load", args: &[Str, Str], min_args: 2, routes: ROUTES },
        FnDecl { name: "avp_db_delete", args: &[Str, Str], min_args: 2, routes: ROUTES },
        FnDecl { name: "avp_db_store", args: &[Str, Str], min_args: 2, routes: ROUTES },
        FnDecl { name: "avp_db_query", args: &[Fmt, Str], min_args: 1, routes: ROUTES },
        FnDecl { name: "avp_delete", args: &[Str], min_args: 1, routes: ROUTES },
        FnDecl { name: "avp_copy", args: &[Str, Str], min_args: 2, routes: ROUTES },
        FnDecl { name: "avp_pushto", args: &[Str, Str], min_args: 2, routes: ROUTES },
        FnDecl { name: "avp_check", args: &[Str, Str], min_args: 2, routes: ROUTES },
        FnDecl { name: "avp_op", args: &[Str, Str], min_args: 2, routes: ROUTES },
        FnDecl { name: "avp_subst", args: &[Str, Str], min_args: 2, routes: ROUTES },
        FnDecl { name: "avp_subst_pv", args: &[Str, Fmt], min_args: 2, routes: ROUTES },
        FnDecl { name: "is_avp_set", args: &[Str], min_args: 1, routes: ROUTES },
    ],
    params: &[
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "avp_table", ty: ParamType::Str },
        ParamDecl { name: "use_domain", ty: ParamType::Int },
        ParamDecl { name: "uuid_column", ty: ParamType::Str },
        ParamDecl { name: "attribute_column", ty: ParamType::Str },
        ParamDecl { name: "value_column", ty: ParamType::Str },
        ParamDecl { name: "type_column", ty: ParamType::Str },
        ParamDecl { name: "username_column", ty: ParamType::Str },
        ParamDecl { name: "domain_column", ty: ParamType::Str },
        ParamDecl { name: "db_scheme", ty: ParamType::Str },
    ],
    pvs: &[],
    transforms: &[],
};

// ---- the module ----

mod natives;
pub mod spec;
pub mod subst;

use crate::host::Module;

/// The avpops module (no parameter is honoured: they all configure the database functions).
pub static MODULE: Module = Module {
    natives: natives::IMPLS,
    ..Module::decl(&DECL)
};
