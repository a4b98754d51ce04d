//! `corex`: declarations mirroring Kamailio 5.6's corex module: core extensions.

use sipvm_lang::registry::ArgKind::{Fmt, HostPort, IntFmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "corex",
    functions: &[
        FnDecl { name: "forward_reply", args: &[], min_args: 0, routes: RouteMask::CORE_ONREPLY, implemented: false },
        FnDecl { name: "append_branch", args: &[Fmt, Fmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE), implemented: false },
        FnDecl { name: "send_udp", args: &[HostPort], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE), implemented: false },
        FnDecl { name: "send_tcp", args: &[HostPort], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE), implemented: false },
        FnDecl { name: "send_data", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "sendx", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "is_incoming", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "msg_iflag_set", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "msg_iflag_reset", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "msg_iflag_is_set", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "file_read", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "file_write", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "setxflag", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "resetxflag", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "isxflagset", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "set_send_socket", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "set_send_socket_name", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "set_recv_socket", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "set_recv_socket_name", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "set_source_address", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "via_add_srvid", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "via_add_xavp_params", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "via_use_xavp_fields", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "is_faked_msg", args: &[], min_args: 0, routes: RouteMask::ANY, implemented: false },
        FnDecl { name: "is_socket_name", args: &[Fmt], min_args: 1, routes: RouteMask::ANY, implemented: false },
    ],
    params: &[
        ParamDecl { name: "alias_subdomains", ty: ParamType::Str },
        ParamDecl { name: "dns_cache", ty: ParamType::Str },
        ParamDecl { name: "nio_intercept", ty: ParamType::Int },
        ParamDecl { name: "nio_min_msg_len", ty: ParamType::Int },
        ParamDecl { name: "nio_msg_avp", ty: ParamType::Str },
        ParamDecl { name: "evcb_reply_out", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "cfg", form: PvForm::Named, writable: false },
        PvDecl { name: "lsock", form: PvForm::Named, writable: false },
    ],
};
