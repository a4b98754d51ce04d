//! `xhttp`: declarations mirroring Kamailio 5.6's xhttp module: HTTP requests in event_route[xhttp:request].

use sipvm_lang::registry::ArgKind::{Code, Fmt};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static MODULE: ModuleDecl = ModuleDecl {
    name: "xhttp",
    functions: &[
        FnDecl { name: "xhttp_reply", args: &[Code, Fmt, Fmt, Fmt], min_args: 4, routes: RouteMask::REQUEST },
    ],
    params: &[
        ParamDecl { name: "url_match", ty: ParamType::Str },
        ParamDecl { name: "url_skip", ty: ParamType::Str },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
    ],
    pvs: &[
        PvDecl { name: "hu", form: PvForm::Plain, writable: false },
    ],
    transforms: &[],
};
