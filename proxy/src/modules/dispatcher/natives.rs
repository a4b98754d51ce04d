//! The dispatcher's script functions. The failover candidates of a selection live in the
//! message's AVPs under reserved names (Kamailio keeps them in the `_dsdst_` XAVP): `_ds_dst`
//! holds each candidate URI, the current one last (so `$avp(_ds_dst)` reads it), `_ds_grp` the
//! set. The transaction layer carries AVPs into failure_route, where `ds_next_dst` and
//! `ds_mark_dst` find them.

use super::algo::{self, Alg};
use super::state::{self, Dispatcher, DISABLED, FAILOVER_ON, HASH_USER_ONLY, INACTIVE};
use crate::host::natives::{arg_int, arg_str};
use crate::host::{Ctx, Impl};
use crate::sip::Uri;
use crate::transport::Proto;
use sipvm_vm::{ArgValue, HostError, Value};
use std::net::IpAddr;
use std::sync::Arc;

/// AVP names of the failover candidates and their set.
pub const AVP_DST: &str = "_ds_dst";
pub const AVP_GRP: &str = "_ds_grp";

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "ds_select",
        f: |c, a| select(c, a, Target::AvpOnly),
    },
    Impl {
        name: "ds_select_dst",
        f: |c, a| select(c, a, Target::DstUri),
    },
    Impl {
        name: "ds_select_domain",
        f: |c, a| select(c, a, Target::Domain),
    },
    Impl {
        name: "ds_next_dst",
        f: |c, _| update(c, true, Target::DstUri),
    },
    Impl {
        name: "ds_next_domain",
        f: |c, _| update(c, true, Target::Domain),
    },
    Impl {
        name: "ds_set_dst",
        f: |c, _| update(c, false, Target::DstUri),
    },
    Impl {
        name: "ds_set_domain",
        f: |c, _| update(c, false, Target::Domain),
    },
    Impl {
        name: "ds_mark_dst",
        f: ds_mark_dst,
    },
    Impl {
        name: "ds_is_from_list",
        f: ds_is_from_list,
    },
    Impl {
        name: "ds_list_exist",
        f: ds_list_exist,
    },
    Impl {
        name: "ds_list_exists",
        f: ds_list_exist,
    },
    Impl {
        name: "ds_is_active",
        f: ds_is_active,
    },
    Impl {
        name: "ds_reload",
        f: ds_reload,
    },
];

/// Where a selection goes: `$du`, the R-URI's host part, or only the AVPs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    DstUri,
    Domain,
    AvpOnly,
}

fn ds<'a>(ctx: &Ctx<'a>) -> &'a Dispatcher {
    ctx.state::<Dispatcher>()
}

/// The algorithm's hash input from the message; `None` when the message lacks it.
fn algorithm(ctx: &Ctx<'_>, alg: i64, flags: i64) -> Result<Option<Alg>, HostError> {
    let user_only = flags & HASH_USER_ONLY != 0;
    let msg = ctx.msg;
    let h = match alg {
        0 => msg.call_id().ok().map(|c| algo::hash(&[c.trim()])),
        1 => msg
            .from()
            .ok()
            .and_then(|f| algo::uri_key(f.uri().as_str(), user_only)),
        2 => msg
            .to()
            .ok()
            .and_then(|t| algo::uri_key(t.uri().as_str(), user_only)),
        3 => algo::uri_key(ctx.ruri_str(), user_only),
        4 => return Ok(Some(Alg::RoundRobin)),
        6 => return Ok(Some(Alg::Random)),
        8 => return Ok(Some(Alg::Priority)),
        9 => return Ok(Some(Alg::Weight)),
        11 => return Ok(Some(Alg::RelWeight)),
        _ => return Err(HostError(algo::unsupported(alg))),
    };
    Ok(h.map(Alg::Hash))
}

fn select(ctx: &mut Ctx<'_>, a: &[ArgValue<'_>], target: Target) -> Result<i64, HostError> {
    // A set, algorithm or limit that is not a number: -1, as Kamailio's fixup getters.
    let ints = (|| -> Result<(i64, i64, i64), HostError> {
        let limit = if a.len() > 2 { arg_int(a, 2)? } else { 0 };
        Ok((arg_int(a, 0)?, arg_int(a, 1)?, limit))
    })();
    let (set_id, alg, limit) = match ints {
        Ok(v) => v,
        Err(e) => {
            tracing::error!("ds_select: {}", e.0);
            return Ok(-1);
        }
    };
    // No limit, or 0: every candidate (Kamailio's 0xffffffff).
    let limit = if limit <= 0 {
        usize::MAX
    } else {
        limit as usize
    };
    let cfg_flags = ds(ctx).cfg.flags;
    let Some(alg) = algorithm(ctx, alg, cfg_flags)? else {
        tracing::error!("ds_select: the message has no value to hash for algorithm {alg}");
        return Ok(-1);
    };
    if target == Target::DstUri && !ds(ctx).cfg.force_dst && ctx.dst_uri.is_some() {
        tracing::error!("ds_select_dst: destination already set");
        return Ok(-1);
    }
    let sets = ds(ctx).sets.load();
    let Some(set) = sets.get(set_id) else {
        // Kamailio logs this at ERROR and gives -1: the VM does both, with the script's place.
        return Err(HostError(format!(
            "ds_select: destination set [{set_id}] not found"
        )));
    };
    let Some(order) = algo::select(set, alg, limit) else {
        tracing::debug!("ds_select: no active destination in set {set_id}");
        return Ok(-1);
    };
    let first = &set.dests[order[0]].spec.uri;
    push(ctx, first, target);
    if cfg_flags & FAILOVER_ON != 0 {
        clear_avps(ctx);
        let (grp, dst) = avp_names();
        ctx.avps.push((grp.clone(), Value::Int(set_id)));
        // The current destination last: `$avp(_ds_dst)` reads it, `ds_next_dst` pops it.
        for &i in order.iter().rev() {
            ctx.avps.push((dst.clone(), set.dests[i].uri_value.clone()));
        }
    }
    Ok(1)
}

/// The AVP names, allocated once.
fn avp_names() -> &'static (Arc<str>, Arc<str>) {
    static NAMES: std::sync::OnceLock<(Arc<str>, Arc<str>)> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| (Arc::from(AVP_GRP), Arc::from(AVP_DST)))
}

fn clear_avps(ctx: &mut Ctx<'_>) {
    ctx.avps.retain(|(k, _)| &**k != AVP_DST && &**k != AVP_GRP);
}

/// Sets `$du`, or the R-URI's host part, to `uri`.
fn push(ctx: &mut Ctx<'_>, uri: &str, target: Target) {
    match target {
        Target::DstUri => ctx.dst_uri = Some(uri.to_string()),
        Target::Domain => {
            let cur = ctx.ruri_str().to_string();
            ctx.ruri = Some(with_host_part(&cur, uri));
        }
        Target::AvpOnly => {}
    }
}

/// Kamailio's SET_HOSTALL: the R-URI keeps its scheme and user; everything from the host on
/// (host, port, parameters) comes from the destination URI.
pub fn with_host_part(cur: &str, dest: &str) -> String {
    let lower = dest.to_ascii_lowercase();
    let rest = if lower.starts_with("sips:") {
        &dest[5..]
    } else if lower.starts_with("sip:") {
        &dest[4..]
    } else {
        dest
    };
    match Uri::parse(cur) {
        Ok(u) => match u.user() {
            Some(user) => match u.password() {
                Some(pw) => format!("{}:{user}:{pw}@{rest}", u.scheme_str()),
                None => format!("{}:{user}@{rest}", u.scheme_str()),
            },
            None => format!("{}:{rest}", u.scheme_str()),
        },
        Err(_) => dest.to_string(),
    }
}

/// The candidates left, the current one last.
fn candidates(ctx: &Ctx<'_>) -> Vec<usize> {
    ctx.avps
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| &**k == AVP_DST)
        .map(|(i, _)| i)
        .collect()
}

fn failover_on(ctx: &Ctx<'_>, what: &str) -> bool {
    let on = ds(ctx).cfg.flags & FAILOVER_ON != 0;
    if !on {
        tracing::warn!("{what}: failover support disabled (modparam dispatcher flags 2)");
    }
    on
}

/// `ds_next_dst` / `ds_next_domain` (`next`) and `ds_set_dst` / `ds_set_domain`.
fn update(ctx: &mut Ctx<'_>, next: bool, target: Target) -> Result<i64, HostError> {
    if next && !failover_on(ctx, "ds_next_dst") {
        return Ok(-1);
    }
    let mut c = candidates(ctx);
    if next {
        let Some(cur) = c.pop() else {
            return Ok(-1);
        };
        ctx.avps.remove(cur);
    }
    let Some(&i) = c.last() else {
        return Ok(-1);
    };
    let uri = ctx.avps[i].1.to_str().into_owned();
    push(ctx, &uri, target);
    Ok(1)
}

/// Kamailio's state letters: `a` active (clears), `i` inactive, `d` disabled, `t` trying,
/// `p` probing.
pub fn parse_state(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.chars() {
        match c.to_ascii_lowercase() {
            'a' => f &= !state::STATES_ALL,
            'i' => f |= INACTIVE,
            'd' => f |= DISABLED,
            't' => f |= state::TRYING,
            'p' => f |= state::PROBING,
            _ => return None,
        }
    }
    Some(f)
}

/// `ds_mark_dst([state])`: sets the state of the current destination (the last selected or
/// moved to); without a state, inactive (and probing with `ds_probing_mode` 1).
fn ds_mark_dst(ctx: &mut Ctx<'_>, a: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if !failover_on(ctx, "ds_mark_dst") {
        return Ok(-1);
    }
    let text = arg_str(a, 0);
    let st = if text.is_empty() {
        let mut s = INACTIVE;
        if ds(ctx).cfg.probing_mode == state::PROBE_ALL {
            s |= state::PROBING;
        }
        s
    } else {
        match parse_state(&text) {
            Some(s) => s,
            None => {
                tracing::warn!("ds_mark_dst: bad state flags \"{text}\"");
                return Ok(-1);
            }
        }
    };
    let grp = ctx
        .avps
        .iter()
        .rev()
        .find(|(k, _)| &**k == AVP_GRP)
        .and_then(|(_, v)| v.try_int());
    let cur = candidates(ctx)
        .last()
        .map(|&i| ctx.avps[i].1.to_str().into_owned());
    let (Some(grp), Some(uri)) = (grp, cur) else {
        return Ok(-1);
    };
    Ok(if ds(ctx).update_state(grp, &uri, st) {
        1
    } else {
        -1
    })
}

/// Match modes of `ds_is_from_list`.
const MATCH_NOPORT: i64 = 1;
const MATCH_NOPROTO: i64 = 2;
const MATCH_ACTIVE: i64 = 4;

/// `ds_is_from_list([set[, mode[, uri]]])`: whether the source address (or `uri`'s) is a
/// destination of `set` (-1: any set). Without a mode the protocol is not compared.
fn ds_is_from_list(ctx: &mut Ctx<'_>, a: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let set = if a.is_empty() { -1 } else { arg_int(a, 0)? };
    let mode = if a.len() > 1 {
        arg_int(a, 1)?
    } else {
        MATCH_NOPROTO
    };
    let (ip, port, proto): (IpAddr, u16, Option<Proto>) =
        if a.len() > 2 && !arg_str(a, 2).is_empty() {
            let text = arg_str(a, 2);
            let Ok(u) = Uri::parse(&text) else {
                tracing::error!("ds_is_from_list: bad uri [{text}]");
                return Ok(-1);
            };
            let Some(addr) = crate::forward::resolve(u.host(), u.port(), 5060) else {
                tracing::error!("ds_is_from_list: could not resolve {}", u.host());
                return Ok(-1);
            };
            let proto = u.param("transport").flatten().and_then(Proto::from_name);
            (addr.ip(), u.port().unwrap_or(0), proto)
        } else {
            (ctx.src.ip(), ctx.src.port(), Some(ctx.local.proto))
        };
    let sets = ds(ctx).sets.load();
    let hit = sets
        .sets
        .iter()
        .filter(|s| set == -1 || s.id == set)
        .flat_map(|s| s.dests.iter())
        .any(|d| {
            d.addr.is_some_and(|x| x.ip() == ip)
                && (mode & MATCH_NOPORT != 0 || d.port == 0 || d.port == port)
                && (mode & MATCH_NOPROTO != 0 || d.proto == proto)
                && (mode & MATCH_ACTIVE == 0 || !state::skipped(d.flags()))
        });
    Ok(if hit { 1 } else { -1 })
}

fn ds_list_exist(ctx: &mut Ctx<'_>, a: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let set = arg_int(a, 0)?;
    Ok(if ds(ctx).sets.load().get(set).is_some() {
        1
    } else {
        -1
    })
}

/// `ds_is_active(set[, uri])`: whether the set has an active destination (that one).
fn ds_is_active(ctx: &mut Ctx<'_>, a: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let set = arg_int(a, 0)?;
    let uri = arg_str(a, 1);
    let sets = ds(ctx).sets.load();
    let hit = sets.get(set).is_some_and(|s| {
        s.dests
            .iter()
            .any(|d| !state::skipped(d.flags()) && (uri.is_empty() || d.spec.uri == *uri))
    });
    Ok(if hit { 1 } else { -1 })
}

fn ds_reload(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    match ds(ctx).reload() {
        Ok(_) => Ok(1),
        Err(e) => {
            tracing::error!("ds_reload: {e}");
            Ok(-1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_part_replaces_host_port_and_params() {
        assert_eq!(
            with_host_part(
                "sip:bob@example.com;user=phone",
                "sip:127.0.0.1:5083;transport=udp"
            ),
            "sip:bob@127.0.0.1:5083;transport=udp"
        );
        assert_eq!(
            with_host_part("sip:example.com", "sip:10.0.0.1"),
            "sip:10.0.0.1"
        );
    }

    #[test]
    fn state_letters() {
        assert_eq!(parse_state("ip"), Some(INACTIVE | state::PROBING));
        assert_eq!(parse_state("d"), Some(DISABLED));
        assert_eq!(parse_state("Tp"), Some(state::TRYING | state::PROBING));
        assert_eq!(parse_state("a"), Some(0));
        assert_eq!(parse_state("x"), None);
    }
}
