//! `siputils`: declarations mirroring Kamailio 5.6's siputils module: SIP utilities.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "siputils",
    functions: &[
        FnDecl { name: "options_reply", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "is_user", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::LOCAL) },
        FnDecl { name: "has_totag", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "uri_param", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "uri_param_any", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "add_uri_param", args: &[Str], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "get_uri_param", args: &[Str, Pv], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::LOCAL) },
        FnDecl { name: "uri_param_rm", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "tel2sip", args: &[Fmt, Fmt, Pv], min_args: 3, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY).or(RouteMask::BRANCH) },
        FnDecl { name: "is_uri", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_e164", args: &[Pv], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::LOCAL) },
        FnDecl { name: "is_uri_user_e164", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "encode_contact", args: &[Str, Str], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "decode_contact", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "decode_contact_header", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "cmp_uri", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "cmp_aor", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "cmp_hdr_name", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "is_rpid_user_e164", args: &[], min_args: 0, routes: RouteMask::REQUEST },
        FnDecl { name: "append_rpid_hf", args: &[Str, Str], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::BRANCH) },
        FnDecl { name: "set_uri_user", args: &[Pv, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "set_uri_host", args: &[Pv, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "is_request", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "is_reply", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "is_gruu", args: &[Fmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "is_supported", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_first_hop", args: &[IntFmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "is_tel_number", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_numeric", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_alphanum", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_alphanumex", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sip_p_charging_vector", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "contact_param_encode", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "contact_param_decode", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "contact_param_decode_ruri", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "contact_param_rm", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::ONREPLY) },
        FnDecl { name: "hdr_date_check", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "options_accept", ty: ParamType::Str },
        ParamDecl { name: "options_accept_encoding", ty: ParamType::Str },
        ParamDecl { name: "options_accept_language", ty: ParamType::Str },
        ParamDecl { name: "options_support", ty: ParamType::Str },
        ParamDecl { name: "contact_flds_separator", ty: ParamType::Str },
        ParamDecl { name: "rpid_prefix", ty: ParamType::Str },
        ParamDecl { name: "rpid_suffix", ty: ParamType::Str },
        ParamDecl { name: "rpid_avp", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "pcv", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- implementations ----

use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl};
use crate::sip::Uri;
use sipvm_vm::{ArgValue, HostError};

/// siputils' natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "has_totag",
        f: has_totag,
    },
    Impl {
        name: "is_request",
        f: is_request,
    },
    Impl {
        name: "is_reply",
        f: is_reply,
    },
    Impl {
        name: "uri_param",
        f: uri_param,
    },
];

fn has_totag(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(
        if ctx
            .msg
            .to()
            .ok()
            .and_then(|t| t.tag())
            .is_some_and(|t| !t.is_empty())
        {
            1
        } else {
            -1
        },
    )
}

fn is_request(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(if ctx.msg.is_request() { 1 } else { -1 })
}

fn is_reply(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(if ctx.msg.is_request() { -1 } else { 1 })
}

/// `uri_param(name[, value])` on the current Request-URI: the first parameter called `name`
/// (compared case-sensitively, as Kamailio's `strncmp`) decides: with `value`, it must have
/// exactly that value; without, it must have none. -1 otherwise, and when the R-URI does not
/// parse.
fn uri_param(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let want = (args.len() > 1).then(|| arg_str(args, 1));
    let ruri = ctx.ruri_str().to_string();
    let Ok(u) = Uri::parse(&ruri) else {
        return Ok(-1);
    };
    let Some((_, value)) = u.params().iter().find(|(n, _)| *n == name.as_ref()) else {
        return Ok(-1);
    };
    let value = value.unwrap_or("");
    let ok = match &want {
        Some(w) => value == w.as_ref(),
        None => value.is_empty(),
    };
    Ok(if ok { 1 } else { -1 })
}

/// The siputils module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    ..crate::host::Module::decl(&DECL)
};
