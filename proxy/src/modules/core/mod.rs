//! The core "module": actions of Kamailio 5.6's `cfg.y` that are written as function calls and
//! need no `loadmodule`, and the pseudo-variables that are always available.
//!
//! Grammar keywords (`route`, `exit`, `drop`, `return`, `break`, `if`, `switch`, `while`) and
//! expression operators (`strempty`, `strlen`, `defined`) are the parser's, not functions.
//! The pseudo-variables are Kamailio's core ones (`$null`, `$?`/`$rc`/`$retcode`, `$env`,
//! `$envn`, `$def`, `$defn`) plus every class of the `pv` module, which sipvm always provides
//! (`loadmodule "pv.so"` is still accepted: see `pv.rs` and docs/modules/pv.md).
//!
//! Kamailio does not restrict where core actions run, so they are all `RouteMask::ANY`. Core
//! actions take literal strings (no pseudo-variable expansion), hence `Str`/`HostPort`/`Uri`.
//! `log` is `log(msg)` or `log(level, msg)`: its kinds align to the right (see
//! `super::RIGHT_ALIGNED`).

use sipvm_lang::registry::ArgKind::{Flag, HostPort, Int, IntFmt, LogLevel, Pv, Str, Uri};
use sipvm_lang::registry::{FnDecl, ModuleDecl, PvDecl, PvForm, RouteMask};

/// Name of the core pseudo-module.
pub const NAME: &str = "core";

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: NAME,
    functions: &[
        FnDecl { name: "forward", args: &[HostPort, Int], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "forward_udp", args: &[HostPort, Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "forward_tcp", args: &[HostPort, Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "forward_tls", args: &[HostPort, Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "forward_sctp", args: &[HostPort, Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "log", args: &[LogLevel, Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "error", args: &[Str, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "exec", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setflag", args: &[Flag], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "resetflag", args: &[Flag], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "isflagset", args: &[Flag], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setavpflag", args: &[Pv, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "resetavpflag", args: &[Pv, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "isavpflagset", args: &[Pv, Str], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "rewritehost", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sethost", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "seth", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "rewritehostport", args: &[HostPort], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sethostport", args: &[HostPort], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sethp", args: &[HostPort], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "rewritehostporttrans", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sethostporttrans", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "sethpt", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "rewriteuser", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setuser", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setu", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "rewriteuserpass", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setuserpass", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setup", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "rewriteport", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setport", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "setp", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "rewriteuri", args: &[Uri], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "seturi", args: &[Uri], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "revert_uri", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "prefix", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "strip", args: &[Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "strip_tail", args: &[Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "userphone", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "remove_branch", args: &[Int], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "clear_branches", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "force_rport", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "add_rport", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "add_local_rport", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "force_tcp_alias", args: &[Int], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "add_tcp_alias", args: &[Int], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "udp_mtu_try_proto", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_advertised_address", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_advertised_port", args: &[Int], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "force_send_socket", args: &[Str], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "set_forward_no_connect", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "set_reply_no_connect", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "set_forward_close", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "set_reply_close", args: &[], min_args: 0, routes: RouteMask::ANY },
        FnDecl { name: "cfg_select", args: &[Str, IntFmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "cfg_reset", args: &[Str], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[],
    pvs: &[
        // Kamailio core (pvapi.c, pv_core.c).
        PvDecl { name: "null", form: PvForm::Plain, writable: false },
        PvDecl { name: "?", form: PvForm::Plain, writable: false },
        PvDecl { name: "rc", form: PvForm::Plain, writable: false },
        PvDecl { name: "retcode", form: PvForm::Plain, writable: false },
        PvDecl { name: "env", form: PvForm::Named, writable: false },
        PvDecl { name: "envn", form: PvForm::Named, writable: false },
        PvDecl { name: "def", form: PvForm::Named, writable: false },
        PvDecl { name: "defn", form: PvForm::Named, writable: false },
        // The pv module (pv.c `mod_pvs`).
        PvDecl { name: "_s", form: PvForm::Named, writable: false },
        PvDecl { name: "af", form: PvForm::Named, writable: false },
        PvDecl { name: "branch", form: PvForm::Named, writable: true },
        PvDecl { name: "sbranch", form: PvForm::Named, writable: true },
        PvDecl { name: "mi", form: PvForm::Plain, writable: false },
        PvDecl { name: "stat", form: PvForm::Named, writable: false },
        PvDecl { name: "sel", form: PvForm::Named, writable: false },
        PvDecl { name: "snd", form: PvForm::Named, writable: false },
        PvDecl { name: "sndto", form: PvForm::Named, writable: false },
        PvDecl { name: "sndfrom", form: PvForm::Named, writable: false },
        PvDecl { name: "rcv", form: PvForm::Named, writable: true },
        PvDecl { name: "xavp", form: PvForm::Named, writable: true },
        PvDecl { name: "xavu", form: PvForm::Named, writable: true },
        PvDecl { name: "xavi", form: PvForm::Named, writable: true },
        PvDecl { name: "avp", form: PvForm::Named, writable: true },
        PvDecl { name: "hdr", form: PvForm::Named, writable: false },
        PvDecl { name: "hdrc", form: PvForm::Named, writable: false },
        PvDecl { name: "hfl", form: PvForm::Named, writable: false },
        PvDecl { name: "hflc", form: PvForm::Named, writable: false },
        PvDecl { name: "var", form: PvForm::Named, writable: true },
        PvDecl { name: "vz", form: PvForm::Named, writable: true },
        PvDecl { name: "vn", form: PvForm::Named, writable: true },
        PvDecl { name: "ai", form: PvForm::Plain, writable: false },
        PvDecl { name: "adu", form: PvForm::Plain, writable: false },
        PvDecl { name: "ar", form: PvForm::Plain, writable: false },
        PvDecl { name: "au", form: PvForm::Plain, writable: false },
        PvDecl { name: "ad", form: PvForm::Plain, writable: false },
        PvDecl { name: "aU", form: PvForm::Plain, writable: false },
        PvDecl { name: "aa", form: PvForm::Plain, writable: false },
        PvDecl { name: "adn", form: PvForm::Plain, writable: false },
        PvDecl { name: "adc", form: PvForm::Plain, writable: false },
        PvDecl { name: "adr", form: PvForm::Plain, writable: false },
        PvDecl { name: "ado", form: PvForm::Plain, writable: false },
        PvDecl { name: "Au", form: PvForm::Plain, writable: false },
        PvDecl { name: "AU", form: PvForm::Plain, writable: false },
        PvDecl { name: "bf", form: PvForm::Plain, writable: true },
        PvDecl { name: "bF", form: PvForm::Plain, writable: true },
        PvDecl { name: "Bf", form: PvForm::Named, writable: true },
        PvDecl { name: "br", form: PvForm::Plain, writable: true },
        PvDecl { name: "bR", form: PvForm::Plain, writable: false },
        PvDecl { name: "bs", form: PvForm::Plain, writable: false },
        PvDecl { name: "ci", form: PvForm::Plain, writable: false },
        PvDecl { name: "cl", form: PvForm::Plain, writable: false },
        PvDecl { name: "cnt", form: PvForm::Named, writable: false },
        PvDecl { name: "conid", form: PvForm::Plain, writable: false },
        PvDecl { name: "cs", form: PvForm::Plain, writable: false },
        PvDecl { name: "csb", form: PvForm::Plain, writable: false },
        PvDecl { name: "ct", form: PvForm::Plain, writable: false },
        PvDecl { name: "cT", form: PvForm::Plain, writable: false },
        PvDecl { name: "dd", form: PvForm::Plain, writable: false },
        PvDecl { name: "di", form: PvForm::Plain, writable: false },
        PvDecl { name: "dir", form: PvForm::Plain, writable: false },
        PvDecl { name: "dip", form: PvForm::Plain, writable: false },
        PvDecl { name: "dic", form: PvForm::Plain, writable: false },
        PvDecl { name: "dp", form: PvForm::Plain, writable: false },
        PvDecl { name: "dP", form: PvForm::Plain, writable: false },
        PvDecl { name: "ds", form: PvForm::Plain, writable: false },
        PvDecl { name: "du", form: PvForm::Plain, writable: true },
        PvDecl { name: "duri", form: PvForm::Plain, writable: true },
        PvDecl { name: "err.class", form: PvForm::Plain, writable: false },
        PvDecl { name: "err.level", form: PvForm::Plain, writable: false },
        PvDecl { name: "err.info", form: PvForm::Plain, writable: false },
        PvDecl { name: "err.rcode", form: PvForm::Plain, writable: false },
        PvDecl { name: "err.rreason", form: PvForm::Plain, writable: false },
        PvDecl { name: "fd", form: PvForm::Plain, writable: true },
        PvDecl { name: "from.domain", form: PvForm::Plain, writable: true },
        PvDecl { name: "fn", form: PvForm::Plain, writable: true },
        PvDecl { name: "fs", form: PvForm::Plain, writable: true },
        PvDecl { name: "fsn", form: PvForm::Plain, writable: true },
        PvDecl { name: "fsp", form: PvForm::Plain, writable: false },
        PvDecl { name: "ft", form: PvForm::Plain, writable: false },
        PvDecl { name: "fu", form: PvForm::Plain, writable: true },
        PvDecl { name: "from", form: PvForm::Plain, writable: true },
        PvDecl { name: "fU", form: PvForm::Plain, writable: true },
        PvDecl { name: "from.user", form: PvForm::Plain, writable: true },
        PvDecl { name: "fUl", form: PvForm::Plain, writable: false },
        PvDecl { name: "mb", form: PvForm::Plain, writable: false },
        PvDecl { name: "mbu", form: PvForm::Plain, writable: false },
        PvDecl { name: "mf", form: PvForm::Plain, writable: true },
        PvDecl { name: "mF", form: PvForm::Plain, writable: true },
        PvDecl { name: "Mf", form: PvForm::Named, writable: true },
        PvDecl { name: "ml", form: PvForm::Plain, writable: false },
        PvDecl { name: "mt", form: PvForm::Plain, writable: false },
        PvDecl { name: "mts", form: PvForm::Plain, writable: false },
        PvDecl { name: "od", form: PvForm::Plain, writable: false },
        PvDecl { name: "op", form: PvForm::Plain, writable: false },
        PvDecl { name: "oP", form: PvForm::Plain, writable: false },
        PvDecl { name: "ou", form: PvForm::Plain, writable: false },
        PvDecl { name: "ouri", form: PvForm::Plain, writable: false },
        PvDecl { name: "oU", form: PvForm::Plain, writable: false },
        PvDecl { name: "oUl", form: PvForm::Plain, writable: false },
        PvDecl { name: "pd", form: PvForm::Plain, writable: false },
        PvDecl { name: "pn", form: PvForm::Plain, writable: false },
        PvDecl { name: "pp", form: PvForm::Plain, writable: false },
        PvDecl { name: "pr", form: PvForm::Plain, writable: false },
        PvDecl { name: "prid", form: PvForm::Plain, writable: false },
        PvDecl { name: "proto", form: PvForm::Plain, writable: false },
        PvDecl { name: "pu", form: PvForm::Plain, writable: false },
        PvDecl { name: "pU", form: PvForm::Plain, writable: false },
        PvDecl { name: "rb", form: PvForm::Plain, writable: false },
        PvDecl { name: "rd", form: PvForm::Plain, writable: true },
        PvDecl { name: "ruri.domain", form: PvForm::Plain, writable: true },
        PvDecl { name: "re", form: PvForm::Plain, writable: false },
        PvDecl { name: "rm", form: PvForm::Plain, writable: false },
        PvDecl { name: "rmid", form: PvForm::Plain, writable: false },
        PvDecl { name: "rp", form: PvForm::Plain, writable: true },
        PvDecl { name: "rP", form: PvForm::Plain, writable: false },
        PvDecl { name: "rr", form: PvForm::Plain, writable: false },
        PvDecl { name: "rs", form: PvForm::Plain, writable: false },
        PvDecl { name: "rsi", form: PvForm::Plain, writable: false },
        PvDecl { name: "rt", form: PvForm::Plain, writable: false },
        PvDecl { name: "ru", form: PvForm::Plain, writable: true },
        PvDecl { name: "ruri", form: PvForm::Plain, writable: true },
        PvDecl { name: "rU", form: PvForm::Plain, writable: true },
        PvDecl { name: "ruri.user", form: PvForm::Plain, writable: true },
        PvDecl { name: "rUl", form: PvForm::Plain, writable: false },
        PvDecl { name: "rv", form: PvForm::Plain, writable: false },
        PvDecl { name: "rz", form: PvForm::Plain, writable: false },
        PvDecl { name: "Ras", form: PvForm::Plain, writable: false },
        PvDecl { name: "Ri", form: PvForm::Plain, writable: false },
        PvDecl { name: "Rp", form: PvForm::Plain, writable: false },
        PvDecl { name: "Ru", form: PvForm::Plain, writable: false },
        PvDecl { name: "Rut", form: PvForm::Plain, writable: false },
        PvDecl { name: "Rn", form: PvForm::Plain, writable: false },
        PvDecl { name: "RAi", form: PvForm::Plain, writable: false },
        PvDecl { name: "RAp", form: PvForm::Plain, writable: false },
        PvDecl { name: "RAu", form: PvForm::Plain, writable: false },
        PvDecl { name: "RAut", form: PvForm::Plain, writable: false },
        PvDecl { name: "sas", form: PvForm::Plain, writable: false },
        PvDecl { name: "sf", form: PvForm::Plain, writable: true },
        PvDecl { name: "sF", form: PvForm::Plain, writable: true },
        PvDecl { name: "Sf", form: PvForm::Named, writable: true },
        PvDecl { name: "src_ip", form: PvForm::Plain, writable: false },
        PvDecl { name: "si", form: PvForm::Plain, writable: false },
        PvDecl { name: "siz", form: PvForm::Plain, writable: false },
        PvDecl { name: "sid", form: PvForm::Plain, writable: false },
        PvDecl { name: "sp", form: PvForm::Plain, writable: false },
        PvDecl { name: "su", form: PvForm::Plain, writable: false },
        PvDecl { name: "sut", form: PvForm::Plain, writable: false },
        PvDecl { name: "td", form: PvForm::Plain, writable: true },
        PvDecl { name: "to.domain", form: PvForm::Plain, writable: true },
        PvDecl { name: "tn", form: PvForm::Plain, writable: true },
        PvDecl { name: "tt", form: PvForm::Plain, writable: false },
        PvDecl { name: "tu", form: PvForm::Plain, writable: true },
        PvDecl { name: "to", form: PvForm::Plain, writable: true },
        PvDecl { name: "tU", form: PvForm::Plain, writable: true },
        PvDecl { name: "to.user", form: PvForm::Plain, writable: true },
        PvDecl { name: "tUl", form: PvForm::Plain, writable: true },
        PvDecl { name: "true", form: PvForm::Plain, writable: false },
        PvDecl { name: "Tb", form: PvForm::Plain, writable: false },
        PvDecl { name: "Tf", form: PvForm::Plain, writable: false },
        PvDecl { name: "TF", form: PvForm::Plain, writable: false },
        PvDecl { name: "Ts", form: PvForm::Plain, writable: false },
        PvDecl { name: "TS", form: PvForm::Plain, writable: false },
        PvDecl { name: "ua", form: PvForm::Plain, writable: false },
        PvDecl { name: "ruid", form: PvForm::Plain, writable: false },
        PvDecl { name: "location_ua", form: PvForm::Plain, writable: false },
        PvDecl { name: "shv", form: PvForm::Named, writable: true },
        PvDecl { name: "time", form: PvForm::Named, writable: false },
        PvDecl { name: "timef", form: PvForm::Named, writable: false },
        PvDecl { name: "utime", form: PvForm::Named, writable: false },
        PvDecl { name: "utimef", form: PvForm::Named, writable: false },
        PvDecl { name: "TV", form: PvForm::Named, writable: false },
        PvDecl { name: "nh", form: PvForm::Named, writable: false },
        PvDecl { name: "version", form: PvForm::Named, writable: false },
        PvDecl { name: "K", form: PvForm::Named, writable: false },
        PvDecl { name: "expires", form: PvForm::Named, writable: false },
        PvDecl { name: "msg", form: PvForm::Named, writable: false },
        PvDecl { name: "ksr", form: PvForm::Named, writable: false },
        PvDecl { name: "rpl", form: PvForm::Named, writable: false },
        PvDecl { name: "ccp", form: PvForm::Named, writable: true },
        PvDecl { name: "via0", form: PvForm::Named, writable: false },
        PvDecl { name: "via1", form: PvForm::Named, writable: false },
        PvDecl { name: "viaZ", form: PvForm::Named, writable: false },
        PvDecl { name: "msgbuf", form: PvForm::Named, writable: true },
    ],
    // pv's, always available like its pseudo-variables (docs/architecture.md).
    transforms: super::pv::trans::TRANSFORMS,
};

// ---- implementations ----

use crate::forward as send;
use crate::host::natives::{arg_int, arg_str};
use crate::host::uri_edit::{rewrite_ruri, split_hostport, UriChange};
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError};

/// The core natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "forward",
        f: forward,
    },
    Impl {
        name: "rewritehostport",
        f: rewritehostport,
    },
    Impl {
        name: "sethostport",
        f: rewritehostport,
    },
    Impl {
        name: "sethp",
        f: rewritehostport,
    },
    Impl {
        name: "rewritehost",
        f: rewritehost,
    },
    Impl {
        name: "sethost",
        f: rewritehost,
    },
    Impl {
        name: "seth",
        f: rewritehost,
    },
    Impl {
        name: "rewriteuser",
        f: rewriteuser,
    },
    Impl {
        name: "setuser",
        f: rewriteuser,
    },
    Impl {
        name: "setu",
        f: rewriteuser,
    },
    Impl {
        name: "rewriteport",
        f: rewriteport,
    },
    Impl {
        name: "setport",
        f: rewriteport,
    },
    Impl {
        name: "setp",
        f: rewriteport,
    },
    Impl {
        name: "rewriteuri",
        f: rewriteuri,
    },
    Impl {
        name: "seturi",
        f: rewriteuri,
    },
    Impl {
        name: "revert_uri",
        f: revert_uri,
    },
    Impl {
        name: "strip",
        f: strip,
    },
    Impl {
        name: "prefix",
        f: prefix,
    },
    Impl {
        name: "setflag",
        f: setflag,
    },
    Impl {
        name: "resetflag",
        f: resetflag,
    },
    Impl {
        name: "isflagset",
        f: isflagset,
    },
    Impl {
        name: "force_rport",
        f: force_rport,
    },
    Impl {
        name: "add_rport",
        f: force_rport,
    },
    Impl {
        name: "set_reply_no_connect",
        f: sendflags::set_reply_no_connect,
    },
    Impl {
        name: "set_forward_no_connect",
        f: sendflags::set_forward_no_connect,
    },
    Impl {
        name: "set_reply_close",
        f: sendflags::set_reply_close,
    },
    Impl {
        name: "set_forward_close",
        f: sendflags::set_forward_close,
    },
];

/// `forward()`, `forward(host)`, `forward(host, port)`: stateless relay to the next hop.
fn forward(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    // forward(): the next hop's transport; forward(host, port): the receiving one.
    let proto = if args.is_empty() {
        send::next_hop_proto(ctx)
    } else {
        ctx.local.proto
    };
    let dst = if args.is_empty() {
        send::next_hop(ctx)
    } else {
        let hp = arg_str(args, 0);
        let (h, p) = split_hostport(&hp);
        let port = match args.len() {
            2 => Some(arg_int(args, 1)? as u16),
            _ => p.and_then(|p| p.parse().ok()),
        };
        send::resolve(h, port, 5060)
    };
    let Some(dst) = dst else {
        tracing::warn!("forward: no usable next hop for {}", ctx.ruri_str());
        return Ok(-1);
    };
    Ok(if send::forward_over(ctx, dst, proto)? {
        1
    } else {
        -1
    })
}

fn set_ruri(ctx: &mut Ctx<'_>, c: UriChange<'_>) -> Result<i64, HostError> {
    rewrite_ruri(ctx, &c);
    Ok(1)
}

/// An argument where empty means none (`rewriteuser("")` removes the user).
fn non_empty(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

fn rewritehostport(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let hp = arg_str(args, 0).into_owned();
    let (h, p) = split_hostport(&hp);
    set_ruri(
        ctx,
        UriChange {
            host: Some(h),
            port: Some(p),
            ..Default::default()
        },
    )
}

fn rewritehost(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let h = arg_str(args, 0).into_owned();
    set_ruri(ctx, UriChange::host(&h))
}

fn rewriteuser(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let u = arg_str(args, 0).into_owned();
    set_ruri(ctx, UriChange::user(non_empty(&u)))
}

fn rewriteport(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let p = arg_str(args, 0).into_owned();
    set_ruri(ctx, UriChange::port(non_empty(&p)))
}

fn rewriteuri(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.ruri = Some(arg_str(args, 0).into_owned());
    Ok(1)
}

fn revert_uri(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.ruri = None;
    Ok(1)
}

fn user_of(ctx: &Ctx<'_>) -> String {
    crate::sip::Uri::parse(ctx.ruri_str())
        .ok()
        .and_then(|u| u.user())
        .unwrap_or("")
        .to_string()
}

/// `strip(n)`: drops the first n characters of the Request-URI's user.
fn strip(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let n = arg_int(args, 0)?.max(0) as usize;
    let user = user_of(ctx);
    let rest: String = user.chars().skip(n).collect();
    set_ruri(ctx, UriChange::user(non_empty(&rest)))
}

/// `prefix(s)`: puts s in front of the Request-URI's user.
fn prefix(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let user = format!("{}{}", arg_str(args, 0), user_of(ctx));
    set_ruri(ctx, UriChange::user(Some(&user)))
}

fn flag_bit(args: &[ArgValue<'_>]) -> Result<u64, HostError> {
    let n = arg_int(args, 0)?;
    if !(0..64).contains(&n) {
        return Err(HostError(format!("flag {n} out of range 0-63")));
    }
    Ok(1u64 << n)
}

fn setflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.flags |= flag_bit(args)?;
    Ok(1)
}

fn resetflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.flags &= !flag_bit(args)?;
    Ok(1)
}

fn isflagset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(if ctx.flags & flag_bit(args)? != 0 {
        1
    } else {
        -1
    })
}

fn force_rport(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.force_rport = true;
    Ok(1)
}

pub mod globals;
pub mod pvs;
mod rpc;
mod sendflags;
pub mod shv;

/// The core: what needs no `loadmodule`, with the pv module's classes and `$shv`.
pub static MODULE: crate::host::Module = crate::host::Module {
    natives: IMPLS,
    pvs: pvs::PVS,
    state: Some(shv::state),
    rpc: Some(rpc::register),
    ..crate::host::Module::decl(&DECL)
};
