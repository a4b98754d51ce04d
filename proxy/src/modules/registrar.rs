//! `registrar`: declarations mirroring Kamailio 5.6's registrar module: REGISTER handling and location lookup.

use sipvm_lang::registry::ArgKind::{Fmt, Int, IntFmt, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "registrar",
    functions: &[
        FnDecl { name: "save", args: &[Str, Int, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "lookup", args: &[Str, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "lookup_to_dset", args: &[Str, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "registered", args: &[Str, Fmt, IntFmt, IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "add_sock_hdr", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "unregister", args: &[Str, Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "reg_fetch_contacts", args: &[Str, Fmt, Str], min_args: 3, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "reg_free_contacts", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "lookup_branches", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "reg_send_reply", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
    ],
    params: &[
        ParamDecl { name: "default_expires", ty: ParamType::Int },
        ParamDecl { name: "default_expires_range", ty: ParamType::Int },
        ParamDecl { name: "expires_range", ty: ParamType::Int },
        ParamDecl { name: "default_q", ty: ParamType::Int },
        ParamDecl { name: "append_branches", ty: ParamType::Int },
        ParamDecl { name: "case_sensitive", ty: ParamType::Int },
        ParamDecl { name: "realm_prefix", ty: ParamType::Str },
        ParamDecl { name: "min_expires", ty: ParamType::Int },
        ParamDecl { name: "max_expires", ty: ParamType::Int },
        ParamDecl { name: "received_param", ty: ParamType::Str },
        ParamDecl { name: "received_avp", ty: ParamType::Str },
        ParamDecl { name: "max_contacts", ty: ParamType::Int },
        ParamDecl { name: "retry_after", ty: ParamType::Int },
        ParamDecl { name: "sock_mode", ty: ParamType::Int },
        ParamDecl { name: "sock_flag", ty: ParamType::Int },
        ParamDecl { name: "sock_hdr_name", ty: ParamType::Str },
        ParamDecl { name: "method_filtering", ty: ParamType::Int },
        ParamDecl { name: "use_path", ty: ParamType::Int },
        ParamDecl { name: "path_mode", ty: ParamType::Int },
        ParamDecl { name: "path_use_received", ty: ParamType::Int },
        ParamDecl { name: "path_check_local", ty: ParamType::Int },
        ParamDecl { name: "xavp_cfg", ty: ParamType::Str },
        ParamDecl { name: "xavp_rcd", ty: ParamType::Str },
        ParamDecl { name: "xavp_rcd_mask", ty: ParamType::Int },
        ParamDecl { name: "gruu_enabled", ty: ParamType::Int },
        ParamDecl { name: "outbound_mode", ty: ParamType::Int },
        ParamDecl { name: "regid_mode", ty: ParamType::Int },
        ParamDecl { name: "flow_timer", ty: ParamType::Int },
        ParamDecl { name: "contact_max_size", ty: ParamType::Int },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
        ParamDecl { name: "lookup_filter_mode", ty: ParamType::Int },
        ParamDecl { name: "min_expires_mode", ty: ParamType::Int },
        ParamDecl { name: "use_expired_contacts", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "ulc", form: PvForm::Named, writable: true },
    ],
};
