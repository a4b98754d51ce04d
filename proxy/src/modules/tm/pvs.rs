//! tmx's pseudo-variables: `$T_branch_idx`, `$T_reply_code`, `$T_reply_reason`, and
//! `$T_req(pv)` / `$T_rpl(pv)`, which read a pseudo-variable of the transaction's request or of
//! the reply a failure/onreply route is about.

use super::state::TmSlot;
use crate::host::{Ctx, PvImpl};
use crate::sip::Msg;
use sipvm_vm::{HostError, PvKey, Value};

type R = Result<Value, HostError>;
use std::sync::Arc;

fn s(x: &str) -> Value {
    Value::Str(Arc::from(x))
}

fn branch_idx(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    let tm = ctx.slots.tm();
    let idx = tm.branch;
    let picked = tm.with(|t| t.picked.map(|p| p.0)).flatten();
    Ok(Value::Int(idx.or(picked).map_or(0, |i| i as i64)))
}

fn reply_code(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    let tm = ctx.slots.tm();
    Ok(match &tm.reply {
        Some((code, _)) => Value::Int(i64::from(*code)),
        None => tm
            .with(|t| t.status)
            .filter(|c| *c > 0)
            .map(|c| Value::Int(i64::from(c)))
            .unwrap_or(Value::Null),
    })
}

fn reply_reason(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(match &ctx.slots.tm().reply {
        Some((_, r)) => s(r),
        None => Value::Null,
    })
}

fn t_req(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let req = ctx.slots.tm().with(|t| t.req.clone());
    Ok(req
        .and_then(|b| Msg::parse(b).ok())
        .map(|m| inner(&m, k.name.unwrap_or("")))
        .unwrap_or(Value::Null))
}

fn t_rpl(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let name = k.name.unwrap_or("");
    let tm = ctx.slots.tm();
    if tm.route == Some(sipvm_vm::RouteKind::OnReply) {
        return Ok(inner(ctx.msg, name));
    }
    let idx = tm.branch;
    let rpl = tm
        .with(|t| {
            let i = idx.or(t.picked.map(|p| p.0))?;
            t.branches.get(i)?.reply.clone()
        })
        .flatten();
    Ok(rpl
        .and_then(|b| Msg::parse(b).ok())
        .map(|m| inner(&m, name))
        .unwrap_or(Value::Null))
}

/// tm's pseudo-variables sipvm implements (the other `$T_*` classes are compile errors).
#[rustfmt::skip]
pub static PVS: &[PvImpl] = &[
    PvImpl { name: "T_branch_idx", get: branch_idx, set: None },
    PvImpl { name: "T_reply_code", get: reply_code, set: None },
    PvImpl { name: "T_reply_reason", get: reply_reason, set: None },
    PvImpl { name: "T_req", get: t_req, set: None },
    PvImpl { name: "T_rpl", get: t_rpl, set: None },
];

fn inner(m: &Msg, pv: &str) -> Value {
    let pv = pv.trim();
    let opt = |x: Option<&str>| x.map(s).unwrap_or(Value::Null);
    if let Some(h) = pv.strip_prefix("$hdr(").and_then(|r| r.strip_suffix(')')) {
        return m
            .header_values_by_name(h)
            .next()
            .map(|v| s(&String::from_utf8_lossy(v)))
            .unwrap_or(Value::Null);
    }
    match pv {
        "$rs" => m
            .status()
            .map(|c| Value::Int(i64::from(c)))
            .unwrap_or(Value::Null),
        "$rr" => m
            .reason()
            .map(|r| s(&String::from_utf8_lossy(r)))
            .unwrap_or(Value::Null),
        "$rm" => s(m.method_str()),
        "$ru" => opt(m.is_request().then(|| m.ruri_str())),
        "$ci" => opt(m.call_id().ok()),
        "$fu" => opt(m.from().ok().map(|n| n.uri().as_str())),
        "$tu" => opt(m.to().ok().map(|n| n.uri().as_str())),
        "$ft" => opt(m.from().ok().and_then(|n| n.tag())),
        "$tt" => opt(m.to().ok().and_then(|n| n.tag())),
        "$cs" => m
            .cseq()
            .map(|c| Value::Int(i64::from(c.seq)))
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}
