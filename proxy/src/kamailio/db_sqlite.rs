//! `db_sqlite`: declarations mirroring Kamailio 5.6's db_sqlite module: SQLite database driver, parameters only (transcribed from the 5.6.3 source).

use sipvm_lang::registry::{ModuleDecl, ParamDecl, ParamType};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "db_sqlite",
    functions: &[],
    params: &[
        ParamDecl { name: "db_set_readonly", ty: ParamType::Str },
        ParamDecl { name: "db_set_journal_mode", ty: ParamType::Str },
    ],
    pvs: &[],
    transforms: &[],
};
