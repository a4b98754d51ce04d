//! How dialogs follow the traffic: made from an initial INVITE (`dlg_manage`, `dlg_flag`),
//! moved on by the INVITE's replies (tm's events), by ACK and BYE (before the script), ended
//! by timeouts and by BYEs sipvm sends both ways.

use super::table::IFLAG_TIMER_NORESET;
use super::table::{ByeTo, Dialog, Dir, Leg, PendingBye, State, IFLAG_TIMEOUT_BYE};
use super::Dlg;
use crate::host::{Ctx, Env, MsgState, Shared};
use crate::modules::tm::events::{TxEnv, TxEvent, TxEventKind};
use crate::sip::{Method, Msg};
use crate::transport::{Local, Outbox, Proto};
use bytes::Bytes;
use sipvm_vm::{RouteKind, Vm};
use std::sync::atomic::Ordering::Relaxed;

/// The dialog part of one message: Kamailio's `_dlg_ctx` (what `$dlg_ctx` reads and writes,
/// the dialog the message belongs to) and `$dlg_var` values set before a dialog exists.
#[derive(Default, Debug)]
pub struct DlgCtx {
    pub on: i64,
    pub flags: u32,
    pub timeout: i64,
    pub to_bye: i64,
    pub to_route: Option<String>,
    /// The message's dialog, once known.
    pub id: Option<u64>,
    pub dir: u8,
    /// Internal flags a dialog made by this message starts with (`dlg_set_property`).
    pub iflags: u32,
    /// The dialog was made by this message (dropped if it gets no transaction).
    pub created: bool,
    pub vars: Vec<(String, String)>,
}

impl MsgState for DlgCtx {}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn tags(msg: &Msg) -> Option<(&str, &str, Option<&str>)> {
    let callid = msg.call_id().ok()?;
    let ftag = msg.from().ok()?.tag()?;
    let ttag = msg.to().ok().and_then(|t| t.tag());
    Some((callid, ftag, ttag))
}

fn first_contact(msg: &Msg) -> String {
    msg.contacts()
        .ok()
        .and_then(|c| c.list.first().map(|c| c.addr.uri().as_str().to_string()))
        .unwrap_or_default()
}

/// The dialog of `ctx`'s message: the one the message made or was matched to, else by its
/// Call-ID and tags (remembered in the slot).
pub fn current(ctx: &mut Ctx<'_>) -> Option<u64> {
    let dlg = ctx.state::<Dlg>();
    if let Some(id) = ctx.slots.get::<DlgCtx>().and_then(|s| s.id) {
        if dlg.table.with(id, |_| ()).is_some() {
            return Some(id);
        }
    }
    let (callid, ftag, ttag) = tags(ctx.msg)?;
    let (id, dir) = dlg.table.find(callid, ftag, ttag)?;
    let s = ctx.slots.entry::<DlgCtx>();
    s.id = Some(id);
    s.dir = dir as u8;
    Some(id)
}

/// Makes the dialog of an initial INVITE (`dlg_manage`, `dlg_flag`). None when the message
/// cannot start one or the table is full.
pub fn create(ctx: &mut Ctx<'_>) -> Option<u64> {
    let msg = ctx.msg;
    if msg.method() != Some(Method::Invite) {
        return None;
    }
    let (callid, ftag, ttag) = tags(msg)?;
    if ttag.is_some() {
        return None;
    }
    let dlg = ctx.state::<Dlg>();
    let now = now_secs();
    let lifetime = timeout_of(dlg, ctx).unwrap_or(dlg.default_timeout);
    let s = ctx.slots.entry::<DlgCtx>();
    let (flags, to_bye, to_route, iflags) = (s.flags, s.to_bye, s.to_route.clone(), s.iflags);
    let vars = std::mem::take(&mut s.vars);
    let caller = Leg {
        tag: ftag.to_string(),
        contact: first_contact(msg),
        cseq: msg.cseq().map(|c| c.seq).unwrap_or(0),
        route_set: msg
            .record_route()
            .map(|r| r.iter().map(|n| n.as_str().to_string()).collect())
            .unwrap_or_default(),
        local: ctx.local.index,
        socket: ctx.local.socket_str(),
        addr: Some(ctx.src),
    };
    let running = ctx.running.cloned();
    let from_uri = msg.from().ok()?.uri().as_str().to_string();
    let to_uri = msg.to().ok()?.uri().as_str().to_string();
    let made = dlg.table.insert(callid, ftag, |h_entry, h_id| Dialog {
        h_entry,
        h_id,
        callid: callid.to_string(),
        from_uri,
        to_uri,
        state: State::Unconfirmed,
        caller,
        callee: Leg::default(),
        init_ts: now,
        start_ts: 0,
        end_ts: 0,
        lifetime,
        timer_at: 0,
        sflags: flags,
        iflags: iflags
            | if to_bye != 0 || dlg.send_bye {
                IFLAG_TIMEOUT_BYE
            } else {
                0
            },
        toroute: to_route,
        profiles: Vec::new(),
        vars,
        running,
        bye_to: None,
    });
    let (id, new) = made?;
    let s = ctx.slots.entry::<DlgCtx>();
    // `dir` stays 0: Kamailio sets it for requests within the dialog only.
    s.id = Some(id);
    s.created |= new;
    Some(id)
}

/// `timeout_avp`'s value when it is an integer above 0 (Kamailio's `get_dlg_timeout`).
fn timeout_of(dlg: &Dlg, ctx: &Ctx<'_>) -> Option<u64> {
    let name = dlg.timeout_avp.as_deref()?;
    match ctx.avps.iter().rev().find(|(n, _)| &**n == name) {
        Some((_, sipvm_vm::Value::Int(n))) if *n > 0 => Some(*n as u64),
        _ => None,
    }
}

/// Route set towards the callee from the 2xx's Record-Route: the entries above our own
/// (nearest first); with none of ours, all of them reversed.
fn callee_route_set(ctx_locals: &[Local], snap: &sipvm_cfg::Snapshot, reply: &Msg) -> Vec<String> {
    let Ok(rr) = reply.record_route() else {
        return Vec::new();
    };
    let ours = rr
        .iter()
        .position(|n| crate::host::ctx::is_local(ctx_locals, snap, n.uri().host(), n.uri().port()));
    let above = match ours {
        Some(i) => &rr[..i],
        None => rr,
    };
    above.iter().rev().map(|n| n.as_str().to_string()).collect()
}

/// tm's event hook: the INVITE's replies move its dialog on; a BYE's final reply lets a
/// deleted dialog go.
pub fn on_tx(env: &mut TxEnv<'_>, ev: &TxEvent<'_>) -> u64 {
    if ev.kind != TxEventKind::ResponseOut {
        return 0;
    }
    let dlg = env.shared.state::<Dlg>();
    if dlg.table.is_empty() {
        return 0;
    }
    let Some((callid, ftag, ttag)) = tags(ev.req) else {
        return 0;
    };
    let method = ev.req.method();
    if method == Some(Method::Bye) && ev.code >= 200 {
        if let Some((id, _)) = dlg.table.find(callid, ftag, ttag) {
            if dlg.table.with(id, |d| d.state == State::Deleted) == Some(true) {
                dlg.table.remove(id);
            }
        }
        return 0;
    }
    if method != Some(Method::Invite) || ttag.is_some() {
        return 0;
    }
    let Some((id, Dir::Downstream)) = dlg.table.find(callid, ftag, None) else {
        return 0;
    };
    let now = now_secs();
    let code = ev.code;
    if code >= 300 {
        let failed = dlg.table.with(id, |d| d.state < State::ConfirmedNa) == Some(true);
        if failed {
            dlg.table.remove(id);
            dlg.table.stats.failed.fetch_add(1, Relaxed);
        }
        return 0;
    }
    let snap = &ev.txn.running.snapshot;
    let callee = ev.reply.filter(|_| code >= 200).map(|r| {
        let local = ev
            .branch
            .and_then(|b| ev.txn.branches.get(b))
            .map_or(ev.txn.local, |b| b.local);
        Leg {
            tag: r.to().ok().and_then(|t| t.tag()).unwrap_or("").to_string(),
            contact: first_contact(r),
            cseq: 0,
            route_set: callee_route_set(env.locals, snap, r),
            local,
            socket: env
                .locals
                .get(local)
                .map(Local::socket_str)
                .unwrap_or_default(),
            addr: ev
                .branch
                .and_then(|b| ev.txn.branches.get(b))
                .map(|b| b.dst),
        }
    });
    dlg.table.with(id, |d| {
        if code < 200 {
            if d.state == State::Unconfirmed {
                d.state = State::Early;
            }
        } else if d.state < State::ConfirmedNa {
            if let Some(leg) = callee {
                d.callee = leg;
            }
            d.state = State::ConfirmedNa;
            d.start_ts = now;
            d.timer_at = now + d.lifetime;
        }
    });
    0
}

/// A request within a dialog, before the script: ACK confirms, BYE deletes, the others
/// move the sender's CSeq on and restart the timeout.
pub fn request_in(shared: &Shared, msg: &Msg, _: std::net::SocketAddr) -> bool {
    let Some(dlg) = shared.try_state::<Dlg>() else {
        return false;
    };
    if !dlg.enabled || dlg.table.is_empty() {
        return false;
    }
    let Some((callid, ftag, Some(ttag))) = tags(msg) else {
        return false;
    };
    let Some((id, dir)) = dlg.table.find(callid, ftag, Some(ttag)) else {
        return false;
    };
    let now = now_secs();
    let method = msg.method();
    let cseq = msg.cseq().map(|c| c.seq).unwrap_or(0);
    dlg.table.with(id, |d| {
        let leg = match dir {
            Dir::Downstream => &mut d.caller,
            Dir::Upstream => &mut d.callee,
        };
        if method != Some(Method::Ack) && cseq > leg.cseq {
            leg.cseq = cseq;
        }
        match method {
            Some(Method::Ack) if d.state == State::ConfirmedNa => {
                d.state = State::Confirmed;
                d.timer_at = d.start_ts + d.lifetime;
            }
            Some(Method::Bye) => d.delete(now),
            _ if d.state == State::Confirmed
                && !dlg.timeout_noreset
                && d.iflags & IFLAG_TIMER_NORESET == 0 =>
            {
                d.timer_at = now + d.lifetime
            }
            _ => {}
        }
    });
    false
}

/// After the script: a dialog the message made without a transaction goes (Kamailio's
/// release at the end of the script); `dlg_flag` makes one for an INVITE being relayed.
pub fn request_done(ctx: &mut Ctx<'_>, _: &mut Vm, _: &sipvm_vm::Program) {
    let Some(dlg) = ctx.shared.try_state::<Dlg>() else {
        return;
    };
    if !dlg.enabled || ctx.msg.method() != Some(Method::Invite) {
        return;
    }
    let has_tx = crate::modules::tm::has_tx(ctx);
    let flagged = dlg.dlg_flag.is_some_and(|f| ctx.flags & (1u64 << f) != 0);
    if flagged && has_tx {
        create(ctx);
    }
    if let Some(s) = ctx.slots.get::<DlgCtx>() {
        if s.created && !has_tx {
            if let Some(id) = s.id {
                dlg.table.remove(id);
            }
        }
    }
}

/// A reply to a BYE sipvm sent: ours to absorb.
pub fn reply_in(shared: &Shared, msg: &Msg) -> bool {
    let Some(dlg) = shared.try_state::<Dlg>() else {
        return false;
    };
    let Some(branch) = msg.top_via().ok().and_then(|v| v.branch()) else {
        return false;
    };
    if !branch.starts_with(BYE_BRANCH) {
        return false;
    }
    dlg.table.answered(branch);
    true
}

/// The Via branch prefix of BYEs sipvm makes.
pub const BYE_BRANCH: &str = "z9hG4bKsvdlg";

/// Builds the BYE towards one side (`to_callee`), moving the other side's CSeq on.
fn build_bye(
    d: &mut Dialog,
    to_callee: bool,
    locals: &[Local],
    n: u8,
) -> Option<(Bytes, std::net::SocketAddr, usize, String, Proto)> {
    let (cseq, from_tag, to_tag, from_uri, to_uri) = if to_callee {
        d.caller.cseq += 1;
        let c = d.caller.cseq;
        (c, &d.caller.tag, &d.callee.tag, &d.from_uri, &d.to_uri)
    } else {
        d.callee.cseq += 1;
        let c = d.callee.cseq;
        (c, &d.callee.tag, &d.caller.tag, &d.to_uri, &d.from_uri)
    };
    let target = if to_callee { &d.callee } else { &d.caller };
    let local = locals.get(target.local)?;
    let branch = format!("{BYE_BRANCH}{:x}.{n}", d.id());
    let via_host = match &local.advertise {
        Some(a) => format!("{}:{}", a.host, a.port.unwrap_or(local.addr.port())),
        None => {
            let mut s = String::new();
            crate::sip::numfmt::push_socket(&mut s, local.addr);
            s
        }
    };
    let mut m = format!(
        "BYE {} SIP/2.0\r\nVia: SIP/2.0/{} {via_host};branch={branch}\r\n",
        target.contact,
        local.proto.as_str().to_ascii_uppercase()
    );
    if !target.route_set.is_empty() {
        m.push_str(&format!("Route: {}\r\n", target.route_set.join(", ")));
    }
    m.push_str(&format!(
        "To: <{to_uri}>;tag={to_tag}\r\nFrom: <{from_uri}>;tag={from_tag}\r\nCSeq: {cseq} BYE\r\n\
         Call-ID: {}\r\nContent-Length: 0\r\nMax-Forwards: 70\r\n\r\n",
        d.callid
    ));
    // Loose routing: the first Route when there is one, else the Contact.
    let hop = target
        .route_set
        .first()
        .and_then(|r| crate::sip::NameAddr::parse(r).ok())
        .map(|n| (n.uri().host().to_string(), n.uri().port()))
        .or_else(|| {
            crate::sip::Uri::parse(&target.contact)
                .ok()
                .map(|u| (u.host().to_string(), u.port()))
        });
    let dst = hop
        .and_then(|(h, p)| crate::forward::resolve(&h, p, 5060))
        .or(target.addr)?;
    Some((Bytes::from(m), dst, target.local, branch, local.proto))
}

/// Sends the BYEs of dialog `id` and deletes it.
fn send_byes(dlg: &Dlg, id: u64, to: ByeTo, locals: &[Local], out: &mut Outbox) {
    let now = now_secs();
    let byes = dlg.table.with(id, |d| {
        let mut v = Vec::new();
        if matches!(to, ByeTo::Callee | ByeTo::Both) {
            v.extend(build_bye(d, true, locals, 1));
        }
        if matches!(to, ByeTo::Caller | ByeTo::Both) {
            v.extend(build_bye(d, false, locals, 0));
        }
        d.delete(now);
        v
    });
    for (data, dst, local, branch, proto) in byes.unwrap_or_default() {
        crate::forward::send_via(out, local, proto, dst, data.clone());
        if proto == Proto::Udp {
            dlg.table.add_pending(PendingBye {
                dialog: id,
                branch,
                data,
                dst,
                local,
                next_at: now_ms() + 500,
                ivl: 500,
                tries: 0,
            });
        }
    }
}

/// Kamailio's faked request for routes run outside any message (its `$ci` is `123`).
const FAKED: &[u8] = b"OPTIONS sip:you@kamailio.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n\
From: <sip:you@kamailio.org>;tag=123\r\nTo: <sip:you@kamailio.org>\r\nCall-ID: 123\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

/// A dialog's timeout: its timeout route, BYEs both ways when asked for, then deleted.
fn timed_out(e: &mut Env<'_>, vm: &mut Vm, dlg: &Dlg, id: u64) {
    let Some((route, running, local, bye)) = dlg.table.with(id, |d| {
        (
            d.toroute.clone(),
            d.running.clone(),
            d.caller.local,
            d.iflags & IFLAG_TIMEOUT_BYE != 0 && d.state == State::Confirmed,
        )
    }) else {
        return;
    };
    dlg.table.stats.expired.fetch_add(1, Relaxed);
    if let (Some(name), Some(running), Some(l)) = (route, running, e.locals.get(local)) {
        let snap = &running.snapshot;
        if let (Some(r), Ok(msg)) = (
            snap.program.route(RouteKind::Sub, &name),
            Msg::parse(Bytes::from_static(FAKED)),
        ) {
            let src = l.addr;
            let mut c = Ctx::new(&msg, src, l, e.locals, e.out, snap, e.shared);
            c.running = Some(&running);
            let s = c.slots.entry::<DlgCtx>();
            s.id = Some(id);
            if let Err(err) = vm.run(&snap.program, r, &mut c) {
                tracing::error!("dialog timeout route: {}", err.render(&snap.program));
                running.counters.runtime_error();
            }
            c.finish();
        }
    }
    if bye {
        send_byes(dlg, id, ByeTo::Both, e.locals, e.out);
    } else {
        dlg.table.with(id, |d| d.delete(now_secs()));
    }
}

/// Each worker's tick: BYEs asked for (RPC, `dlg_bye`) and their resending at once; the
/// timers once a second, on whichever worker gets there first.
pub fn tick(e: &mut Env<'_>, vm: &mut Vm) {
    let Some(dlg) = e.shared.try_state::<Dlg>() else {
        return;
    };
    if !dlg.enabled {
        return;
    }
    let now = now_secs();
    let last = dlg.table.swept.load(Relaxed);
    let timers = now > last
        && dlg
            .table
            .swept
            .compare_exchange(last, now, Relaxed, Relaxed)
            .is_ok();
    if !timers && !dlg.table.work.load(Relaxed) {
        return;
    }
    let (ending, timed) = dlg.table.due(now, timers);
    for (id, to) in ending {
        send_byes(dlg, id, to, e.locals, e.out);
    }
    for id in timed {
        timed_out(e, vm, dlg, id);
    }
    for (data, dst, local) in dlg.table.resend(now_ms()) {
        crate::forward::send_via(e.out, local, Proto::Udp, dst, data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(tag: &str, contact: &str, cseq: u32, routes: &[&str]) -> Leg {
        Leg {
            tag: tag.into(),
            contact: contact.into(),
            cseq,
            route_set: routes.iter().map(|r| r.to_string()).collect(),
            local: 0,
            socket: "udp:127.0.0.1:5060".into(),
            addr: None,
        }
    }

    fn dialog() -> Dialog {
        Dialog {
            h_entry: 7,
            h_id: 9,
            callid: "cid-1".into(),
            from_uri: "sip:alice@a.example".into(),
            to_uri: "sip:bob@b.example".into(),
            state: State::Confirmed,
            caller: leg(
                "ta",
                "sip:alice@192.0.2.1:5070",
                4,
                &["<sip:192.0.2.50;lr>"],
            ),
            callee: leg("tb", "sip:bob@192.0.2.2", 0, &[]),
            init_ts: 0,
            start_ts: 0,
            end_ts: 0,
            lifetime: 60,
            timer_at: 60,
            sflags: 0,
            iflags: 0,
            toroute: None,
            profiles: Vec::new(),
            vars: Vec::new(),
            running: None,
            bye_to: None,
        }
    }

    fn locals() -> Vec<Local> {
        vec![Local {
            index: 0,
            proto: Proto::Udp,
            addr: "127.0.0.1:5060".parse().unwrap(),
            advertise: None,
            name: None,
        }]
    }

    #[test]
    fn byes_carry_each_side_s_tags_cseq_and_route_set() {
        let mut d = dialog();
        let l = locals();
        let (to_callee, dst, _, branch, proto) = build_bye(&mut d, true, &l, 1).unwrap();
        let t = String::from_utf8(to_callee.to_vec()).unwrap();
        assert!(t.starts_with("BYE sip:bob@192.0.2.2 SIP/2.0\r\n"), "{t}");
        assert!(t.contains(&format!(
            "Via: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\n"
        )));
        assert!(branch.starts_with(BYE_BRANCH));
        assert!(t.contains("To: <sip:bob@b.example>;tag=tb\r\nFrom: <sip:alice@a.example>;tag=ta\r\nCSeq: 5 BYE\r\n"), "{t}");
        assert!(!t.contains("Route:"), "{t}");
        assert_eq!(dst, "192.0.2.2:5060".parse().unwrap());
        assert_eq!(proto, Proto::Udp);

        let (to_caller, dst, ..) = build_bye(&mut d, false, &l, 0).unwrap();
        let t = String::from_utf8(to_caller.to_vec()).unwrap();
        assert!(
            t.starts_with("BYE sip:alice@192.0.2.1:5070 SIP/2.0\r\n"),
            "{t}"
        );
        assert!(t.contains("Route: <sip:192.0.2.50;lr>\r\n"), "{t}");
        assert!(t.contains("To: <sip:alice@a.example>;tag=ta\r\nFrom: <sip:bob@b.example>;tag=tb\r\nCSeq: 1 BYE\r\n"), "{t}");
        assert_eq!(
            dst,
            "192.0.2.50:5060".parse().unwrap(),
            "loose routing: the first Route"
        );
        assert_eq!((d.caller.cseq, d.callee.cseq), (5, 1));
    }

    #[test]
    fn the_callee_route_set_is_what_lies_beyond_our_record_route() {
        let snap = sipvm_cfg::Snapshot {
            generation: 1,
            file: std::sync::Arc::from("t.cfg"),
            program: Default::default(),
            globals: std::sync::Arc::from(Vec::new()),
            custom: std::sync::Arc::from(Vec::new()),
            modparams: std::sync::Arc::from(Vec::new()),
            modules: std::sync::Arc::from(Vec::new()),
            warnings: std::sync::Arc::from(""),
        };
        let reply = Msg::parse(Bytes::from_static(
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\n\
Record-Route: <sip:192.0.2.61;lr>, <sip:192.0.2.60;lr>\r\n\
Record-Route: <sip:127.0.0.1:5060;lr>\r\nRecord-Route: <sip:192.0.2.40;lr>\r\n\
From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
Content-Length: 0\r\n\r\n",
        ))
        .unwrap();
        assert_eq!(
            callee_route_set(&locals(), &snap, &reply),
            vec!["<sip:192.0.2.60;lr>", "<sip:192.0.2.61;lr>"]
        );
    }
}
