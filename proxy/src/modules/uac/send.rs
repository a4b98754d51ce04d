//! `$uac_req(...)` and `uac_req_send()`: a request built from the script's fields and sent
//! by uac's client layer; with `evroute` set, `event_route[uac:reply]` runs on its final
//! reply (or on a faked request when it times out), and with `auser`/`apasswd` set a 401/407
//! is answered once with credentials. The fields live per worker thread, as Kamailio's live
//! per process.

use super::client::{self, Outgoing, Owner};
use super::Uac;
use crate::host::{Ctx, Env};
use crate::sip::Msg;
use sipvm_vm::{ArgValue, HostError, PvKey, RouteKind, Value};
use std::cell::RefCell;
use std::net::SocketAddr;

/// Kamailio's buffer sizes for the fields.
const MAX_URI: usize = 1024;
const MAX_HDRS: usize = 2048;
const MAX_BODY: usize = 32768;
const MAX_EVPARAM: usize = 128;

/// The fields of `$uac_req`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UacReq {
    pub flags: i64,
    pub ruri: String,
    pub turi: String,
    pub furi: String,
    pub hdrs: String,
    pub body: String,
    pub ouri: String,
    pub method: String,
    pub evroute: i64,
    pub auser: String,
    pub apasswd: String,
    pub callid: String,
    pub sock: String,
    pub evparam: String,
    pub evcode: i64,
    pub evtype: i64,
}

thread_local! {
    static REQ: RefCell<UacReq> = RefCell::new(UacReq::default());
}

/// A copy of this thread's `$uac_req` (tests).
pub fn current() -> UacReq {
    REQ.with(|r| r.borrow().clone())
}

/// A request waiting for its final reply.
pub struct Pending {
    pub info: UacReq,
    pub running: Option<sipvm_cfg::Running>,
    /// The request was already resent with credentials.
    pub resent: bool,
}

fn text(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::Str(s.into())
    }
}

pub fn get_uac_req(_: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    REQ.with(|r| {
        let r = r.borrow();
        Ok(match k.name.unwrap_or("") {
            "ruri" => text(&r.ruri),
            "turi" => text(&r.turi),
            "furi" => text(&r.furi),
            "hdrs" => text(&r.hdrs),
            "body" => text(&r.body),
            "ouri" => text(&r.ouri),
            "method" => text(&r.method),
            "evroute" => Value::Int(r.evroute),
            "auser" => text(&r.auser),
            "apasswd" => text(&r.apasswd),
            "callid" => text(&r.callid),
            "sock" => text(&r.sock),
            "evparam" => text(&r.evparam),
            "evcode" => Value::Int(r.evcode),
            "evtype" => Value::Int(r.evtype),
            _ => Value::Int(r.flags),
        })
    })
}

fn set_text(field: &mut String, v: &Value, max: usize) -> Result<(), HostError> {
    match v {
        Value::Null => field.clear(),
        Value::Str(_) => {
            let s = v.to_str();
            if s.len() >= max {
                return Err(HostError("$uac_req: value size too big".into()));
            }
            *field = s.into_owned();
        }
        _ => return Err(HostError("$uac_req: invalid value type".into())),
    }
    Ok(())
}

fn set_int(field: &mut i64, v: &Value) -> Result<(), HostError> {
    match v {
        Value::Null => *field = 0,
        Value::Int(n) => *field = *n,
        _ => return Err(HostError("$uac_req: invalid value type".into())),
    }
    Ok(())
}

pub fn set_uac_req(_: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    REQ.with(|r| {
        let mut r = r.borrow_mut();
        let r = &mut *r;
        match k.name.unwrap_or("") {
            "all" => {
                if v.is_null() {
                    // Kamailio's reset keeps auser, apasswd and sock.
                    let keep = (
                        std::mem::take(&mut r.auser),
                        std::mem::take(&mut r.apasswd),
                        std::mem::take(&mut r.sock),
                    );
                    *r = UacReq {
                        auser: keep.0,
                        apasswd: keep.1,
                        sock: keep.2,
                        ..UacReq::default()
                    };
                }
                Ok(())
            }
            "ruri" => set_text(&mut r.ruri, &v, MAX_URI),
            "turi" => set_text(&mut r.turi, &v, MAX_URI),
            "furi" => set_text(&mut r.furi, &v, MAX_URI),
            "hdrs" => set_text(&mut r.hdrs, &v, MAX_HDRS),
            "body" => set_text(&mut r.body, &v, MAX_BODY),
            "ouri" => set_text(&mut r.ouri, &v, MAX_URI),
            "method" => set_text(&mut r.method, &v, 32),
            "evroute" => set_int(&mut r.evroute, &v),
            "auser" => set_text(&mut r.auser, &v, 128),
            "apasswd" => set_text(&mut r.apasswd, &v, 64),
            "callid" => set_text(&mut r.callid, &v, 128),
            // Kamailio 5.6 clears apasswd (not sock) when sock is set to $null.
            "sock" if v.is_null() => {
                r.apasswd.clear();
                Ok(())
            }
            "sock" => set_text(&mut r.sock, &v, MAX_URI),
            "evparam" => set_text(&mut r.evparam, &v, MAX_EVPARAM),
            "evcode" => set_int(&mut r.evcode, &v),
            "evtype" => set_int(&mut r.evtype, &v),
            "flags" => set_int(&mut r.flags, &v),
            other => Err(HostError(format!("unknown uac_req name {other}"))),
        }
    })
}

/// Kamailio's DEFAULT_CSEQ of tm's new dialogs.
const FIRST_CSEQ: u32 = 10;

fn outgoing(r: &UacReq) -> Outgoing {
    let or = |a: &str| {
        if a.is_empty() {
            r.ruri.clone()
        } else {
            a.to_string()
        }
    };
    Outgoing {
        method: r.method.clone(),
        ruri: r.ruri.clone(),
        to: or(&r.turi),
        from: or(&r.furi),
        from_tag: client::token(),
        call_id: if r.callid.is_empty() {
            client::token()
        } else {
            r.callid.clone()
        },
        cseq: FIRST_CSEQ,
        hdrs: r.hdrs.clone(),
        body: r.body.clone(),
        dst_uri: (!r.ouri.is_empty()).then(|| r.ouri.clone()),
        socket: (!r.sock.is_empty()).then(|| r.sock.clone()),
    }
}

/// `uac_req_send()`: 1 when sent, -1 without a Request-URI or method, or when it cannot go.
pub fn uac_req_send(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let info = current();
    if info.ruri.is_empty() || info.method.is_empty() {
        return Ok(-1);
    }
    let uac = ctx.state::<Uac>();
    let wants_cb = (!info.auser.is_empty() && !info.apasswd.is_empty()) || info.evroute > 0;
    let owner = if wants_cb {
        Owner::Send(Box::new(Pending {
            info: info.clone(),
            running: ctx.running.cloned(),
            resent: false,
        }))
    } else {
        Owner::None
    };
    match client::start(uac, ctx.locals, ctx.out, outgoing(&info), owner) {
        Ok(()) => Ok(1),
        Err(e) => {
            tracing::error!("uac_req_send: {e}");
            Ok(-1)
        }
    }
}

/// Kamailio's faked message (core fmsg.c), what the event route sees on a timeout.
const FAKED: &str = "OPTIONS sip:you@kamailio.org SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nFrom: <sip:you@kamailio.org>;tag=123\r\nTo: <sip:you@kamailio.org>\r\nCall-ID: 123\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

fn run_event(
    e: &mut Env<'_>,
    vm: &mut sipvm_vm::Vm,
    p: &Pending,
    reply: Option<(&Msg, SocketAddr)>,
    code: u16,
) {
    let Some(running) = p.running.as_ref() else {
        return;
    };
    let snap = &running.snapshot;
    let Some(route) = snap.program.route(RouteKind::Event, "uac:reply") else {
        tracing::debug!("event_route[uac:reply] does not exist");
        return;
    };
    let Some(local) = e.locals.first() else {
        return;
    };
    let faked;
    let (msg, src) = match reply {
        Some((m, s)) => (m, s),
        None => {
            let Ok(m) = Msg::parse(bytes::Bytes::from_static(FAKED.as_bytes())) else {
                return;
            };
            faked = m;
            (&faked, local.addr)
        }
    };
    REQ.with(|r| {
        *r.borrow_mut() = UacReq {
            evcode: i64::from(code),
            evtype: if reply.is_some() { 1 } else { 2 },
            ..p.info.clone()
        }
    });
    let mut c = Ctx::new(msg, src, local, e.locals, e.out, snap, e.shared);
    c.running = Some(running);
    if let Err(err) = vm.run(&snap.program, route, &mut c) {
        tracing::error!("event_route[uac:reply]: {}", err.render(&snap.program));
        running.counters.runtime_error();
    }
    c.finish();
}

/// The final reply (or timeout) of a request `uac_req_send` sent.
pub fn on_final(
    e: &mut Env<'_>,
    vm: &mut sipvm_vm::Vm,
    p: Pending,
    req: Outgoing,
    reply: Option<(&Msg, SocketAddr)>,
    code: u16,
) {
    // evroute 2 is Kamailio's TMCB_ON_FAILURE: negative replies only, no authentication.
    let on_failure = p.info.evroute == 2;
    if p.info.evroute != 0 && (!on_failure || code >= 300) {
        run_event(e, vm, &p, reply, code);
    }
    if p.resent || on_failure || !(code == 401 || code == 407) || p.info.apasswd.is_empty() {
        return;
    }
    let Some((rpl, _)) = reply else { return };
    let ch = match super::auth::challenge_of(rpl, code) {
        Ok(c) => c,
        Err(why) => {
            tracing::error!("uac_req_send: {why}");
            return;
        }
    };
    let crd = super::Credential {
        user: p.info.auser.clone(),
        realm: ch.realm.clone(),
        passwd: p.info.apasswd.clone(),
    };
    let line = super::auth::authorization(
        code,
        &p.info.method,
        &p.info.ruri,
        &crd,
        &ch,
        p.info.flags & 1 != 0,
    );
    let mut next = client::within(rpl, &req);
    next.hdrs = format!("{}{}", p.info.hdrs, String::from_utf8_lossy(&line));
    let owner = if p.info.evroute != 0 {
        Owner::Send(Box::new(Pending { resent: true, ..p }))
    } else {
        Owner::None
    };
    let uac = e.shared.state::<Uac>();
    if let Err(err) = client::start(uac, e.locals, e.out, next, owner) {
        tracing::error!("failed to send request with authentication: {err}");
    }
}
