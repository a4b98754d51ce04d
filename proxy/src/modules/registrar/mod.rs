//! `registrar`: declarations mirroring Kamailio 5.6's registrar module: REGISTER handling and location lookup.

use sipvm_lang::registry::ArgKind::{Fmt, Int, IntFmt, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "registrar",
    functions: &[
        FnDecl { name: "save", args: &[Str, Int, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE).or(RouteMask::ONREPLY) },
        FnDecl { name: "lookup", args: &[Str, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "lookup_to_dset", args: &[Str, Fmt], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "registered", args: &[Str, Fmt, IntFmt, IntFmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "add_sock_hdr", args: &[Fmt], min_args: 1, routes: RouteMask::REQUEST },
        FnDecl { name: "unregister", args: &[Str, Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "reg_fetch_contacts", args: &[Str, Fmt, Str], min_args: 3, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "reg_free_contacts", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "lookup_branches", args: &[Str], min_args: 1, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
        FnDecl { name: "reg_send_reply", args: &[], min_args: 0, routes: RouteMask::REQUEST.or(RouteMask::FAILURE) },
    ],
    params: &[
        ParamDecl { name: "default_expires", ty: ParamType::Int },
        ParamDecl { name: "default_expires_range", ty: ParamType::Int },
        ParamDecl { name: "expires_range", ty: ParamType::Int },
        ParamDecl { name: "default_q", ty: ParamType::Int },
        ParamDecl { name: "append_branches", ty: ParamType::Int },
        ParamDecl { name: "case_sensitive", ty: ParamType::Int },
        ParamDecl { name: "realm_prefix", ty: ParamType::Str },
        ParamDecl { name: "min_expires", ty: ParamType::Int },
        ParamDecl { name: "max_expires", ty: ParamType::Int },
        ParamDecl { name: "received_param", ty: ParamType::Str },
        ParamDecl { name: "received_avp", ty: ParamType::Str },
        ParamDecl { name: "max_contacts", ty: ParamType::Int },
        ParamDecl { name: "retry_after", ty: ParamType::Int },
        ParamDecl { name: "sock_mode", ty: ParamType::Int },
        ParamDecl { name: "sock_flag", ty: ParamType::Int },
        ParamDecl { name: "sock_hdr_name", ty: ParamType::Str },
        ParamDecl { name: "method_filtering", ty: ParamType::Int },
        ParamDecl { name: "use_path", ty: ParamType::Int },
        ParamDecl { name: "path_mode", ty: ParamType::Int },
        ParamDecl { name: "path_use_received", ty: ParamType::Int },
        ParamDecl { name: "path_check_local", ty: ParamType::Int },
        ParamDecl { name: "xavp_cfg", ty: ParamType::Str },
        ParamDecl { name: "xavp_rcd", ty: ParamType::Str },
        ParamDecl { name: "xavp_rcd_mask", ty: ParamType::Int },
        ParamDecl { name: "gruu_enabled", ty: ParamType::Int },
        ParamDecl { name: "outbound_mode", ty: ParamType::Int },
        ParamDecl { name: "regid_mode", ty: ParamType::Int },
        ParamDecl { name: "flow_timer", ty: ParamType::Int },
        ParamDecl { name: "contact_max_size", ty: ParamType::Int },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
        ParamDecl { name: "lookup_filter_mode", ty: ParamType::Int },
        ParamDecl { name: "min_expires_mode", ty: ParamType::Int },
        ParamDecl { name: "use_expired_contacts", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "ulc", form: PvForm::Named, writable: true },
    ],
    transforms: &[],
};

// ---- implementations ----

use crate::forward as send;
use crate::host::natives::{arg_int, arg_str};
use crate::host::{Ctx, Impl};
use crate::modules::usrloc::lookup::{lookup as ul_lookup, next_hop};
use crate::modules::usrloc::request::{aor_of, read_register};
use crate::modules::usrloc::save::{save as ul_save, RegCfg, Rerr, Saved, FL_NORPL};
use crate::modules::usrloc::Usrloc;
use sipvm_vm::{ArgValue, HostError};

/// registrar's natives over the shared usrloc tables.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "save",
        f: save,
    },
    Impl {
        name: "lookup",
        f: lookup,
    },
    Impl {
        name: "lookup_to_dset",
        f: lookup_to_dset,
    },
    Impl {
        name: "registered",
        f: registered,
    },
    Impl {
        name: "unregister",
        f: unregister,
    },
    Impl {
        name: "lookup_branches",
        f: lookup_branches,
    },
];

/// An optional URI argument (empty counts as absent, as Kamailio's `*_uri` forms).
fn opt_uri(args: &[ArgValue<'_>], i: usize) -> Option<String> {
    (args.len() > i)
        .then(|| arg_str(args, i).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The reply `save` sends (Kamailio's `reg_send_reply`): the bindings in one Contact header,
/// Path when `use_path` applies, then `P-Registrar-Error` and friends on errors.
fn send_reg_reply(ctx: &mut Ctx<'_>, cfg: &RegCfg, saved: &Saved, path: &str) {
    let mut err = saved.err;
    let mut extra: Vec<(&str, String)> = Vec::new();
    if let Some(c) = &saved.contact {
        extra.push(("Contact", c.clone()));
    }
    if err.is_none() && cfg.use_path && !path.is_empty() && cfg.path_mode != 0 {
        let supported = ctx
            .msg
            .supported()
            .is_ok_and(|s| s.iter().any(|t| t.eq_ignore_ascii_case("path")));
        if supported {
            extra.push(("Path", path.to_string()));
        } else if cfg.path_mode == 2 {
            err = Some(Rerr::PathUnsup);
            extra.push(("Unsupported", "path".into()));
            extra.push(("Path", path.to_string()));
        }
    }
    let (code, reason) = match err {
        None => (200, "OK"),
        Some(e) => {
            let (code, reason, info) = e.reply();
            if e == Rerr::LowExp {
                extra.push(("Min-Expires", cfg.min_expires.to_string()));
            }
            extra.push(("P-Registrar-Error", info.to_string()));
            if (500..600).contains(&code) && cfg.retry_after > 0 {
                extra.push(("Retry-After", cfg.retry_after.to_string()));
            }
            (code, reason)
        }
    };
    let hdrs: Vec<(&str, &str)> = extra.iter().map(|(n, v)| (*n, v.as_str())).collect();
    if let Err(e) = send::reply(ctx, code, reason, &hdrs) {
        tracing::warn!("registrar: cannot reply {code}: {}", e.0);
    }
}

/// `save(table[, flags[, uri]])`: 1 new, 2 updated, 3 removed, 4 only listed; -1 error,
/// -2 too many contacts. Replies itself unless flag 0x02.
fn save(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if !ctx.msg.is_request() {
        return Ok(-1);
    }
    let table = ctx.state::<Usrloc>().table(&arg_str(args, 0));
    let flags = if args.len() > 1 {
        arg_int(args, 1)? as u32
    } else {
        0
    };
    let cfg = RegCfg::from_snapshot(ctx.snap);
    let now = crate::modules::usrloc::now();
    let read = read_register(ctx, &cfg, flags).and_then(|reg| {
        let uri = match opt_uri(args, 2) {
            Some(u) => u,
            None => ctx
                .msg
                .to()
                .map_err(|_| Rerr::ToMiss)?
                .uri()
                .as_str()
                .to_string(),
        };
        Ok((reg, aor_of(&uri, &cfg)?))
    });
    let (saved, path) = match read {
        Ok((reg, aor)) => {
            let ul = ctx.state::<Usrloc>();
            let mut locked = table.lock(&aor);
            let saved = ul_save(ul, &mut locked, &aor, &reg, &cfg, now);
            (saved, reg.path)
        }
        Err(e) => (
            Saved {
                ret: -1,
                err: Some(e),
                contact: None,
            },
            String::new(),
        ),
    };
    if flags & FL_NORPL == 0 {
        send_reg_reply(ctx, &cfg, &saved, &path);
    }
    Ok(saved.ret)
}

/// Kamailio's `has_to_tag`: in-dialog requests pass method filtering.
fn has_to_tag(ctx: &Ctx<'_>) -> bool {
    ctx.msg
        .to()
        .ok()
        .and_then(|t| t.tag())
        .is_some_and(|t| !t.is_empty())
}

/// How a lookup lands in the message.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dest {
    /// `lookup`: the best contact is the Request-URI, `$du` its next hop, Path a Route.
    Ruri,
    /// `lookup_to_dset`: every contact a branch.
    Branches,
    /// A branch of `lookup_branches`: the Request-URI only (no Route added).
    RuriOnly,
}

/// The lookup of `uri` (else the Request-URI) in `table`, applied to the message.
fn lookup_in(ctx: &mut Ctx<'_>, table: &str, uri: Option<String>, into: Dest) -> i64 {
    let Some(table) = ctx.state::<Usrloc>().find(table) else {
        return -1;
    };
    let cfg = RegCfg::from_snapshot(ctx.snap);
    let uri = uri.unwrap_or_else(|| ctx.ruri_str().to_string());
    let Ok(aor) = aor_of(&uri, &cfg) else {
        return -3;
    };
    let method = (cfg.method_filtering && !has_to_tag(ctx))
        .then(|| crate::modules::usrloc::method_bit(ctx.msg.method_str()));
    let now = crate::modules::usrloc::now();
    let targets = match ul_lookup(&table, &aor, method, cfg.append_branches, now) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if into == Dest::Branches {
        ctx.push_branch(targets.first.contact.clone(), targets.first.cflags);
    } else {
        ctx.ruri = Some(targets.first.contact.clone());
        // Kamailio ORs the contact's cflags into branch 0's flags.
        ctx.bflags |= targets.first.cflags;
        // Kamailio resets the next hop, then points it at the Path or received address.
        ctx.dst_uri = next_hop(&targets.first);
        if into == Dest::Ruri && !targets.first.path.is_empty() {
            ctx.edits
                .add_header(crate::sip::HeaderPos::Top, "Route", &targets.first.path);
        }
    }
    // Branches carry only their URI for now: their own received/Path is not kept.
    for b in targets.rest {
        ctx.push_branch(b.contact, b.cflags);
    }
    1
}

fn lookup_helper(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], rewrite: bool) -> i64 {
    let into = if rewrite { Dest::Ruri } else { Dest::Branches };
    lookup_in(ctx, &arg_str(args, 0), opt_uri(args, 1), into)
}

/// `lookup_branches(table)`: `lookup` of the Request-URI, then of each branch there was
/// before: a branch found is replaced by its best contact, its other contacts appended. 1 when
/// anything was found, else the last lookup's code.
fn lookup_branches(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let table = arg_str(args, 0).into_owned();
    let before = ctx.branches.len();
    let mut ret = lookup_in(ctx, &table, None, Dest::Ruri);
    if before == 0 {
        return Ok(ret);
    }
    let mut found = ret > 0;
    let (ruri, dst, bflags) = (ctx.ruri.clone(), ctx.dst_uri.clone(), ctx.bflags);
    for i in 0..before {
        let uri = ctx.branches[i].clone();
        ctx.bflags = ctx.branch_flags(i + 1).unwrap_or(0);
        ret = lookup_in(ctx, &table, Some(uri), Dest::RuriOnly);
        if ret > 0 {
            found = true;
            if let Some(best) = ctx.ruri.clone() {
                ctx.branches[i] = best;
            }
            let f = ctx.bflags;
            if let Some(slot) = ctx.branch_flags_mut(i + 1) {
                *slot = f;
            }
        }
    }
    ctx.ruri = ruri;
    ctx.dst_uri = dst;
    ctx.bflags = bflags;
    Ok(if found { 1 } else { ret })
}

/// `lookup(table[, uri])`: 1 found, -1 none, -2 method not accepted, -3 bad AoR.
fn lookup(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(lookup_helper(ctx, args, true))
}

/// `lookup_to_dset(table[, uri])`: like `lookup`, every contact as a branch.
fn lookup_to_dset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(lookup_helper(ctx, args, false))
}

/// `registered(table[, uri[, match_option[, match_action]]])`: 1 when the AoR (the given
/// URI, the To URI of a reply, else the Request-URI) has a valid contact, else -1. The
/// match options need `xavp_cfg`, which sipvm does not have: they are ignored.
fn registered(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let cfg = RegCfg::from_snapshot(ctx.snap);
    let uri = match opt_uri(args, 1) {
        Some(u) => u,
        None if ctx.msg.is_response() => match ctx.msg.to() {
            Ok(t) => t.uri().as_str().to_string(),
            Err(_) => return Ok(-1),
        },
        None => ctx.ruri_str().to_string(),
    };
    let Ok(aor) = aor_of(&uri, &cfg) else {
        return Ok(-1);
    };
    let found = ctx
        .state::<Usrloc>()
        .find(&arg_str(args, 0))
        .and_then(|t| t.get(&aor, crate::modules::usrloc::now()))
        .is_some();
    Ok(if found { 1 } else { -1 })
}

/// `unregister(table, uri[, ruid])`: every binding of the AoR, or the one with that ruid;
/// 1 done, -1 bad AoR, -3 ruid not found.
fn unregister(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let cfg = RegCfg::from_snapshot(ctx.snap);
    let table = ctx.state::<Usrloc>().table(&arg_str(args, 0));
    let uri = arg_str(args, 1).trim().to_string();
    let ruid = opt_uri(args, 2);
    let Some(ruid) = ruid else {
        let Ok(aor) = aor_of(&uri, &cfg) else {
            return Ok(-1);
        };
        table.remove(&aor);
        return Ok(1);
    };
    if uri.is_empty() {
        // Without an AoR Kamailio needs db_mode 3 to search by ruid; sipvm searches memory.
        let now = crate::modules::usrloc::now();
        let (recs, _, _) = table.snapshot(now);
        return Ok(
            match recs
                .iter()
                .find(|r| r.bindings.iter().any(|b| b.ruid == ruid))
            {
                Some(r) => remove_ruid(&table, &r.aor, &ruid),
                None => -3,
            },
        );
    }
    let Ok(aor) = aor_of(&uri, &cfg) else {
        return Ok(-1);
    };
    Ok(remove_ruid(&table, &aor, &ruid))
}

fn remove_ruid(table: &crate::modules::usrloc::Table, aor: &str, ruid: &str) -> i64 {
    let mut l = table.lock(aor);
    let Some(mut rec) = l.get(aor).cloned() else {
        return -3;
    };
    let n = rec.bindings.len();
    rec.bindings.retain(|b| b.ruid != ruid);
    if rec.bindings.len() == n {
        return -3;
    }
    l.put(rec);
    1
}

/// The registrar module: `save`, `lookup` and friends over usrloc's tables.
pub static MODULE: crate::host::Module = crate::host::Module {
    params: &[
        "default_expires",
        "default_q",
        "append_branches",
        "case_sensitive",
        "realm_prefix",
        "min_expires",
        "max_expires",
        "received_param",
        "received_avp",
        "max_contacts",
        "retry_after",
        "method_filtering",
        "use_path",
        "path_mode",
        "contact_max_size",
        "min_expires_mode",
        "gruu_enabled",
    ],
    check: Some(check),
    natives: IMPLS,
    ..crate::host::Module::decl(&DECL)
};

/// GRUU is not built yet: only `gruu_enabled` 0, what sipvm does, is accepted.
fn check(modparams: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    match modparams
        .iter()
        .rev()
        .find(|m| m.module == "registrar" && m.param == "gruu_enabled")
    {
        Some(m) if m.value.to_int() != 0 => {
            Err("gruu_enabled 1: sipvm's registrar does not implement GRUU yet".into())
        }
        _ => Ok(()),
    }
}
