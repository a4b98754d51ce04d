//! `jsonrpcs`: Kamailio 5.6's JSON-RPC server module. sipvm serves JSON-RPC over HTTP itself
//! (`rpc_listen`, docs/rpc.md); this module honours how replies are formatted. Its FIFO and
//! datagram transports and `jsonrpc_dispatch` are not implemented yet (refused).

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "jsonrpcs",
    functions: &[
        FnDecl { name: "jsonrpc_dispatch", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "jsonrpc_exec", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "pretty_format", ty: ParamType::Int },
        ParamDecl { name: "transport", ty: ParamType::Int },
        ParamDecl { name: "fifo_name", ty: ParamType::Str },
        ParamDecl { name: "fifo_mode", ty: ParamType::Int },
        ParamDecl { name: "fifo_group", ty: ParamType::Any },
        ParamDecl { name: "fifo_user", ty: ParamType::Any },
        ParamDecl { name: "fifo_reply_dir", ty: ParamType::Str },
        ParamDecl { name: "dgram_socket", ty: ParamType::Str },
        ParamDecl { name: "dgram_workers", ty: ParamType::Int },
        ParamDecl { name: "dgram_timeout", ty: ParamType::Int },
        ParamDecl { name: "dgram_mode", ty: ParamType::Int },
        ParamDecl { name: "dgram_group", ty: ParamType::Any },
        ParamDecl { name: "dgram_user", ty: ParamType::Any },
    ],
    pvs: &[
        PvDecl { name: "jsonrpl", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

/// `pretty_format` (Kamailio's default 1): replies as jsonrpcs prints them, else compact.
fn register(reg: &sipvm_rpc::Registry, server: &crate::host::Server) {
    let snap = server.live.current();
    reg.set_pretty(snap.modparam_int("jsonrpcs", "pretty_format", 1) != 0);
}

pub static MODULE: crate::host::Module = crate::host::Module {
    params: &["pretty_format"],
    restart: &["pretty_format"],
    rpc: Some(register),
    ..crate::host::Module::decl(&DECL)
};
