//! tm's script functions: creating the transaction, relaying (forking over the destination
//! set), replying statefully, arming routes, and the questions failure routes ask.

use super::flow::{self, Env};
use super::state::{TmSlot, Tx};
use super::txn::{Branch, Phase, Txn};
use super::Tm;
use super::{lock, Key, Lookup, Timers, TxnRef};
use crate::forward as send;
use crate::host::natives::{arg_code_reason, arg_int, arg_str};
use crate::host::Ctx;
use crate::modules::rr::record::RrState;
use crate::sip::{Method, Uri};
use crate::transport::Proto;
use bytes::Bytes;
use sipvm_vm::{ArgValue, HostError, RouteKind};

fn env<'e>(ctx: &'e mut Ctx<'_>) -> Env<'e> {
    let tm = ctx.state::<Tm>();
    Env {
        tm,
        shared: ctx.shared,
        locals: ctx.locals,
        out: ctx.out,
        now: tm.now(),
    }
}

/// The request's own transaction key, computed once per message (`t_check_trans` and then
/// `t_relay` both need it).
fn own_key(ctx: &mut Ctx<'_>) -> Option<Key> {
    if ctx.slots.tm().key.is_none() {
        ctx.slots.tm().key = Key::of(ctx.msg);
    }
    ctx.slots.tm().key.clone()
}

/// What `ensure` found.
enum Ensured {
    Ready,
    /// A retransmission: the last reply was resent; the script should end.
    Retransmission,
    Failed,
}

/// The request's transaction, created when there is none (`t_newtran`). It answers nothing
/// itself: `t_relay` sends the 100 Trying (so a 404 the script sends after `t_newtran` goes
/// alone, as in Kamailio).
fn ensure(ctx: &mut Ctx<'_>) -> Ensured {
    if ctx.slots.tm().has_tx() {
        return Ensured::Ready;
    }
    let (Some(key), Some(running)) = (own_key(ctx), ctx.running) else {
        return Ensured::Failed;
    };
    let tm = ctx.state::<Tm>();
    let now = tm.now();
    let invite = ctx.msg.method() == Some(Method::Invite);
    let mut timers = Timers::from_snapshot(&running.snapshot);
    if let Some((inv, fr)) = ctx.slots.tm().fr {
        if inv > 0 {
            timers.fr_inv = inv;
        }
        if fr > 0 {
            timers.fr = fr;
        }
    }
    let k2 = key.clone();
    let made = tm.find_or_insert(key, |id| Txn {
        id,
        key: k2,
        invite,
        req: Bytes::copy_from_slice(ctx.msg.as_bytes()),
        src: ctx.src,
        local: ctx.local.index,
        proto: ctx.local.proto,
        reply_dst: send::reply_destination(ctx),
        force_rport: ctx.force_rport,
        running: running.clone(),
        edits: None,
        ruri: None,
        flags: 0,
        avps: Vec::new(),
        xavps: None,
        armed: Default::default(),
        timers,
        branches: Vec::new(),
        phase: Phase::Proceeding,
        last_reply: None,
        status: 0,
        g_at: None,
        g_ivl: 0,
        // A transaction nobody answers or relays is dropped after Kamailio's lifetimes; one
        // with branches ends them then (see `flow::on_timer`).
        delete_at: Some(now + if invite { 180_000 } else { 32_000 }),
        lifetime_at: Some(now + if invite { 180_000 } else { 32_000 }),
        rr: None,
        canceled: false,
        in_failure: false,
        step_start: 0,
        trying: false,
        picked: None,
        scheduled: None,
        relayed: None,
        rpl: None,
    });
    match made {
        Lookup::New(t) => {
            ctx.state::<Tm>().schedule(&mut lock(&t));
            ctx.slots.tm().tx = Tx::Held(t);
            Ensured::Ready
        }
        Lookup::Existing(t) => {
            retransmit(ctx, &t);
            Ensured::Retransmission
        }
    }
}

fn retransmit(ctx: &mut Ctx<'_>, t: &TxnRef) {
    let g = lock(t);
    let again = match g.last_reply.clone() {
        Some(r) => Some(r),
        // The 100 is not kept (memory per transaction in flight): made again.
        None if g.trying && g.phase == Phase::Proceeding => flow::local_reply(&g, 100, TRYING),
        None => None,
    };
    if let Some(r) = again {
        flow::send_up(ctx.out, ctx.locals, &g, r);
    }
}

/// Kamailio's text for the 100 it sends for a new INVITE.
const TRYING: &str = "trying -- your call is important to us";

/// Sends the request to every target of the destination set (the Request-URI with `$du`,
/// then appended branches), each as a new client branch. With a branch_route armed the
/// targets wait in `ctx.slots.tm().pending` for [`super::branch::run_pending`]. Returns how many
/// went out (or wait).
fn add_branches(ctx: &mut Ctx<'_>, t: &mut Txn) -> usize {
    let mut targets: Vec<(String, Option<String>, u32)> =
        vec![(ctx.ruri_str().to_string(), ctx.dst_uri.clone(), ctx.bflags)];
    let flags = std::mem::take(&mut ctx.branch_flags);
    targets.extend(
        std::mem::take(&mut ctx.branches)
            .into_iter()
            .enumerate()
            .map(|(i, u)| (u, None, flags.get(i).copied().unwrap_or(0))),
    );
    if ctx.slots.tm().route != Some(RouteKind::Failure) {
        t.edits = (!ctx.edits.is_empty()).then(|| Box::new(ctx.edits.clone()));
        t.rpl = ctx
            .slots
            .get::<send::ReplyLumps>()
            .map(|l| Box::new(l.clone()));
        t.ruri = ctx.ruri.clone();
        t.flags = ctx.flags;
        t.avps = ctx.avps.clone();
        t.xavps = ctx
            .slots
            .get::<crate::modules::pv::xavp::Xavps>()
            .filter(|x| !x.is_empty())
            .map(|x| Box::new(x.clone()));
        t.rr = ctx
            .slots
            .get::<RrState>()
            .filter(|r| **r != RrState::default())
            .map(|r| Box::new(r.clone()));
    }
    t.armed = ctx.slots.tm().armed;
    if t.canceled {
        return 0;
    }
    if ctx.slots.tm().armed.branch.is_some() {
        let n = targets.len();
        ctx.slots.tm().pending.extend(targets);
        return n;
    }
    t.branches.reserve_exact(targets.len());
    let mut sent = 0;
    for (uri, dst_uri, bflags) in targets {
        if add_one(ctx, t, uri, dst_uri, bflags) {
            sent += 1;
        }
    }
    sent
}

/// One client branch to `uri` (via `dst_uri` when set): built from the script's state, sent,
/// its timers started, `bflags` kept with it. False when it has nowhere to go.
pub fn add_one(
    ctx: &mut Ctx<'_>,
    t: &mut Txn,
    uri: String,
    dst_uri: Option<String>,
    bflags: u32,
) -> bool {
    let now = ctx.state::<Tm>().now();
    // Kamailio's max_branches (12) over all the transaction's rounds: a failure route that
    // relays again forever cannot grow a transaction without bound.
    let max = ctx
        .snap
        .global("max_branches")
        .last()
        .map(|g| g.value.to_int())
        .filter(|n| *n > 0)
        .unwrap_or(12) as usize;
    if t.branches.len() >= max {
        tracing::warn!("t_relay: max_branches ({max}) reached, {uri} not tried");
        return false;
    }
    let Some(dst) = next_hop(dst_uri.as_deref().unwrap_or(&uri)) else {
        tracing::debug!("t_relay: no next hop for {uri}");
        return false;
    };
    let proto = send::uri_proto(dst_uri.as_deref().unwrap_or(&uri));
    let Some(out) = send::sending_socket(ctx, proto, dst) else {
        tracing::debug!("t_relay: no {proto} socket for {dst}");
        return false;
    };
    let idx = t.branches.len();
    let branch = super::key::branch_value(t.id, idx);
    let ruri = (uri != ctx.msg.ruri_str()).then_some(uri.as_str());
    let Ok(buf) = send::request_for(ctx, ruri, &branch, out) else {
        return false;
    };
    let data = Bytes::from(buf);
    let (local, proto) = (out.index, out.proto);
    let flags = ctx.send_flags;
    send::send_request(ctx.out, local, proto, dst, data.clone(), flags);
    let udp = proto == Proto::Udp;
    t.branches.reserve_exact(1);
    t.branches.push(Branch {
        retr_at: udp.then_some(now + t.timers.t1),
        retr_ivl: t.timers.t1,
        fr_at: Some(now + t.timers.fr),
        bflags,
        ..Branch::new(uri, dst, local, proto, data)
    });
    // Branches run on their own timers now; the lifetime still bounds them.
    t.delete_at = None;
    ctx.state::<Tm>().schedule(t);
    true
}

fn next_hop(uri: &str) -> Option<std::net::SocketAddr> {
    let u = Uri::parse(uri).ok()?;
    let default = if u.scheme() == crate::sip::Scheme::Sips {
        5061
    } else {
        5060
    };
    send::resolve(u.host(), u.port(), default)
}

/// Relays on the script's transaction (held or borrowed).
fn relay_on_tx(ctx: &mut Ctx<'_>) -> usize {
    match std::mem::take(&mut ctx.slots.tm().tx) {
        Tx::None => 0,
        Tx::Held(t) => {
            let n = add_branches(ctx, &mut lock(&t));
            ctx.slots.tm().tx = Tx::Held(t);
            n
        }
        Tx::Lent(mut t) => {
            let n = add_branches(ctx, t.get());
            ctx.slots.tm().tx = Tx::Lent(t);
            n
        }
    }
}

/// `t_relay([host, port])`.
fn t_relay(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if args.len() >= 2 {
        let host = arg_str(args, 0).into_owned();
        let port = arg_int(args, 1)?;
        ctx.dst_uri = Some(format!("sip:{host}:{port}"));
    }
    if ctx.slots.tm().route == Some(RouteKind::Failure) {
        return Ok(if relay_on_tx(ctx) > 0 { 1 } else { -1 });
    }
    match ctx.msg.method() {
        Some(Method::Ack) => {
            // ACK for a 2xx has no transaction: it goes on statelessly (end to end), over the
            // transport the next hop asks for, as the INVITE did.
            let Some(dst) = send::next_hop(ctx) else {
                return Ok(-1);
            };
            let proto = send::next_hop_proto(ctx);
            return Ok(if send::forward_over(ctx, dst, proto)? {
                1
            } else {
                -1
            });
        }
        Some(Method::Cancel) => return t_relay_cancel(ctx),
        _ => {}
    }
    match ensure(ctx) {
        Ensured::Ready => {}
        Ensured::Retransmission => return Ok(0),
        Ensured::Failed => return Ok(-1),
    }
    auto_trying(ctx);
    if relay_on_tx(ctx) > 0 {
        Ok(1)
    } else {
        // Nothing went out: the transaction is forgotten so the script can answer itself.
        if let Tx::Held(t) = std::mem::take(&mut ctx.slots.tm().tx) {
            let g = lock(&t);
            if g.branches.is_empty() {
                ctx.state::<Tm>().remove(&g);
            }
        }
        Ok(-1)
    }
}

/// CANCEL: answered 200 at once, then every pending branch of the INVITE is cancelled; the
/// INVITE ends with whatever the branches answer (487). Unmatched: relayed statelessly.
fn t_relay_cancel(ctx: &mut Ctx<'_>) -> Result<i64, HostError> {
    let Some(inv) = Key::of_invite(ctx.msg).and_then(|k| ctx.state::<Tm>().find(&k)) else {
        let Some(dst) = send::next_hop(ctx) else {
            return Ok(-1);
        };
        let proto = send::next_hop_proto(ctx);
        return Ok(if send::forward_over(ctx, dst, proto)? {
            1
        } else {
            -1
        });
    };
    send::reply(ctx, 200, "canceling", &[])?;
    let mut e = env(ctx);
    let mut g = lock(&inv);
    g.canceled = true;
    flow::cancel_all(&mut e, &mut g, None);
    e.tm.schedule(&mut g);
    Ok(1)
}

/// Kamailio's auto_inv_100: an INVITE being relayed (or suspended, as `t_suspend` does)
/// answers 100 Trying first, once, unless a reply went up already.
pub fn auto_trying(ctx: &mut Ctx<'_>) {
    if ctx.msg.method() != Some(Method::Invite) {
        return;
    }
    let Tx::Held(t) = &ctx.slots.tm().tx else {
        return;
    };
    let t = t.clone();
    let mut g = lock(&t);
    if g.trying || g.last_reply.is_some() || g.phase != Phase::Proceeding {
        return;
    }
    // Built from the request already parsed, not from the transaction's copy.
    let trying = send::build_local_reply(ctx.msg, ctx.src, ctx.force_rport, 100, TRYING, &[]);
    if let Ok(data) = trying {
        g.trying = true;
        let mut e = env(ctx);
        flow::reply_up(&mut e, &mut g, 100, Bytes::from(data), true);
    }
}

/// `t_newtran()`.
fn t_newtran(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(match ensure(ctx) {
        Ensured::Ready => 1,
        Ensured::Retransmission => 0,
        Ensured::Failed => -1,
    })
}

/// `t_check_trans()`: Kamailio's answers: CANCEL → whether its INVITE exists; a
/// retransmission → resend the last reply and end the script; an ACK of a negative reply →
/// absorbed, end; an ACK after a 2xx (end to end) → 1; otherwise -1.
fn t_check_trans(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if ctx.slots.tm().route.is_some() {
        return Ok(1);
    }
    if !ctx.msg.is_request() {
        let ours = ctx
            .msg
            .top_via()
            .ok()
            .and_then(|v| v.branch())
            .and_then(super::key::parse_branch)
            .is_some_and(|(id, _)| ctx.state::<Tm>().get(id).is_some());
        return Ok(if ours { 1 } else { -1 });
    }
    match ctx.msg.method() {
        Some(Method::Cancel) => {
            let found = Key::of_invite(ctx.msg).and_then(|k| ctx.state::<Tm>().find(&k));
            Ok(if found.is_some() { 1 } else { -1 })
        }
        Some(Method::Ack) => {
            let Some(t) = own_key(ctx).and_then(|k| ctx.state::<Tm>().find(&k)) else {
                return Ok(-1);
            };
            let status = lock(&t).status;
            if (200..300).contains(&status) {
                return Ok(1);
            }
            flow::absorb_ack(ctx.state::<Tm>(), ctx.msg);
            Ok(0)
        }
        _ => match own_key(ctx).and_then(|k| ctx.state::<Tm>().find(&k)) {
            Some(t) => {
                retransmit(ctx, &t);
                Ok(0)
            }
            None => Ok(-1),
        },
    }
}

/// A stateful reply on the script's transaction; false without one.
pub fn reply_stateful(ctx: &mut Ctx<'_>, code: u16, reason: &str) -> Option<bool> {
    let lumps = ctx.slots.get::<send::ReplyLumps>().cloned();
    let mut tx = std::mem::take(&mut ctx.slots.tm().tx);
    let r = match &mut tx {
        Tx::None => None,
        Tx::Held(t) => {
            let mut g = lock(t);
            let mut e = env(ctx);
            let ok = flow::reply_local_with(&mut e, &mut g, code, reason, lumps.as_ref());
            e.tm.schedule(&mut g);
            Some(ok)
        }
        Tx::Lent(t) => {
            let t = t.get();
            let mut e = env(ctx);
            let ok = flow::reply_local_with(&mut e, t, code, reason, lumps.as_ref());
            e.tm.schedule(t);
            Some(ok)
        }
    };
    ctx.slots.tm().tx = tx;
    r
}

/// `t_reply(code, reason)`: needs a transaction (`t_newtran`, or a tm route).
fn t_reply(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (code, reason) = arg_code_reason(args)?;
    match reply_stateful(ctx, code, &reason) {
        Some(true) => Ok(1),
        Some(false) => Ok(-1),
        None => {
            tracing::warn!("t_reply: no transaction (call t_newtran first)");
            Ok(-1)
        }
    }
}

fn route_arg(args: &[ArgValue<'_>]) -> Option<sipvm_vm::RouteIdx> {
    match args.first() {
        Some(ArgValue::Route(r)) => Some(*r),
        _ => None,
    }
}

fn t_on_failure(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.slots.tm().armed.failure = route_arg(args);
    Ok(1)
}

fn t_on_reply(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.slots.tm().armed.reply = route_arg(args);
    Ok(1)
}

fn t_on_branch(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.slots.tm().armed.branch = route_arg(args);
    Ok(1)
}

/// `t_is_set("failure_route"|"branch_route"|"onreply_route")`.
fn t_is_set(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let a = ctx.slots.tm().armed;
    let set = match &*arg_str(args, 0) {
        "failure_route" => a.failure.is_some(),
        "branch_route" => a.branch.is_some(),
        "onreply_route" => a.reply.is_some(),
        other => {
            return Err(HostError(format!(
                "t_is_set: unknown route type \"{other}\""
            )))
        }
    };
    Ok(if set { 1 } else { -1 })
}

fn yes(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

/// The branch a failure route is about (the picked one) or an onreply route's branch.
fn with_branch<R>(ctx: &mut Ctx<'_>, f: impl FnOnce(&Branch) -> R) -> Option<R> {
    let idx = ctx.slots.tm().branch;
    ctx.slots
        .tm()
        .with(|t| {
            let i = idx.or(t.picked.map(|p| p.0))?;
            t.branches.get(i).map(f)
        })
        .flatten()
}

fn t_branch_timeout(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(yes(with_branch(ctx, |b| b.timed_out).unwrap_or(false)))
}

/// Whether the branch had any reply (a timeout after a 180 counts as replied).
fn t_branch_replied(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let replied = with_branch(ctx, |b| b.replied).unwrap_or(false);
    Ok(yes(replied))
}

/// Whether a branch of the transaction has `f`; false without a transaction.
fn any_branch(ctx: &mut Ctx<'_>, f: impl Fn(&Branch) -> bool) -> Result<i64, HostError> {
    let any = ctx.slots.tm().with(|t| t.branches.iter().any(f));
    Ok(yes(any.unwrap_or(false)))
}

fn t_any_timeout(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    any_branch(ctx, |b| b.timed_out)
}

fn t_any_replied(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    any_branch(ctx, |b| b.replied)
}

fn t_is_canceled(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(yes(ctx.slots.tm().with(|t| t.canceled).unwrap_or(false)))
}

/// The status `t_check_status` tests: the reply in onreply/failure routes, else the last
/// reply sent upstream.
fn status_now(ctx: &mut Ctx<'_>) -> Option<u16> {
    if let Some((code, _)) = &ctx.slots.tm().reply {
        return Some(*code);
    }
    ctx.slots.tm().with(|t| t.status).filter(|s| *s > 0)
}

fn t_check_status(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(code) = status_now(ctx) else {
        return Ok(-1);
    };
    let text = code.to_string();
    let m = match args.first() {
        Some(ArgValue::Regex(re)) => re.is_match(&text),
        _ => {
            let pat = arg_str(args, 0);
            regex::Regex::new(&pat)
                .map_err(|e| HostError(format!("t_check_status: {e}")))?
                .is_match(&text)
        }
    };
    Ok(yes(m))
}

fn t_get_status_code(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(status_now(ctx).map(i64::from).unwrap_or(-1))
}

/// `t_set_fr(fr_inv [, fr])` in milliseconds; 0 keeps a value.
fn t_set_fr(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let inv = arg_int(args, 0)?.clamp(0, super::MAX_TIMER_MS as i64) as u64;
    let fr = if args.len() > 1 {
        arg_int(args, 1)?.clamp(0, super::MAX_TIMER_MS as i64) as u64
    } else {
        0
    };
    ctx.slots.tm().fr = Some((inv, fr));
    ctx.slots.tm().with(|t| {
        if inv > 0 {
            t.timers.fr_inv = inv;
        }
        if fr > 0 {
            t.timers.fr = fr;
        }
    });
    Ok(1)
}

fn t_reset_fr(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.slots.tm().fr = None;
    Ok(1)
}

fn t_release(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if let Tx::Held(t) = std::mem::take(&mut ctx.slots.tm().tx) {
        ctx.state::<Tm>().remove(&lock(&t));
    }
    Ok(1)
}

fn t_lookup_request(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let found = own_key(ctx).and_then(|k| ctx.state::<Tm>().find(&k));
    Ok(yes(found.is_some()))
}

fn t_lookup_cancel(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if ctx.msg.method() != Some(Method::Cancel) {
        return Ok(-1);
    }
    let found = Key::of_invite(ctx.msg).and_then(|k| ctx.state::<Tm>().find(&k));
    Ok(yes(found.is_some()))
}

fn t_retransmit_reply(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    match own_key(ctx).and_then(|k| ctx.state::<Tm>().find(&k)) {
        Some(t) => {
            retransmit(ctx, &t);
            Ok(1)
        }
        None => Ok(-1),
    }
}

/// tmx's `t_precheck_trans()`: whether another worker is handling this request right now
/// (a retransmission racing the original). The table answers directly.
pub fn t_precheck_trans(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if ctx.msg.method() == Some(Method::Ack) || ctx.msg.method() == Some(Method::Cancel) {
        return Ok(-1);
    }
    let found = own_key(ctx).and_then(|k| ctx.state::<Tm>().find(&k));
    Ok(yes(found.is_some()))
}

/// tm's natives.
pub static IMPLS: &[crate::host::Impl] = &[
    crate::host::Impl {
        name: "t_relay",
        f: t_relay,
    },
    crate::host::Impl {
        name: "t_relay_to",
        f: t_relay,
    },
    crate::host::Impl {
        name: "t_relay_to_udp",
        f: t_relay,
    },
    crate::host::Impl {
        name: "t_newtran",
        f: t_newtran,
    },
    crate::host::Impl {
        name: "t_check_trans",
        f: t_check_trans,
    },
    crate::host::Impl {
        name: "t_reply",
        f: t_reply,
    },
    crate::host::Impl {
        name: "t_send_reply",
        f: t_reply,
    },
    crate::host::Impl {
        name: "t_on_failure",
        f: t_on_failure,
    },
    crate::host::Impl {
        name: "t_on_reply",
        f: t_on_reply,
    },
    crate::host::Impl {
        name: "t_on_branch",
        f: t_on_branch,
    },
    crate::host::Impl {
        name: "t_is_set",
        f: t_is_set,
    },
    crate::host::Impl {
        name: "t_branch_timeout",
        f: t_branch_timeout,
    },
    crate::host::Impl {
        name: "t_branch_replied",
        f: t_branch_replied,
    },
    crate::host::Impl {
        name: "t_any_timeout",
        f: t_any_timeout,
    },
    crate::host::Impl {
        name: "t_any_replied",
        f: t_any_replied,
    },
    crate::host::Impl {
        name: "t_is_canceled",
        f: t_is_canceled,
    },
    crate::host::Impl {
        name: "t_check_status",
        f: t_check_status,
    },
    crate::host::Impl {
        name: "t_get_status_code",
        f: t_get_status_code,
    },
    crate::host::Impl {
        name: "t_set_fr",
        f: t_set_fr,
    },
    crate::host::Impl {
        name: "t_reset_fr",
        f: t_reset_fr,
    },
    crate::host::Impl {
        name: "t_release",
        f: t_release,
    },
    crate::host::Impl {
        name: "t_lookup_request",
        f: t_lookup_request,
    },
    crate::host::Impl {
        name: "t_lookup_cancel",
        f: t_lookup_cancel,
    },
    crate::host::Impl {
        name: "t_retransmit_reply",
        f: t_retransmit_reply,
    },
];
