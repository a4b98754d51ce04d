//! `textopsx`: Kamailio 5.6's textopsx module: reply status, body and header value edits,
//! header and body-line iterators. `msg_apply_changes` and `msg_set_buffer` stay declared
//! only (see docs/modules/textopsx.md).

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

mod iter;
mod natives;
mod values;

use crate::host::{Impl, PvImpl};

fn truth(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

#[rustfmt::skip]
static IMPLS: &[Impl] = &[
    Impl { name: "change_reply_status", f: natives::change_reply_status },
    Impl { name: "change_reply_status_code", f: natives::change_reply_status_code },
    Impl { name: "remove_body", f: natives::remove_body },
    Impl { name: "keep_hf", f: natives::keep_hf },
    Impl { name: "fnmatch", f: natives::fnmatch },
    Impl { name: "hf_value_exists", f: values::hf_value_exists },
    Impl { name: "append_hf_value", f: values::append_hf_value },
    Impl { name: "insert_hf_value", f: values::insert_hf_value },
    Impl { name: "remove_hf_value", f: values::remove_hf_value },
    Impl { name: "assign_hf_value", f: values::assign_hf_value },
    Impl { name: "remove_hf_value2", f: values::remove_hf_value2 },
    Impl { name: "assign_hf_value2", f: values::assign_hf_value2 },
    Impl { name: "include_hf_value", f: values::include_hf_value },
    Impl { name: "exclude_hf_value", f: values::exclude_hf_value },
    Impl { name: "hf_iterator_start", f: iter::hf_iterator_start },
    Impl { name: "hf_iterator_next", f: iter::hf_iterator_next },
    Impl { name: "hf_iterator_prev", f: iter::hf_iterator_prev },
    Impl { name: "hf_iterator_end", f: iter::hf_iterator_end },
    Impl { name: "hf_iterator_rm", f: iter::hf_iterator_rm },
    Impl { name: "hf_iterator_append", f: iter::hf_iterator_append },
    Impl { name: "hf_iterator_insert", f: iter::hf_iterator_insert },
    Impl { name: "bl_iterator_start", f: iter::bl_iterator_start },
    Impl { name: "bl_iterator_next", f: iter::bl_iterator_next },
    Impl { name: "bl_iterator_end", f: iter::bl_iterator_end },
    Impl { name: "bl_iterator_rm", f: iter::bl_iterator_rm },
    Impl { name: "bl_iterator_append", f: iter::bl_iterator_append },
    Impl { name: "bl_iterator_insert", f: iter::bl_iterator_insert },
];

#[rustfmt::skip]
static PVS: &[PvImpl] = &[
    PvImpl { name: "hfitname", get: iter::pv_hfitname, set: None },
    PvImpl { name: "hfitbody", get: iter::pv_hfitbody, set: None },
    PvImpl { name: "blitval", get: iter::pv_blitval, set: None },
];

/// The textopsx module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    pvs: PVS,
    ..crate::host::Module::decl(&DECL)
};
