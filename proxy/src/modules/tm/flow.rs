//! The transaction core's events: a reply from a branch, a timer, a CANCEL, the end of all
//! branches (the best reply, the failure route). Time comes in as `Env::now`; what is sent
//! goes to `Env::out`, so the core runs the same on simulated time.

use super::events::{TxEnv, TxEvent, TxEventKind};
use super::state::{lend, TmSlot};
use super::txn::{Branch, Phase, Txn};
use super::{build, lock, Tm};
use crate::forward as send;
use crate::host::{Ctx, Shared};
use crate::sip::Msg;
use crate::transport::{Local, Outbox, Proto};
use bytes::Bytes;
use sipvm_vm::{End, RouteIdx, RouteKind, Vm};
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;

/// What an event needs from the worker handling it.
pub struct Env<'e> {
    pub tm: &'e Tm,
    pub shared: &'e Shared,
    pub locals: &'e [Local],
    pub out: &'e mut Outbox,
    pub now: u64,
}

/// Sends `data` upstream, where the transaction's replies go.
pub fn send_up(out: &mut Outbox, locals: &[Local], t: &Txn, data: Bytes) {
    if t.proto == Proto::Udp {
        send::send_via(out, t.local, Proto::Udp, t.reply_dst, data);
    } else if let Some(l) = locals.get(t.local) {
        out.reply(t.src, l, data);
    }
}

fn send_down(out: &mut Outbox, b: &Branch, data: Bytes) {
    send::send_via(out, b.local, b.proto, b.dst, data);
}

/// A reply sipvm makes for the transaction's request.
pub fn local_reply(t: &Txn, code: u16, reason: &str) -> Option<Bytes> {
    local_reply_with(t, code, reason, t.rpl.as_deref())
}

/// [`local_reply`] with the given reply lumps.
fn local_reply_with(
    t: &Txn,
    code: u16,
    reason: &str,
    lumps: Option<&send::ReplyLumps>,
) -> Option<Bytes> {
    let req = Msg::parse(t.req.clone()).ok()?;
    send::build_local_reply_with(&req, t.src, t.force_rport, code, reason, &[], lumps)
        .ok()
        .map(Bytes::from)
}

/// Sends a reply upstream and moves the server side on: a provisional is remembered for
/// retransmissions; a final one completes the transaction (timer G for a negative INVITE
/// reply over UDP, then timer H; otherwise the wait timer).
pub fn reply_up(env: &mut Env<'_>, t: &mut Txn, code: u16, data: Bytes, local: bool) {
    let st = &env.tm.stats;
    st.rpl_sent.fetch_add(1, Relaxed);
    if local {
        st.rpl_generated.fetch_add(1, Relaxed);
    }
    send_up(env.out, env.locals, t, data.clone());
    if code < 200 {
        // Our own 100 is not kept: a retransmission makes it again.
        if t.phase == Phase::Proceeding && !(local && code == 100) {
            fire(env, t, TxEventKind::ResponseOut, code, Some(&data), local);
            t.last_reply = Some(data);
        }
        return;
    }
    if t.phase != Phase::Proceeding {
        return;
    }
    st.final_sent(code);
    t.status = code;
    // Before `compact`: the hooks read the request.
    fire(env, t, TxEventKind::ResponseOut, code, Some(&data), local);
    t.last_reply = Some(data);
    t.phase = Phase::Completed;
    for b in t.branches.iter_mut() {
        b.retr_at = None;
    }
    compact(t);
    if t.invite && code >= 300 {
        if t.proto == Proto::Udp {
            t.g_ivl = t.timers.t1;
            t.g_at = Some(env.now + t.g_ivl);
        }
        t.delete_at = Some(env.now + 64 * t.timers.t1);
    } else {
        env.tm.set_waiting(t);
        t.delete_at = Some(env.now + t.timers.wait);
    }
}

/// Runs the other modules' transaction hooks (`events.rs`) on `t`: `data` is the reply
/// sent (ResponseOut) or picked (OnFailure), `local` when sipvm made it. Nothing is parsed
/// when no module follows transactions.
fn fire(
    env: &mut Env<'_>,
    t: &mut Txn,
    kind: TxEventKind,
    code: u16,
    data: Option<&Bytes>,
    local: bool,
) {
    if env.tm.events.is_empty() || t.req.is_empty() {
        return;
    }
    let Ok(req) = Msg::parse(t.req.clone()) else {
        return;
    };
    let sent = data.and_then(|d| Msg::parse(d.clone()).ok());
    let local_to_tag = match (&sent, local) {
        (Some(m), true) => m.to().ok().and_then(|t| t.tag()).map(str::to_string),
        _ => None,
    };
    let branch = match kind {
        TxEventKind::ResponseOut if !local => t.relayed.or(t.picked.map(|(i, _)| i)),
        _ => t.picked.map(|(i, _)| i),
    };
    let ev = TxEvent {
        kind,
        txn: t,
        req: &req,
        reply: if local { None } else { sent.as_ref() },
        code,
        local_to_tag: local_to_tag.as_deref(),
        branch,
    };
    let mut tenv = TxEnv {
        shared: env.shared,
        locals: env.locals,
        out: env.out,
    };
    let clear = env.tm.events.run(&mut tenv, &ev);
    t.flags &= !clear;
}

/// Once the final reply is sent no route runs again: what only routes and local replies need
/// is let go, so a transaction waiting out its timers holds little more than its last reply.
/// Pending branches keep their request (their 487 still needs an ACK), and so do branches
/// that timed out.
fn compact(t: &mut Txn) {
    t.req = Bytes::new();
    t.edits = None;
    t.rpl = None;
    t.rr = None;
    t.avps = Vec::new();
    t.xavps = None;
    // A branch that timed out keeps its request: a late provisional still needs its CANCEL,
    // a late final reply its ACK.
    for b in t.branches.iter_mut().filter(|b| b.done && !b.timed_out) {
        b.req = Bytes::new();
        b.reply = None;
    }
}

/// A final reply sipvm makes itself (t_reply, timeouts).
pub fn reply_local(env: &mut Env<'_>, t: &mut Txn, code: u16, reason: &str) -> bool {
    let lumps = t.rpl.take();
    let ok = reply_local_with(env, t, code, reason, lumps.as_deref());
    if t.phase == Phase::Proceeding {
        t.rpl = lumps;
    }
    ok
}

/// [`reply_local`] with the script's reply lumps of the running route.
pub fn reply_local_with(
    env: &mut Env<'_>,
    t: &mut Txn,
    code: u16,
    reason: &str,
    lumps: Option<&send::ReplyLumps>,
) -> bool {
    match local_reply_with(t, code, reason, lumps) {
        Some(data) => {
            reply_up(env, t, code, data, true);
            true
        }
        None => false,
    }
}

/// Stops a pending branch: CANCEL now if it has had a provisional reply, else as soon as it
/// has one (RFC 3261 §9.1). Non-INVITE branches are left to finish.
fn cancel_branch(env: &mut Env<'_>, t: &mut Txn, i: usize) {
    if !t.invite {
        return;
    }
    let t1 = t.timers.t1;
    let b = &mut t.branches[i];
    if b.done || b.cancel.is_some() {
        return;
    }
    if b.status < 100 {
        // Not yet: the INVITE keeps being retransmitted until a provisional reply says it
        // arrived (Kamailio's cancel_b_method 1), then the CANCEL goes.
        b.cancel_pending = true;
        return;
    }
    b.retr_at = None;
    let Some(c) = Msg::parse(b.req.clone())
        .ok()
        .and_then(|r| build::cancel(&r))
    else {
        return;
    };
    send_down(env.out, b, c.clone());
    arm_cancel(b, c, t1, env.now);
}

/// CANCEL retransmissions (timer E of the CANCEL's own transaction) stop after this many:
/// T1 doubling to T2 reaches timer F's 64·T1 in about ten.
const CANCEL_TRIES: u8 = 10;

/// Keeps the CANCEL just sent on `b` for retransmission over UDP.
fn arm_cancel(b: &mut Branch, c: Bytes, t1: u64, now: u64) {
    b.cancel_pending = false;
    b.cancel = Some(c);
    b.cancel_tries = 0;
    if b.proto == Proto::Udp {
        b.cancel_ivl = t1;
        b.cancel_at = Some(now + t1);
    }
}

/// CANCEL of every pending branch (a CANCEL from upstream, a 2xx or 6xx on one branch).
pub fn cancel_all(env: &mut Env<'_>, t: &mut Txn, except: Option<usize>) {
    for i in 0..t.branches.len() {
        if Some(i) != except {
            cancel_branch(env, t, i);
        }
    }
}

/// Runs a tm route (failure or onreply) of the transaction's own program on `msg`, with the
/// transaction's script state; returns how it ended.
#[allow(clippy::too_many_arguments)]
fn run_route(
    env: &mut Env<'_>,
    vm: &mut Vm,
    t: &mut Txn,
    route: RouteIdx,
    kind: RouteKind,
    msg: &Msg,
    src: SocketAddr,
    reply: Option<(usize, u16, String)>,
) -> Option<End> {
    let running = t.running.clone();
    let snap = &running.snapshot;
    let local = env.locals.get(t.local)?;
    let mut c = Ctx::new(msg, src, local, env.locals, env.out, snap, env.shared);
    c.running = Some(&running);
    c.flags = t.flags;
    c.avps = std::mem::take(&mut t.avps);
    if let Some(x) = t.xavps.take() {
        c.slots.put(*x);
    }
    c.force_rport = t.force_rport;
    if kind == RouteKind::Failure {
        c.edits = t.edits.as_deref().cloned().unwrap_or_default();
        c.ruri = t.ruri.clone();
        if let Some(l) = t.rpl.as_deref() {
            c.slots.put(l.clone());
        }
        if let Some(rr) = t.rr.as_deref() {
            c.slots.put(rr.clone());
        }
    }
    let tm = c.slots.tm();
    tm.route = Some(kind);
    tm.armed = t.armed;
    if kind == RouteKind::Failure {
        // A failure route must arm the next one itself (Kamailio's rule).
        tm.armed.failure = None;
    }
    if let Some((branch, code, reason)) = reply {
        // Branch 0's flags are those of the branch that replied (Kamailio's tm does the same).
        c.bflags = t.branches.get(branch).map_or(0, |b| b.bflags);
        let tm = c.slots.tm();
        tm.branch = Some(branch);
        tm.reply = Some((code, reason));
    }
    let r = lend(&mut c, t, |c| {
        let r = vm.run(&snap.program, route, c);
        super::branch::run_pending(c, vm, &snap.program);
        c.finish();
        r
    });
    let (avps, flags, armed) = (std::mem::take(&mut c.avps), c.flags, c.slots.tm().armed);
    let xavps = c
        .slots
        .take::<crate::modules::pv::xavp::Xavps>()
        .filter(|x| !x.is_empty())
        .map(Box::new);
    drop(c);
    t.avps = avps;
    t.xavps = xavps;
    t.flags = flags;
    t.armed = armed;
    match r {
        Ok(o) => Some(o.end),
        Err(e) => {
            tracing::error!("{kind:?} route: {}", e.render(&snap.program));
            running.counters.runtime_error();
            None
        }
    }
}

/// Every branch has a final answer: pick the best (§16.7), give the failure route its
/// chance, and send the result upstream unless the route relayed anew or replied.
pub fn all_branches_done(env: &mut Env<'_>, vm: &mut Vm, t: &mut Txn) {
    if t.phase != Phase::Proceeding {
        return;
    }
    let Some((i, code)) = t.pick() else {
        return;
    };
    t.picked = Some((i, code));
    let picked = t.branches[i].reply.clone();
    fire(
        env,
        t,
        TxEventKind::OnFailure,
        code,
        picked.as_ref(),
        picked.is_none(),
    );
    if let Some(route) = t.armed.failure.take() {
        t.picked = Some((i, code));
        let reason = reason_of(&t.branches[i]);
        let before = t.branches.len();
        if let Ok(req) = Msg::parse(t.req.clone()) {
            t.in_failure = true;
            let src = t.src;
            run_route(
                env,
                vm,
                t,
                route,
                RouteKind::Failure,
                &req,
                src,
                Some((i, code, reason)),
            );
            t.in_failure = false;
        }
        drop_replies(t, before);
        if t.phase != Phase::Proceeding || t.branches.iter().any(Branch::pending) {
            return;
        }
    }
    send_best(env, t, i, code);
}

/// Kamailio's `failure_reply_mode` after a failure route: the replies of branches before
/// `before` (the ones that had failed) stop competing when the route forked anew (1, 3), or
/// those of steps before the last (2); mode 1 drops them even without a new step.
fn drop_replies(t: &mut Txn, before: usize) {
    let forked = t.branches.len() > before;
    let upto = match (t.timers.failure_reply_mode, forked) {
        (1, _) | (3, true) => before,
        (2, true) => t.step_start,
        _ => 0,
    };
    for b in &mut t.branches[..upto] {
        b.dropped = true;
    }
    if forked {
        t.step_start = before;
    }
}

fn reason_of(b: &Branch) -> String {
    if b.timed_out {
        return "Request Timeout".into();
    }
    b.reply
        .as_ref()
        .and_then(|r| Msg::parse(r.clone()).ok())
        .and_then(|m| m.reason().map(|r| String::from_utf8_lossy(r).into_owned()))
        .unwrap_or_default()
}

/// Sends branch `i`'s final reply upstream: a timeout becomes our own 408, a 503 becomes
/// 500 (RFC 3261 §16.7 step 6, Kamailio's remap_503_500).
fn send_best(env: &mut Env<'_>, t: &mut Txn, i: usize, code: u16) {
    t.relayed = Some(i);
    let b = &t.branches[i];
    if b.timed_out || b.reply.is_none() {
        reply_local(env, t, 408, "Request Timeout");
        return;
    }
    let Some(m) = b.reply.as_ref().and_then(|r| Msg::parse(r.clone()).ok()) else {
        return;
    };
    let Some(mut data) = build::relayed(&m) else {
        return;
    };
    let mut code = code;
    if code == 503 {
        let mut v = data.to_vec();
        if v.get(8..11) == Some(b"503") {
            v[8..11].copy_from_slice(b"500");
            code = 500;
        }
        data = Bytes::from(v);
    }
    reply_up(env, t, code, data, false);
}

/// A reply whose top Via carries one of our branches. False when no such transaction
/// exists any more (the caller relays it statelessly, as a proxy must for 2xx).
pub fn on_reply(
    env: &mut Env<'_>,
    vm: &mut Vm,
    id: u64,
    idx: usize,
    msg: &Msg,
    src: SocketAddr,
) -> bool {
    let Some(tref) = env.tm.get(id) else {
        return false;
    };
    env.tm.stats.rpl_received.fetch_add(1, Relaxed);
    let mut g = lock(&tref);
    let t = &mut *g;
    let Some(code) = msg.status() else {
        return true;
    };
    if idx >= t.branches.len() {
        return true;
    }
    if msg.cseq().map(|c| c.method == "CANCEL").unwrap_or(false) {
        // The answer to our CANCEL: stop resending it.
        t.branches[idx].cancel_at = None;
        env.tm.schedule(t);
        return true;
    }
    if t.branches[idx].done {
        // A retransmitted final reply: ACK it again, pass 2xx on (end to end). On a branch
        // that timed out, a late provisional gets the branch cancelled and a late negative
        // reply its first ACK.
        let (t1, now, invite) = (t.timers.t1, env.now, t.invite);
        let b = &mut t.branches[idx];
        if invite && code >= 300 {
            if b.ack.is_none() && b.timed_out {
                b.ack = Msg::parse(b.req.clone())
                    .ok()
                    .and_then(|r| build::ack(&r, msg));
                b.cancel_at = None;
            }
            if let Some(a) = b.ack.clone() {
                send_down(env.out, b, a);
            }
        } else if invite && code >= 200 {
            b.cancel_at = None;
            if let Some(d) = build::relayed(msg) {
                send_up(env.out, env.locals, t, d);
            }
        } else if invite && b.timed_out && b.cancel.is_none() {
            if let Some(c) = Msg::parse(b.req.clone())
                .ok()
                .and_then(|r| build::cancel(&r))
            {
                send_down(env.out, b, c.clone());
                arm_cancel(b, c, t1, now);
            }
        }
        env.tm.schedule(t);
        return true;
    }
    let reason = msg
        .reason()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .unwrap_or_default();
    let now = env.now;
    {
        let timers = t.timers;
        let invite = t.invite;
        let b = &mut t.branches[idx];
        b.replied = true;
        b.status = b.status.max(code);
        if code < 200 {
            if invite {
                b.retr_at = None;
                b.fr_at = Some(now + timers.fr_inv);
            } else if b.retr_at.is_some() {
                b.retr_ivl = timers.t2;
            }
        } else {
            b.done = true;
            b.status = code;
            b.retr_at = None;
            b.fr_at = None;
            b.cancel_at = None;
            // Kept for the failure route and relaying; a 2xx goes upstream at once.
            if code >= 300 {
                b.reply = Some(Bytes::copy_from_slice(msg.as_bytes()));
            }
        }
    }
    if code < 200 && t.branches[idx].cancel_pending {
        cancel_branch(env, t, idx);
    }
    if t.invite && code >= 300 {
        let b = &mut t.branches[idx];
        let ack = Msg::parse(b.req.clone())
            .ok()
            .and_then(|r| build::ack(&r, msg));
        if let Some(a) = ack {
            send_down(env.out, b, a.clone());
            b.ack = Some(a);
        }
        // The request is answered: its CANCEL needs no more resending.
        b.cancel_at = None;
    }
    let mut dropped = false;
    t.relayed = Some(idx);
    if let Some(route) = t.armed.reply {
        let end = run_route(
            env,
            vm,
            t,
            route,
            RouteKind::OnReply,
            msg,
            src,
            Some((idx, code, reason)),
        );
        dropped = end == Some(End::Drop) && code < 200;
    }
    if code < 200 {
        if code > 100 && !dropped && t.phase == Phase::Proceeding {
            if let Some(d) = build::relayed(msg) {
                reply_up(env, t, code, d, false);
            }
        }
    } else if code < 300 {
        if let Some(d) = build::relayed(msg) {
            if t.phase == Phase::Proceeding {
                reply_up(env, t, code, d, false);
            } else if t.invite {
                // Every 2xx of an INVITE goes upstream, even after another branch's.
                send_up(env.out, env.locals, t, d);
            }
        }
        if t.invite {
            cancel_all(env, t, Some(idx));
        }
    } else {
        if code >= 600 && t.invite {
            cancel_all(env, t, Some(idx));
        }
        if t.all_done() {
            all_branches_done(env, vm, t);
        }
    }
    env.tm.schedule(t);
    true
}

/// Timers of transaction `id` that are due at `env.now`.
pub fn on_timer(env: &mut Env<'_>, vm: &mut Vm, id: u64) {
    let Some(tref) = env.tm.get(id) else {
        return;
    };
    let mut g = lock(&tref);
    let t = &mut *g;
    let now = env.now;
    t.scheduled = None;
    if t.delete_at.is_some_and(|d| d <= now) {
        env.tm.remove(t);
        return;
    }
    if let Some(g_at) = t.g_at.filter(|g| *g <= now) {
        let _ = g_at;
        if let Some(r) = t.last_reply.clone() {
            send_up(env.out, env.locals, t, r);
        }
        t.g_ivl = (t.g_ivl * 2).min(t.timers.t2);
        t.g_at = Some(now + t.g_ivl);
    }
    let timers = t.timers;
    if t.phase == Phase::Proceeding && t.lifetime_at.is_some_and(|l| l <= now) {
        // The lifetime is over: every pending branch ends now, as on its fr timer.
        t.lifetime_at = None;
        for b in t.branches.iter_mut().filter(|b| !b.done) {
            b.fr_at = Some(now);
        }
        if t.branches.is_empty() {
            t.delete_at = Some(now);
        }
    }
    let mut timed_out = Vec::new();
    for (i, b) in t.branches.iter_mut().enumerate() {
        if b.retr_at.is_some_and(|r| r <= now) {
            send_down(env.out, b, b.req.clone());
            b.retr_ivl = if t.invite {
                b.retr_ivl * 2
            } else {
                (b.retr_ivl * 2).min(timers.t2)
            };
            b.retr_at = Some(now + b.retr_ivl);
        }
        if b.cancel_at.is_some_and(|r| r <= now) {
            if b.cancel_tries >= CANCEL_TRIES {
                b.cancel_at = None;
            } else {
                if let Some(c) = b.cancel.clone() {
                    send_down(env.out, b, c);
                }
                b.cancel_tries += 1;
                b.cancel_ivl = (b.cancel_ivl * 2).min(timers.t2);
                b.cancel_at = Some(now + b.cancel_ivl);
            }
        }
        if b.fr_at.is_some_and(|f| f <= now) && !b.done {
            b.fr_at = None;
            b.retr_at = None;
            b.done = true;
            b.timed_out = true;
            let had_provisional = b.status >= 100;
            b.status = 408;
            if had_provisional {
                timed_out.push(i);
            }
        }
    }
    for i in timed_out {
        // A ringing branch that timed out is cancelled (it may still be ringing); its 487
        // gets an ACK when it comes (the request is kept, see `compact`).
        let b = &mut t.branches[i];
        if t.invite && b.cancel.is_none() {
            if let Some(c) = Msg::parse(b.req.clone())
                .ok()
                .and_then(|r| build::cancel(&r))
            {
                send_down(env.out, b, c.clone());
                arm_cancel(b, c, timers.t1, now);
            }
        }
    }
    if t.phase == Phase::Proceeding && t.all_done() {
        all_branches_done(env, vm, t);
    }
    env.tm.schedule(t);
}

/// Every due timer of the table.
pub fn tick(env: &mut Env<'_>, vm: &mut Vm, scratch: &mut Vec<u64>) {
    scratch.clear();
    env.tm.due(env.now, scratch);
    for &id in scratch.iter() {
        on_timer(env, vm, id);
    }
    env.tm.trim_when_idle(env.now);
}

/// An ACK for a negative final reply of ours (hop by hop): it ends timer G; the
/// transaction waits to absorb stray retransmissions. True when absorbed.
pub fn absorb_ack(tm: &Tm, msg: &Msg) -> bool {
    let Some(key) = super::Key::of_invite(msg) else {
        return false;
    };
    let Some(tref) = tm.find(&key) else {
        return false;
    };
    let mut t = lock(&tref);
    if !t.invite || t.status < 300 {
        return false;
    }
    if t.phase == Phase::Completed {
        let now = tm.now();
        t.g_at = None;
        tm.set_waiting(&mut t);
        t.delete_at = Some(now + t.timers.wait);
        tm.schedule(&mut t);
    }
    true
}
