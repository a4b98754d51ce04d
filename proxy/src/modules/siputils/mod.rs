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

mod checks;
mod contact;
mod encode;
mod pcv;
mod rpid;
mod uri;

use crate::host::Impl;

/// siputils' natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "has_totag",
        f: checks::has_totag,
    },
    Impl {
        name: "is_request",
        f: checks::is_request,
    },
    Impl {
        name: "is_reply",
        f: checks::is_reply,
    },
    Impl {
        name: "is_tel_number",
        f: checks::is_tel_number,
    },
    Impl {
        name: "is_numeric",
        f: checks::is_numeric,
    },
    Impl {
        name: "is_alphanum",
        f: checks::is_alphanum,
    },
    Impl {
        name: "is_alphanumex",
        f: checks::is_alphanumex,
    },
    Impl {
        name: "is_uri",
        f: checks::is_uri,
    },
    Impl {
        name: "is_e164",
        f: checks::is_e164,
    },
    Impl {
        name: "is_uri_user_e164",
        f: checks::is_uri_user_e164,
    },
    Impl {
        name: "cmp_uri",
        f: checks::cmp_uri,
    },
    Impl {
        name: "cmp_aor",
        f: checks::cmp_aor,
    },
    Impl {
        name: "cmp_hdr_name",
        f: checks::cmp_hdr_name,
    },
    Impl {
        name: "is_gruu",
        f: checks::is_gruu,
    },
    Impl {
        name: "is_supported",
        f: checks::is_supported,
    },
    Impl {
        name: "is_first_hop",
        f: checks::is_first_hop,
    },
    Impl {
        name: "hdr_date_check",
        f: checks::hdr_date_check,
    },
    Impl {
        name: "options_reply",
        f: checks::options_reply,
    },
    Impl {
        name: "uri_param",
        f: uri::uri_param,
    },
    Impl {
        name: "uri_param_any",
        f: uri::uri_param_any,
    },
    Impl {
        name: "uri_param_rm",
        f: uri::uri_param_rm,
    },
    Impl {
        name: "add_uri_param",
        f: uri::add_uri_param,
    },
    Impl {
        name: "get_uri_param",
        f: uri::get_uri_param,
    },
    Impl {
        name: "tel2sip",
        f: uri::tel2sip,
    },
    Impl {
        name: "set_uri_user",
        f: uri::set_uri_user,
    },
    Impl {
        name: "set_uri_host",
        f: uri::set_uri_host,
    },
    Impl {
        name: "contact_param_encode",
        f: contact::contact_param_encode,
    },
    Impl {
        name: "contact_param_decode",
        f: contact::contact_param_decode,
    },
    Impl {
        name: "contact_param_decode_ruri",
        f: contact::contact_param_decode_ruri,
    },
    Impl {
        name: "contact_param_rm",
        f: contact::contact_param_rm,
    },
    Impl {
        name: "encode_contact",
        f: encode::encode_contact,
    },
    Impl {
        name: "decode_contact",
        f: encode::decode_contact,
    },
    Impl {
        name: "decode_contact_header",
        f: encode::decode_contact_header,
    },
    Impl {
        name: "append_rpid_hf",
        f: rpid::append_rpid_hf,
    },
    Impl {
        name: "is_rpid_user_e164",
        f: rpid::is_rpid_user_e164,
    },
    Impl {
        name: "is_user",
        f: checks::is_user,
    },
    Impl {
        name: "sip_p_charging_vector",
        f: pcv::sip_p_charging_vector,
    },
];

static PVS: &[crate::host::PvImpl] = &[crate::host::PvImpl {
    name: "pcv",
    get: pcv::pv_pcv,
    set: None,
}];

pub use checks::AuthorizedCred;

/// The `options_reply` headers (Kamailio's defaults when unset).
pub struct Options {
    pub accept: String,
    pub accept_encoding: String,
    pub accept_language: String,
    pub support: String,
    /// `rpid_prefix`, `rpid_suffix` and the name of the `rpid_avp` AVP (`None`: disabled).
    pub rpid_prefix: String,
    pub rpid_suffix: String,
    pub rpid_avp: Option<String>,
    /// The first character of `contact_flds_separator` (`*`).
    pub contact_sep: char,
}

fn state(
    snap: &sipvm_cfg::Snapshot,
) -> Result<std::sync::Arc<dyn std::any::Any + Send + Sync>, String> {
    let p = |name: &str, def: &str| {
        snap.modparam("siputils", name)
            .map(|v| v.to_str().into_owned())
            .unwrap_or_else(|| def.to_string())
    };
    Ok(std::sync::Arc::new(Options {
        accept: p("options_accept", "*/*"),
        accept_encoding: p("options_accept_encoding", ""),
        accept_language: p("options_accept_language", "en"),
        support: p("options_support", ""),
        rpid_prefix: p("rpid_prefix", ""),
        rpid_suffix: p(
            "rpid_suffix",
            ";party=calling;id-type=subscriber;screen=yes",
        ),
        rpid_avp: rpid::avp_name(&p("rpid_avp", "$avp(s:rpid)"))?,
        contact_sep: p("contact_flds_separator", "*")
            .chars()
            .next()
            .unwrap_or('*'),
    }))
}

/// The siputils module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    pvs: PVS,
    params: &[
        "options_accept",
        "options_accept_encoding",
        "options_accept_language",
        "options_support",
        "rpid_prefix",
        "rpid_suffix",
        "rpid_avp",
        "contact_flds_separator",
    ],
    state: Some(state),
    ..crate::host::Module::decl(&DECL)
};
