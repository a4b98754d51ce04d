//! `nathelper`: Kamailio 5.6's nathelper module, its script side (NAT detection and the
//! Contact/Request-URI rewrites); no NAT pinging, no SDP rewriting. See docs/modules/nathelper.md.

use sipvm_lang::registry::ArgKind::{Fmt, Int, IntFmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "nathelper",
    functions: &[
        FnDecl { name: "fix_nated_contact", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "add_contact_alias", args: &[Fmt, Fmt, Fmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "set_contact_alias", args: &[Int], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "handle_ruri_alias", args: &[IntFmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "fix_nated_sdp", args: &[IntFmt, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "nat_uac_test", args: &[IntFmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH).or(RouteMask::LOCAL) },
        FnDecl { name: "fix_nated_register", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "add_rcv_param", args: &[IntFmt], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "is_rfc1918", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_alias_to_pv", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "natping_interval", ty: ParamType::Int },
        ParamDecl { name: "ping_nated_only", ty: ParamType::Int },
        ParamDecl { name: "nortpproxy_str", ty: ParamType::Str },
        ParamDecl { name: "received_avp", ty: ParamType::Str },
        ParamDecl { name: "force_socket", ty: ParamType::Str },
        ParamDecl { name: "sipping_from", ty: ParamType::Str },
        ParamDecl { name: "sipping_method", ty: ParamType::Str },
        ParamDecl { name: "sipping_bflag", ty: ParamType::Int },
        ParamDecl { name: "natping_disable_bflag", ty: ParamType::Int },
        ParamDecl { name: "natping_processes", ty: ParamType::Int },
        ParamDecl { name: "natping_socket", ty: ParamType::Str },
        ParamDecl { name: "keepalive_timeout", ty: ParamType::Int },
        ParamDecl { name: "udpping_from_path", ty: ParamType::Int },
        ParamDecl { name: "append_sdp_oldmediaip", ty: ParamType::Int },
        ParamDecl { name: "filter_server_id", ty: ParamType::Int },
        ParamDecl { name: "nat_addr_mode", ty: ParamType::Int },
        ParamDecl { name: "alias_name", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "rr_count", form: PvForm::Plain, writable: false },
        PvDecl { name: "rr_top_count", form: PvForm::Plain, writable: false },
    ],
    transforms: &[],
};

mod natives;

/// nathelper's script side; `fix_nated_sdp` and NAT pinging stay declared only.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: natives::IMPLS,
    pvs: natives::PVS,
    params: &["received_avp", "nat_addr_mode"],
    restart: &["received_avp", "nat_addr_mode"],
    ..crate::host::Module::decl(&DECL)
};
