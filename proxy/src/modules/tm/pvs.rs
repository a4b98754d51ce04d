//! tmx's pseudo-variables: `$T_branch_idx`, `$T_reply_code`, `$T_reply_reason`, and
//! `$T_req(pv)` / `$T_rpl(pv)`, which read a pseudo-variable of the transaction's request or of
//! the reply a failure/onreply route is about.

use super::state::TmSlot;
use crate::host::natives::static_key;
use crate::host::{Ctx, PvImpl};
use crate::sip::Msg;
use sipvm_vm::{Host, HostError, PvKey, PvName, Value};

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

/// `$T_req(pv)`/`$T_rpl(pv)`: the compiled inner pseudo-variable read on `other`, a message
/// of this transaction, as a script on that message would read it.
fn read_on(ctx: &mut Ctx<'_>, k: PvKey<'_>, other: Option<&Msg>) -> R {
    let prog = ctx.snap.program.clone();
    let PvName::Pv(inner) = prog.pvs[k.pv.ix()].name else {
        return Ok(Value::Null);
    };
    let key = static_key(&prog, inner)?;
    match other {
        None => ctx.get_pv(&prog, key),
        Some(m) => {
            let mut c = Ctx::new(
                m, ctx.src, ctx.local, ctx.locals, ctx.out, ctx.snap, ctx.shared,
            );
            c.get_pv(&prog, key)
        }
    }
}

fn t_req(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let req = ctx.slots.tm().with(|t| t.req.clone());
    match req.and_then(|b| Msg::parse(b).ok()) {
        Some(m) => read_on(ctx, k, Some(&m)),
        None => Ok(Value::Null),
    }
}

fn t_rpl(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let tm = ctx.slots.tm();
    if tm.route == Some(sipvm_vm::RouteKind::OnReply) {
        return read_on(ctx, k, None);
    }
    let idx = tm.branch;
    let rpl = tm
        .with(|t| {
            let i = idx.or(t.picked.map(|p| p.0))?;
            t.branches.get(i)?.reply.clone()
        })
        .flatten();
    match rpl.and_then(|b| Msg::parse(b).ok()) {
        Some(m) => read_on(ctx, k, Some(&m)),
        None => Ok(Value::Null),
    }
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
