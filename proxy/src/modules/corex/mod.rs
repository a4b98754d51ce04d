//! `corex`: declarations mirroring Kamailio 5.6's corex module: core extensions.

use sipvm_lang::registry::ArgKind::{Fmt, HostPort, IntFmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "corex",
    functions: &[
        FnDecl { name: "forward_reply", args: &[], min_args: 0, routes: RouteMask::CORE_ONREPLY },
        FnDecl { name: "append_branch", args: &[Fmt, Fmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "send_udp", args: &[HostPort], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "send_tcp", args: &[HostPort], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "send_data", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sendx", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "is_incoming", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "msg_iflag_set", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "msg_iflag_reset", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "msg_iflag_is_set", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "file_read", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "file_write", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "setxflag", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "resetxflag", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "isxflagset", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_send_socket", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_send_socket_name", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_recv_socket", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_recv_socket_name", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_source_address", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "via_add_srvid", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "via_add_xavp_params", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "via_use_xavp_fields", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_faked_msg", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "is_socket_name", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
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
    transforms: &[],
};

// ---- implementations ----

use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError};

mod msg;
mod natives;
mod pvs;

/// corex's natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "append_branch",
        f: append_branch,
    },
    Impl {
        name: "setxflag",
        f: natives::setxflag,
    },
    Impl {
        name: "resetxflag",
        f: natives::resetxflag,
    },
    Impl {
        name: "isxflagset",
        f: natives::isxflagset,
    },
    Impl {
        name: "file_read",
        f: natives::file_read,
    },
    Impl {
        name: "file_write",
        f: natives::file_write,
    },
    Impl {
        name: "is_socket_name",
        f: natives::is_socket_name,
    },
    Impl {
        name: "set_send_socket",
        f: natives::set_send_socket,
    },
    Impl {
        name: "set_send_socket_name",
        f: natives::set_send_socket_name,
    },
    Impl {
        name: "set_recv_socket",
        f: natives::set_recv_socket,
    },
    Impl {
        name: "set_recv_socket_name",
        f: natives::set_recv_socket_name,
    },
    Impl {
        name: "send_udp",
        f: natives::send_udp,
    },
    Impl {
        name: "send_tcp",
        f: natives::send_tcp,
    },
    Impl {
        name: "send_data",
        f: natives::send_data,
    },
    Impl {
        name: "sendx",
        f: natives::sendx,
    },
    Impl {
        name: "forward_reply",
        f: msg::forward_reply,
    },
    Impl {
        name: "is_incoming",
        f: msg::is_incoming,
    },
    Impl {
        name: "msg_iflag_set",
        f: msg::msg_iflag_set,
    },
    Impl {
        name: "msg_iflag_reset",
        f: msg::msg_iflag_reset,
    },
    Impl {
        name: "msg_iflag_is_set",
        f: msg::msg_iflag_is_set,
    },
    Impl {
        name: "set_source_address",
        f: msg::set_source_address,
    },
    Impl {
        name: "is_faked_msg",
        f: msg::is_faked_msg,
    },
];

/// `append_branch()` adds the current Request-URI to the destination set;
/// `append_branch(uri)` adds `uri`. The new branch takes branch 0's flags; without a URI,
/// branch 0's flags are then cleared (the Request-URI moved to the branch, as in Kamailio).
fn append_branch(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let given = args.first().map(|_| arg_str(args, 0).into_owned());
    let uri = match given.filter(|u| !u.is_empty()) {
        Some(u) => u,
        None => {
            let u = ctx.ruri_str().to_string();
            let flags = std::mem::take(&mut ctx.bflags);
            ctx.push_branch(u, flags);
            return Ok(1);
        }
    };
    let flags = ctx.bflags;
    ctx.push_branch(uri, flags);
    Ok(1)
}

/// `$cfg(..)` and `$lsock(..)`.
static PVS: &[crate::host::PvImpl] = &[
    crate::host::PvImpl {
        name: "cfg",
        get: pvs::cfg_get,
        set: None,
    },
    crate::host::PvImpl {
        name: "lsock",
        get: pvs::lsock_get,
        set: None,
    },
];

/// The corex module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    pvs: PVS,
    ..crate::host::Module::decl(&DECL)
};
