//! tmx's pseudo-variables: `$T_branch_idx`, `$T_reply_code`, `$T_reply_reason`, and
//! `$T_req(pv)` / `$T_rpl(pv)`, which read a pseudo-variable of the transaction's request or of
//! the reply a failure/onreply route is about.

use crate::host::Ctx;
use crate::sip::Msg;
use sipvm_vm::Value;
use std::sync::Arc;

fn s(x: &str) -> Value {
    Value::Str(Arc::from(x))
}

pub fn get(ctx: &mut Ctx<'_>, class: &str, name: Option<&str>) -> Value {
    match class {
        "T_branch_idx" => {
            let idx = ctx.tm.branch;
            let picked = ctx.tm.with(|t| t.picked.map(|p| p.0)).flatten();
            idx.or(picked)
                .map(|i| Value::Int(i as i64))
                .unwrap_or(Value::Int(0))
        }
        "T_reply_code" => match &ctx.tm.reply {
            Some((code, _)) => Value::Int(i64::from(*code)),
            None => ctx
                .tm
                .with(|t| t.status)
                .filter(|c| *c > 0)
                .map(|c| Value::Int(i64::from(c)))
                .unwrap_or(Value::Null),
        },
        "T_reply_reason" => match &ctx.tm.reply {
            Some((_, r)) => s(r),
            None => Value::Null,
        },
        "T_req" => {
            let req = ctx.tm.with(|t| t.req.clone());
            req.and_then(|b| Msg::parse(b).ok())
                .map(|m| inner(&m, name.unwrap_or("")))
                .unwrap_or(Value::Null)
        }
        "T_rpl" if ctx.tm.route == Some(sipvm_vm::RouteKind::OnReply) => {
            inner(ctx.msg, name.unwrap_or(""))
        }
        "T_rpl" => {
            let idx = ctx.tm.branch;
            let rpl = ctx
                .tm
                .with(|t| {
                    let i = idx.or(t.picked.map(|p| p.0))?;
                    t.branches.get(i)?.reply.clone()
                })
                .flatten();
            rpl.and_then(|b| Msg::parse(b).ok())
                .map(|m| inner(&m, name.unwrap_or("")))
                .unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

/// The pseudo-variables `$T_req`/`$T_rpl` can read: headers and the common message parts.
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
