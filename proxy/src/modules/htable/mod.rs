//! `htable`: declarations mirroring Kamailio 5.6's htable module: shared hash tables.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "htable",
    functions: &[
        FnDecl { name: "sht_print", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "sht_rm", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sht_rm_name_re", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sht_rm_value_re", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sht_rm_name", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "sht_rm_value", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "sht_match_name", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "sht_has_name", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "sht_match_str_value", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "sht_has_str_value", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "sht_lock", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sht_unlock", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sht_reset", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sht_iterator_start", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sht_iterator_next", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sht_iterator_end", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sht_iterator_rm", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sht_iterator_sets", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sht_iterator_seti", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sht_iterator_setex", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sht_setxs", args: &[Fmt, Fmt, Fmt, IntFmt], min_args: 4, routes: RouteMask::ANY },
        FnDecl { name: "sht_setxi", args: &[Fmt, Fmt, IntFmt, IntFmt], min_args: 4, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "htable", ty: ParamType::Str },
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "key_name_column", ty: ParamType::Str },
        ParamDecl { name: "key_type_column", ty: ParamType::Str },
        ParamDecl { name: "value_type_column", ty: ParamType::Str },
        ParamDecl { name: "key_value_column", ty: ParamType::Str },
        ParamDecl { name: "expires_column", ty: ParamType::Str },
        ParamDecl { name: "array_size_suffix", ty: ParamType::Str },
        ParamDecl { name: "fetch_rows", ty: ParamType::Int },
        ParamDecl { name: "timer_interval", ty: ParamType::Int },
        ParamDecl { name: "db_expires", ty: ParamType::Int },
        ParamDecl { name: "enable_dmq", ty: ParamType::Int },
        ParamDecl { name: "dmq_init_sync", ty: ParamType::Int },
        ParamDecl { name: "timer_procs", ty: ParamType::Int },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
        ParamDecl { name: "event_callback_mode", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "sht", form: PvForm::Named, writable: true },
        PvDecl { name: "shtex", form: PvForm::Named, writable: true },
        PvDecl { name: "shtcn", form: PvForm::Named, writable: false },
        PvDecl { name: "shtcv", form: PvForm::Named, writable: false },
        PvDecl { name: "shtinc", form: PvForm::Named, writable: false },
        PvDecl { name: "shtdec", form: PvForm::Named, writable: false },
        PvDecl { name: "shtrecord", form: PvForm::Named, writable: false },
        PvDecl { name: "shtitkey", form: PvForm::Named, writable: false },
        PvDecl { name: "shtitval", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- implementations: pseudo-variables and natives over `Shared::htable` ----

pub mod def;
mod iter;
mod natives;
mod rpc;
mod store;
pub mod table;
mod tables;

pub use def::{DefError, TableDef};
pub use iter::MsgState;
pub use store::{load_file, save_file, StoreError};
pub use table::{By, Cell, CountOp, MatchOp, Table};
pub use tables::*;

use crate::host::{Hooks, Module};

fn state(
    snap: &sipvm_cfg::Snapshot,
) -> Result<std::sync::Arc<dyn std::any::Any + Send + Sync>, String> {
    check(&snap.modparams).map_err(|e| e.to_string())?;
    Ok(Htables::from_snapshot(snap)?)
}

fn check_params(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    check(m).map_err(|e| e.to_string())
}

impl crate::host::MsgState for MsgState {
    /// Slot locks a script left held are released with the message.
    fn finish(&mut self, _: &crate::host::Shared) {
        self.release();
    }
}

/// The htable module: shared hash tables, their pseudo-variables and `htable.*` RPCs.
pub static MODULE: Module = Module {
    params: &["htable", "db_url", "timer_interval"],
    restart: &["db_url", "timer_interval"],
    natives: natives::IMPLS,
    pvs: natives::PVS,
    check: Some(check_params),
    state: Some(state),
    rpc: Some(rpc::register),
    hooks: Hooks::NONE,
    ..Module::decl(&DECL)
};
