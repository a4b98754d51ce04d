//! `cfg_rpc`: declarations mirroring Kamailio 5.6's cfg_rpc module: RPC access to runtime configuration.

use sipvm_lang::registry::ModuleDecl;

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "cfg_rpc",
    functions: &[],
    params: &[],
    pvs: &[],
    transforms: &[],
};
