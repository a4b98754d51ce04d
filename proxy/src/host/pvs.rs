//! Pseudo-variables of a message: reads and writes through the `Host`.

use super::ctx::Ctx;
use super::uri_edit::{rewrite, UriChange};
use crate::sip::{HeaderName, NameAddr, Uri};
use sipvm_vm::{HostError, Index, Program, PvKey, Value};
use std::sync::Arc;

fn s(x: &str) -> Value {
    Value::Str(Arc::from(x))
}

fn bytes(b: &[u8]) -> Value {
    s(&String::from_utf8_lossy(b))
}

fn opt(x: Option<&str>) -> Value {
    x.map(s).unwrap_or(Value::Null)
}

fn name_addr<'m>(r: Result<&'m NameAddr<'m>, crate::sip::HeaderError>) -> Option<&'m NameAddr<'m>> {
    r.ok()
}

/// A header by name, with Kamailio's `$hdr` indexing: none is the first, `-1` the last,
/// `[*]` every value joined with `,`.
fn header(ctx: &Ctx<'_>, name: &str, index: Option<Index>) -> Value {
    let vals: Vec<&[u8]> = ctx.msg.header_values_by_name(name).collect();
    let pick = |i: i64| {
        let i = if i < 0 { vals.len() as i64 + i } else { i };
        usize::try_from(i)
            .ok()
            .and_then(|i| vals.get(i))
            .map(|v| bytes(v))
            .unwrap_or(Value::Null)
    };
    match index {
        None => pick(0),
        Some(Index::At(i)) => pick(i),
        Some(Index::All) if vals.is_empty() => Value::Null,
        Some(Index::All) => {
            let joined: Vec<String> = vals
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            s(&joined.join(","))
        }
    }
}

pub fn get(ctx: &mut Ctx<'_>, prog: &Program, key: PvKey<'_>) -> Result<Value, HostError> {
    let r = &prog.pvs[key.pv.ix()];
    let m = ctx.msg;
    let cur_uri = || Uri::parse(ctx.ruri_str()).ok();
    Ok(match &*r.class_name {
        "rm" => s(m.method_str()),
        "ru" => s(ctx.ruri_str()),
        "rU" => opt(cur_uri().and_then(|u| u.user())),
        "rd" => opt(cur_uri().map(|u| u.host())),
        "rp" => cur_uri()
            .and_then(|u| u.port())
            .map(|p| Value::Int(p as i64))
            .unwrap_or(Value::Int(5060)),
        "rz" => opt(cur_uri().map(|u| u.scheme_str())),
        "du" => opt(ctx.dst_uri.as_deref()),
        "fu" => opt(name_addr(m.from()).map(|n| n.uri().as_str())),
        "fU" => opt(name_addr(m.from()).and_then(|n| n.uri().user())),
        "fd" => opt(name_addr(m.from()).map(|n| n.uri().host())),
        "fn" => opt(name_addr(m.from()).and_then(|n| n.display())),
        "ft" => opt(name_addr(m.from()).and_then(|n| n.tag())),
        "tu" => opt(name_addr(m.to()).map(|n| n.uri().as_str())),
        "tU" => opt(name_addr(m.to()).and_then(|n| n.uri().user())),
        "td" => opt(name_addr(m.to()).map(|n| n.uri().host())),
        "tn" => opt(name_addr(m.to()).and_then(|n| n.display())),
        "tt" => opt(name_addr(m.to()).and_then(|n| n.tag())),
        "ci" => opt(m.call_id().ok()),
        "cs" => m
            .cseq()
            .map(|c| Value::Int(c.seq as i64))
            .unwrap_or(Value::Null),
        "rs" => m
            .status()
            .map(|c| Value::Int(c as i64))
            .unwrap_or(Value::Null),
        "rr" => m.reason().map(bytes).unwrap_or(Value::Null),
        "si" => s(&ctx.src.ip().to_string()),
        "sp" => Value::Int(ctx.src.port() as i64),
        "Ri" => s(&ctx.local.addr.ip().to_string()),
        "Rp" => Value::Int(ctx.local.addr.port() as i64),
        "pr" | "proto" => s(ctx.local.proto.as_str()),
        "hdr" => header(ctx, key.name.unwrap_or(""), key.index),
        "hdrc" => Value::Int(
            ctx.msg
                .header_values_by_name(key.name.unwrap_or(""))
                .count() as i64,
        ),
        "ua" => header(ctx, "User-Agent", None),
        "ct" => m
            .header_values(HeaderName::Contact)
            .next()
            .map(bytes)
            .unwrap_or(Value::Null),
        "cT" => m
            .header_values(HeaderName::ContentType)
            .next()
            .map(bytes)
            .unwrap_or(Value::Null),
        "cl" => m
            .content_length()
            .map(|n| Value::Int(n as i64))
            .unwrap_or(Value::Null),
        "ml" => Value::Int(m.len() as i64),
        "mb" => bytes(m.as_bytes()),
        "rb" => bytes(m.body()),
        "Ts" => Value::Int(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        ),
        "bf" | "mf" => Value::Int(ctx.flags as i64),
        "shv" => ctx.shared.shv.get(key.name.unwrap_or("")),
        c @ ("sht" | "shtex" | "shtcn" | "shtcv" | "shtinc" | "shtdec" | "shtitkey"
        | "shtitval") => crate::modules::htable::get_pv(ctx, c, key.name.unwrap_or(""))?,
        "avp" => {
            let n = key.name.unwrap_or("");
            ctx.avps
                .iter()
                .rev()
                .find(|(k, _)| &**k == n)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null)
        }
        "sel" => {
            let inner = key.name.unwrap_or("");
            let (g, n) = inner
                .strip_prefix("cfg_get.")
                .and_then(|r| r.split_once('.'))
                .unwrap_or(("", ""));
            ctx.snap
                .custom(g, n)
                .map(|c| c.value.clone())
                .unwrap_or(Value::Null)
        }
        c if c.starts_with("T_") => crate::tm::pvs::get(ctx, c, key.name),
        // rr: the topmost Route's URI; From/To tags as in the initial request; direction.
        "route_uri" => opt(m
            .route()
            .ok()
            .and_then(|r| r.first())
            .map(|n| n.uri().as_str())),
        "fti" | "tti" => {
            let (f, t) = (m.from().ok(), m.to().ok());
            let up = super::loose::is_upstream(ctx);
            let pick = if (r.class_name.as_ref() == "fti") != up {
                f
            } else {
                t
            };
            opt(pick.and_then(|n| n.tag()).filter(|t| !t.is_empty()))
        }
        "rdir" => {
            let up = super::loose::is_upstream(ctx);
            match key.name.unwrap_or("") {
                "name" => s(if up { "upstream" } else { "downstream" }),
                _ => Value::Int(if up { 2 } else { 1 }),
            }
        }
        // No transaction exists on the stateless path.
        c if c.starts_with("T_") => Value::Null,
        other => {
            return Err(HostError(format!(
                "pseudo-variable ${other} is not available in sipvm yet"
            )))
        }
    })
}

pub fn set(ctx: &mut Ctx<'_>, prog: &Program, key: PvKey<'_>, v: Value) -> Result<(), HostError> {
    let r = &prog.pvs[key.pv.ix()];
    let text = v.to_str().into_owned();
    let change = |ctx: &mut Ctx<'_>, c: UriChange<'_>| {
        let new = rewrite(ctx.ruri_str(), &c);
        ctx.ruri = Some(new);
    };
    match &*r.class_name {
        "ru" => ctx.ruri = Some(text),
        "rU" => change(
            ctx,
            UriChange {
                user: Some(Some(text.as_str()).filter(|_| !v.is_null())),
                ..Default::default()
            },
        ),
        "rd" => change(
            ctx,
            UriChange {
                host: Some(&text),
                ..Default::default()
            },
        ),
        "rp" => change(
            ctx,
            UriChange {
                port: Some(Some(text.as_str()).filter(|_| !v.is_null())),
                ..Default::default()
            },
        ),
        "du" => ctx.dst_uri = if v.is_null() { None } else { Some(text) },
        "shv" => ctx.shared.shv.set(key.name.unwrap_or(""), v),
        c @ ("sht" | "shtex") => crate::modules::htable::set_pv(ctx, c, key.name.unwrap_or(""), v)?,
        "avp" => {
            let n: Arc<str> = Arc::from(key.name.unwrap_or(""));
            if v.is_null() {
                ctx.avps.retain(|(k, _)| *k != n);
            } else {
                ctx.avps.push((n, v));
            }
        }
        "bf" | "mf" => ctx.flags = v.to_int() as u64,
        other => {
            return Err(HostError(format!(
                "assigning ${other} is not supported by sipvm yet"
            )))
        }
    }
    Ok(())
}
