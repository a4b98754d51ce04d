//! `kemix`: declarations mirroring Kamailio 5.6's kemix module: KEMI extensions (no script exports).

use sipvm_lang::registry::ModuleDecl;

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "kemix",
    functions: &[],
    params: &[],
    pvs: &[],
    transforms: &[],
};
