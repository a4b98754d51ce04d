//! `textops`: declarations mirroring Kamailio 5.6's textops module: message text operations.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Methods, Pv, Regex, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "textops",
    functions: &[
        FnDecl { name: "search", args: &[Regex], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "search_body", args: &[Regex], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "search_hf", args: &[Str, Regex, Str], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "search_append", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "search_append_body", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_str", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "replace_body", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_body_str", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "replace_hdrs", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_hdrs_str", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "replace_all", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_body_all", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "replace_body_atonce", args: &[Regex, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "append_to_reply", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "append_hf", args: &[Fmt, Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "insert_hf", args: &[Fmt, Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "append_urihf", args: &[Str, Str], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "remove_hf", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_idx", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_re", args: &[Regex], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_exp", args: &[Regex, Regex], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "is_present_hf", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_present_hf_re", args: &[Regex], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_pv", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_re_pv", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_exp_pv", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "remove_hf_match", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "is_present_hf_pv", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_present_hf_re_pv", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "subst", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "subst_uri", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "subst_user", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "subst_body", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "subst_hf", args: &[Str, Str, Str], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "filter_body", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "append_time", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "set_body", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "set_reply_body", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "is_method", args: &[Methods], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "has_body", args: &[Str], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "is_privacy", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "in_list", args: &[Fmt, Fmt, Str], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "in_list_prefix", args: &[Fmt, Fmt, Str], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "cmp_str", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "cmp_istr", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "search_str", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "starts_with", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "ends_with", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "str_find", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "str_ifind", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "is_audio_on_hold", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "append_time_to_request", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "set_body_multipart", args: &[Fmt, Fmt, Fmt], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "append_body_part", args: &[Fmt, Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "append_body_part_hex", args: &[Fmt, Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "remove_body_part", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "get_body_part_raw", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "get_body_part", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "regex_substring", args: &[Fmt, Fmt, IntFmt, IntFmt, Pv], min_args: 5, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
    ],
    params: &[],
    pvs: &[],
};

// ---- implementations ----

use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError};

/// textops' natives sipvm implements.
pub static IMPLS: &[Impl] = &[Impl {
    name: "is_method",
    f: is_method,
}];

/// `is_method("INVITE|BYE")`: methods compared ignoring case; for a reply, its CSeq method.
fn is_method(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let list = arg_str(args, 0);
    let m = if ctx.msg.is_request() {
        ctx.msg.method_str()
    } else {
        ctx.msg.cseq().map(|c| c.method).unwrap_or("")
    };
    Ok(
        if list.split('|').any(|x| x.trim().eq_ignore_ascii_case(m)) {
            1
        } else {
            -1
        },
    )
}
