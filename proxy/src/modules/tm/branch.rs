//! branch_route: run once per new branch, after the route that relayed ends (the worker's VM
//! is busy until then), on that branch's Request-URI and `$du`; `drop` discards the branch.
//! Kamailio runs it inside `t_relay`; see docs/modules/tm.md for what the difference means.

use super::state::{TmCtx, TmSlot, Tx};
use super::{lock, natives::add_one};
use crate::host::Ctx;
use sipvm_vm::{End, Program, RouteKind, Vm};

/// Runs the branch route for each target `t_relay` left waiting, and sends the branches it
/// keeps. Without a kept branch in request_route, the request is answered 500.
pub fn run_pending(ctx: &mut Ctx<'_>, vm: &mut Vm, prog: &Program) {
    // Looked at, not made: a stateless message has no tm slot and allocates none here.
    if ctx
        .slots
        .get::<TmCtx>()
        .is_none_or(|t| t.pending.is_empty())
    {
        return;
    }
    let pending = std::mem::take(&mut ctx.slots.tm().pending);
    let Some(route) = ctx.slots.tm().armed.branch else {
        return;
    };
    let saved = (
        ctx.ruri.clone(),
        ctx.dst_uri.clone(),
        ctx.edits.clone(),
        ctx.flags,
        ctx.slots.tm().route,
        ctx.bflags,
    );
    let mut sent = 0;
    for (uri, dst, bflags) in pending {
        ctx.ruri = Some(uri);
        ctx.dst_uri = dst;
        // In branch_route, branch 0's flags are this branch's (as Kamailio's tm sets them).
        ctx.bflags = bflags;
        ctx.edits = saved.2.clone();
        ctx.slots.tm().route = Some(RouteKind::Branch);
        let r = vm.run(prog, route, ctx);
        ctx.slots.tm().route = saved.4;
        match r {
            Ok(o) if o.end == End::Drop => continue,
            Err(e) => {
                tracing::error!("branch_route: {}", e.render(prog));
                continue;
            }
            Ok(_) => {}
        }
        let (u, d, f) = (ctx.ruri_str().to_string(), ctx.dst_uri.clone(), ctx.bflags);
        let ok = match std::mem::take(&mut ctx.slots.tm().tx) {
            Tx::None => false,
            Tx::Held(t) => {
                let ok = add_one(ctx, &mut lock(&t), u, d, f);
                ctx.slots.tm().tx = Tx::Held(t);
                ok
            }
            Tx::Lent(mut t) => {
                let ok = add_one(ctx, t.get(), u, d, f);
                ctx.slots.tm().tx = Tx::Lent(t);
                ok
            }
        };
        sent += usize::from(ok);
    }
    ctx.ruri = saved.0;
    ctx.dst_uri = saved.1;
    ctx.edits = saved.2;
    ctx.flags = saved.3;
    ctx.bflags = saved.5;
    if sent == 0 && ctx.slots.tm().route.is_none() {
        super::natives::reply_stateful(ctx, 500, "No branch left");
    }
}
