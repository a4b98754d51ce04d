//! `rtpproxy`: declarations mirroring Kamailio 5.6's rtpproxy module: RTPProxy control.

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "rtpproxy",
    functions: &[
        FnDecl { name: "set_rtp_proxy_set", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "unforce_rtp_proxy", args: &[Fmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "rtpproxy_destroy", args: &[Fmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "start_recording", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "rtpproxy_offer", args: &[Fmt, Fmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "rtpproxy_answer", args: &[Fmt, Fmt], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "rtpproxy_stream2uac", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "rtpproxy_stream2uas", args: &[Fmt, IntFmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "rtpproxy_stop_stream2uac", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "rtpproxy_stop_stream2uas", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "rtpproxy_manage", args: &[Fmt, Fmt], min_args: 0, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "nortpproxy_str", ty: ParamType::Str },
        ParamDecl { name: "rtpproxy_sock", ty: ParamType::Str },
        ParamDecl { name: "rtpproxy_disable_tout", ty: ParamType::Int },
        ParamDecl { name: "rtpproxy_retr", ty: ParamType::Int },
        ParamDecl { name: "rtpproxy_tout", ty: ParamType::Int },
        ParamDecl { name: "timeout_socket", ty: ParamType::Str },
        ParamDecl { name: "ice_candidate_priority_avp", ty: ParamType::Str },
        ParamDecl { name: "extra_id_pv", ty: ParamType::Str },
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "table_name", ty: ParamType::Str },
        ParamDecl { name: "rtp_inst_pvar", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "rtpstat", form: PvForm::Plain, writable: false },
        PvDecl { name: "rtppstat", form: PvForm::Plain, writable: false },
    ],
    transforms: &[],
};
