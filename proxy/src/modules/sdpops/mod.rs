//! `sdpops`: Kamailio 5.6's SDP operations: tests on the streams and codecs of the body,
//! removal of codecs, streams and lines (as edits of the received body), `$sdp(...)`.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, PvDecl, PvForm, RouteMask};

pub mod sdp;

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "sdpops",
    functions: &[
        FnDecl { name: "sdp_remove_line_by_prefix", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_remove_codecs_by_id", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_remove_codecs_by_name", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_keep_codecs_by_id", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_keep_codecs_by_name", args: &[Fmt, Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_with_media", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_with_active_media", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_remove_media", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_with_transport", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_with_transport_like", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_remove_transport", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_transport", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_with_codecs_by_id", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_with_codecs_by_name", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_print", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_get", args: &[Pv], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sdp_content", args: &[Fmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "sdp_with_ice", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "sdp_get_line_startswith", args: &[Pv, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "sdp_get_address_family", args: &[], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[],
    pvs: &[
        PvDecl { name: "sdp", form: PvForm::Named, writable: true },
    ],
    transforms: &[],
};

pub mod natives;

use crate::host::{Impl, PvImpl};

#[rustfmt::skip]
static IMPLS: &[Impl] = &[
    Impl { name: "sdp_remove_line_by_prefix", f: natives::sdp_remove_line_by_prefix },
    Impl { name: "sdp_remove_codecs_by_id", f: natives::sdp_remove_codecs_by_id },
    Impl { name: "sdp_remove_codecs_by_name", f: natives::sdp_remove_codecs_by_name },
    Impl { name: "sdp_keep_codecs_by_id", f: natives::sdp_keep_codecs_by_id },
    Impl { name: "sdp_keep_codecs_by_name", f: natives::sdp_keep_codecs_by_name },
    Impl { name: "sdp_with_media", f: natives::sdp_with_media },
    Impl { name: "sdp_with_active_media", f: natives::sdp_with_active_media },
    Impl { name: "sdp_remove_media", f: natives::sdp_remove_media },
    Impl { name: "sdp_with_transport", f: natives::sdp_with_transport },
    Impl { name: "sdp_with_transport_like", f: natives::sdp_with_transport_like },
    Impl { name: "sdp_remove_transport", f: natives::sdp_remove_transport },
    Impl { name: "sdp_transport", f: natives::sdp_transport },
    Impl { name: "sdp_with_codecs_by_id", f: natives::sdp_with_codecs_by_id },
    Impl { name: "sdp_with_codecs_by_name", f: natives::sdp_with_codecs_by_name },
    Impl { name: "sdp_print", f: natives::sdp_print },
    Impl { name: "sdp_get", f: natives::sdp_get },
    Impl { name: "sdp_content", f: natives::sdp_content },
    Impl { name: "sdp_with_ice", f: natives::sdp_with_ice },
    Impl { name: "sdp_get_line_startswith", f: natives::sdp_get_line_startswith },
    Impl { name: "sdp_get_address_family", f: natives::sdp_get_address_family },
];

static PVS: &[PvImpl] = &[PvImpl {
    name: "sdp",
    get: natives::pv_sdp,
    set: None,
}];

/// The sdpops module.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    pvs: PVS,
    ..crate::host::Module::decl(&DECL)
};
