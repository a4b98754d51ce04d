//! `auth`: declarations mirroring Kamailio 5.6's auth module: digest authentication.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "auth",
    functions: &[
        FnDecl { name: "consume_credentials", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "www_challenge", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "proxy_challenge", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "auth_challenge", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "pv_www_authorize", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::REQUEST },
        FnDecl { name: "pv_www_authenticate", args: &[Fmt, Fmt, IntFmt, Fmt], min_args: 3, routes: RouteMask::REQUEST },
        FnDecl { name: "pv_proxy_authorize", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::REQUEST },
        FnDecl { name: "pv_proxy_authenticate", args: &[Fmt, Fmt, IntFmt], min_args: 3, routes: RouteMask::REQUEST },
        FnDecl { name: "auth_get_www_authenticate", args: &[Fmt, IntFmt, Pv], min_args: 3, routes: RouteMask::REQUEST },
        FnDecl { name: "has_credentials", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "pv_auth_check", args: &[Fmt, Fmt, IntFmt, IntFmt], min_args: 4, routes: RouteMask::REQUEST },
    ],
    params: &[
        ParamDecl { name: "secret", ty: ParamType::Str },
        ParamDecl { name: "nonce_expire", ty: ParamType::Int },
        ParamDecl { name: "nonce_auth_max_drift", ty: ParamType::Int },
        ParamDecl { name: "protect_contacts", ty: ParamType::Int },
        ParamDecl { name: "challenge_attr", ty: ParamType::Str },
        ParamDecl { name: "proxy_challenge_header", ty: ParamType::Str },
        ParamDecl { name: "www_challenge_header", ty: ParamType::Str },
        ParamDecl { name: "qop", ty: ParamType::Str },
        ParamDecl { name: "auth_checks_register", ty: ParamType::Int },
        ParamDecl { name: "auth_checks_no_dlg", ty: ParamType::Int },
        ParamDecl { name: "auth_checks_in_dlg", ty: ParamType::Int },
        ParamDecl { name: "nonce_count", ty: ParamType::Int },
        ParamDecl { name: "nc_array_size", ty: ParamType::Int },
        ParamDecl { name: "nc_array_order", ty: ParamType::Int },
        ParamDecl { name: "one_time_nonce", ty: ParamType::Int },
        ParamDecl { name: "otn_in_flight_no", ty: ParamType::Int },
        ParamDecl { name: "otn_in_flight_order", ty: ParamType::Int },
        ParamDecl { name: "nid_pool_no", ty: ParamType::Int },
        ParamDecl { name: "force_stateless_reply", ty: ParamType::Int },
        ParamDecl { name: "realm_prefix", ty: ParamType::Str },
        ParamDecl { name: "use_domain", ty: ParamType::Int },
        ParamDecl { name: "algorithm", ty: ParamType::Str },
        ParamDecl { name: "add_authinfo_hdr", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};
