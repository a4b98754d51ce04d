//! `textopsx`: declarations mirroring Kamailio 5.6's textopsx module: extra message text operations.

use sipvm_lang::registry::ArgKind::{Code, Fmt, Regex, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "textopsx",
    functions: &[
        FnDecl { name: "msg_apply_changes", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "msg_set_buffer", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "change_reply_status", args: &[Code, Fmt], min_args: 2, routes: RouteMask::ONREPLY },
        FnDecl { name: "change_reply_status_code", args: &[Code], min_args: 1, routes: RouteMask::ONREPLY },
        FnDecl { name: "remove_body", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "keep_hf", args: &[Regex], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "fnmatch", args: &[Fmt, Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "append_hf_value", args: &[Str, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "insert_hf_value", args: &[Str, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "remove_hf_value", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "assign_hf_value", args: &[Str, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "remove_hf_value2", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "assign_hf_value2", args: &[Str, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "include_hf_value", args: &[Str, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "exclude_hf_value", args: &[Str, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "hf_value_exists", args: &[Str, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "hf_iterator_start", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "hf_iterator_next", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "hf_iterator_prev", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "hf_iterator_end", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "hf_iterator_rm", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "hf_iterator_append", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "hf_iterator_insert", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "bl_iterator_start", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "bl_iterator_next", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "bl_iterator_end", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "bl_iterator_rm", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "bl_iterator_append", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "bl_iterator_insert", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
    ],
    params: &[],
    pvs: &[
        PvDecl { name: "hfitname", form: PvForm::Named, writable: false },
        PvDecl { name: "hfitbody", form: PvForm::Named, writable: false },
        PvDecl { name: "blitval", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

/// The textopsx module.
pub static MODULE: crate::host::Module = crate::host::Module {
    ..crate::host::Module::decl(&DECL)
};
