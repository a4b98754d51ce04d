//! The requests uac sends itself (`uac_req_send`, remote registrations): a small client
//! transaction layer of its own (RFC 3261 §17.1: retransmissions over UDP, the final-reply
//! timer, the ACK of a negative INVITE reply). tm's transactions are for relayed requests;
//! these carry uac's own branch prefix, and their final reply goes back to the owner.

use super::{reg, send, Uac};
use crate::forward;
use crate::host::Env;
use crate::sip::{HeaderName, Msg, Uri};
use crate::transport::{Local, Outbox, Proto};
use bytes::Bytes;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Our branches: `z9hG4bKuac.<id>`.
pub const BRANCH_PREFIX: &str = "z9hG4bKuac.";

/// At most this many of our own requests wait for an answer.
pub const MAX_PENDING: usize = 10_000;

const T1: u64 = 500;
const T2: u64 = 4000;

/// A request to send: the parts Kamailio's `t_request` takes.
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    pub method: String,
    pub ruri: String,
    pub to: String,
    pub from: String,
    pub from_tag: String,
    pub call_id: String,
    pub cseq: u32,
    /// Extra header lines, each ending in CRLF.
    pub hdrs: String,
    pub body: String,
    /// The next hop instead of the Request-URI.
    pub dst_uri: Option<String>,
    /// The socket to send from, as Kamailio prints one (`udp:127.0.0.1:5060`).
    pub socket: Option<String>,
}

/// Who gets the final reply.
pub enum Owner {
    /// Nobody: the request only needs its retransmissions.
    None,
    Send(Box<send::Pending>),
    Reg(String),
}

struct Txn {
    req: Outgoing,
    data: Bytes,
    dst: SocketAddr,
    local: usize,
    proto: Proto,
    invite: bool,
    retr_at: Option<u64>,
    retr_ivl: u64,
    fr_at: u64,
    owner: Owner,
}

pub struct Client {
    txns: Mutex<HashMap<u64, Txn>>,
    next: AtomicU64,
    epoch: Instant,
    /// tm's `fr_timer` and `fr_inv_timer` (ms).
    pub fr: (u64, u64),
}

impl Default for Client {
    fn default() -> Self {
        Client {
            txns: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            epoch: Instant::now(),
            fr: (30_000, 120_000),
        }
    }
}

impl Client {
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn pending(&self) -> usize {
        self.txns.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// A random token for tags and Call-IDs.
pub fn token() -> String {
    format!("{:016x}", crate::host::rng::next_u64())
}

/// The request as it leaves `local` with `branch`, laid out as Kamailio's tm `t_request`
/// writes one (tests/golden_uac/send.json), `User-Agent: sipvm` for Kamailio's signature.
pub fn build(req: &Outgoing, local: &Local, branch: &str, to_tag: Option<&str>) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::with_capacity(512 + req.body.len());
    let proto = local.proto.as_str().to_ascii_uppercase();
    let _ = write!(
        s,
        "{} {} SIP/2.0\r\nVia: SIP/2.0/{proto} {};branch={branch}\r\n",
        req.method,
        req.ruri,
        forward::via_sent_by(local)
    );
    let _ = write!(s, "To: <{}>", req.to);
    if let Some(t) = to_tag {
        let _ = write!(s, ";tag={t}");
    }
    let _ = write!(
        s,
        "\r\nFrom: <{}>;tag={}\r\nCSeq: {} {}\r\nCall-ID: {}\r\nMax-Forwards: 70\r\nContent-Length: {}\r\nUser-Agent: sipvm\r\n{}\r\n{}",
        req.from,
        req.from_tag,
        req.cseq,
        req.method,
        req.call_id,
        req.body.len(),
        req.hdrs,
        req.body
    );
    s.into_bytes()
}

/// Where a request goes: `dst_uri`, else the Request-URI (IP literals and localhost).
fn destination(req: &Outgoing) -> Option<(SocketAddr, Proto)> {
    let target = req.dst_uri.as_deref().unwrap_or(&req.ruri);
    let u = Uri::parse(target).ok()?;
    let default = if u.scheme() == crate::sip::Scheme::Sips {
        5061
    } else {
        5060
    };
    let dst = forward::resolve(u.host(), u.port(), default)?;
    Some((dst, forward::uri_proto(target)))
}

/// Sends `req` as a new client transaction; its final reply (or timeout) goes to `owner`.
pub fn start(
    uac: &Uac,
    locals: &[Local],
    out: &mut Outbox,
    req: Outgoing,
    owner: Owner,
) -> Result<(), String> {
    let (dst, proto) = destination(&req).ok_or_else(|| format!("no next hop for {}", req.ruri))?;
    let local = match req.socket.as_ref().or(uac.cfg.default_socket.as_ref()) {
        Some(s) => locals
            .iter()
            .find(|l| l.socket_str() == *s)
            .ok_or_else(|| format!("no local socket {s}"))?,
        None => locals
            .iter()
            .find(|l| l.proto == proto && l.addr.is_ipv4() == dst.is_ipv4())
            .ok_or_else(|| format!("no {proto} socket for {dst}"))?,
    };
    let proto = local.proto;
    let c = &uac.client;
    let mut txns = c.txns.lock().unwrap_or_else(|e| e.into_inner());
    if txns.len() >= MAX_PENDING {
        return Err(format!(
            "{MAX_PENDING} requests already waiting for replies"
        ));
    }
    let id = c.next.fetch_add(1, Ordering::Relaxed);
    let data = Bytes::from(build(&req, local, &format!("{BRANCH_PREFIX}{id:x}"), None));
    forward::send_via(out, local.index, proto, dst, data.clone());
    let now = c.now();
    let invite = req.method.eq_ignore_ascii_case("INVITE");
    let udp = proto == Proto::Udp;
    txns.insert(
        id,
        Txn {
            req,
            data,
            dst,
            local: local.index,
            proto,
            invite,
            retr_at: udp.then_some(now + T1),
            retr_ivl: T1,
            fr_at: now + c.fr.0,
            owner,
        },
    );
    Ok(())
}

/// The hop-by-hop ACK of a negative final reply to our INVITE.
fn ack(t: &Txn, reply: &Msg, local: &Local, branch: &str) -> Bytes {
    let mut a = Outgoing {
        method: "ACK".into(),
        hdrs: String::new(),
        body: String::new(),
        ..t.req.clone()
    };
    a.method = "ACK".into();
    let tag = reply.to().ok().and_then(|t| t.tag()).map(str::to_string);
    Bytes::from(build(&a, local, branch, tag.as_deref()))
}

/// A reply with our branch prefix: true (it is ours, matched or stray).
pub fn on_reply(e: &mut Env<'_>, vm: &mut sipvm_vm::Vm, msg: &Msg, src: SocketAddr) -> bool {
    let Some(branch) = msg.top_via().ok().and_then(|v| v.branch()) else {
        return false;
    };
    let Some(id) = branch
        .strip_prefix(BRANCH_PREFIX)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
    else {
        return false;
    };
    let branch = branch.to_string();
    let Some(code) = msg.status() else {
        return true;
    };
    let uac = e.shared.state::<Uac>();
    let c = &uac.client;
    let done = {
        let mut txns = c.txns.lock().unwrap_or_else(|e| e.into_inner());
        let Some(t) = txns.get_mut(&id) else {
            return true;
        };
        if code < 200 {
            let now = c.now();
            if t.invite {
                t.retr_at = None;
                t.fr_at = now + c.fr.1;
            } else if t.retr_at.is_some() {
                t.retr_ivl = T2;
            }
            return true;
        }
        txns.remove(&id)
    };
    let Some(t) = done else { return true };
    if t.invite && code >= 300 {
        if let Some(l) = e.locals.iter().find(|l| l.index == t.local) {
            let a = ack(&t, msg, l, &branch);
            forward::send_via(e.out, t.local, t.proto, t.dst, a);
        }
    }
    finish(e, vm, t, Some((msg, src)), code);
    true
}

fn finish(
    e: &mut Env<'_>,
    vm: &mut sipvm_vm::Vm,
    t: Txn,
    reply: Option<(&Msg, SocketAddr)>,
    code: u16,
) {
    match t.owner {
        Owner::None => {}
        Owner::Send(p) => send::on_final(e, vm, *p, t.req, reply, code),
        Owner::Reg(uuid) => reg::on_reply(e, &uuid, t.req, reply.map(|r| r.0), code),
    }
}

/// Retransmissions and timeouts that are due.
pub fn tick(e: &mut Env<'_>, vm: &mut sipvm_vm::Vm) {
    let uac = e.shared.state::<Uac>();
    let c = &uac.client;
    let now = c.now();
    let mut expired = Vec::new();
    {
        let mut txns = c.txns.lock().unwrap_or_else(|e| e.into_inner());
        if txns.is_empty() {
            return;
        }
        for (id, t) in txns.iter_mut() {
            if t.fr_at <= now {
                expired.push(*id);
                continue;
            }
            if t.retr_at.is_some_and(|r| r <= now) {
                forward::send_via(e.out, t.local, t.proto, t.dst, t.data.clone());
                t.retr_ivl = if t.invite {
                    t.retr_ivl * 2
                } else {
                    (t.retr_ivl * 2).min(T2)
                };
                t.retr_at = Some(now + t.retr_ivl);
            }
        }
        let ts: Vec<Txn> = expired.iter().filter_map(|id| txns.remove(id)).collect();
        drop(txns);
        for t in ts {
            finish(e, vm, t, None, 408);
        }
    }
}

/// The Call-ID, From tag and CSeq number of a reply, for a request in the same dialog.
pub fn within(reply: &Msg, prev: &Outgoing) -> Outgoing {
    let cseq = reply.cseq().map(|c| c.seq).unwrap_or(prev.cseq);
    Outgoing {
        call_id: reply
            .call_id()
            .map(str::to_string)
            .unwrap_or_else(|_| prev.call_id.clone()),
        from_tag: reply
            .from()
            .ok()
            .and_then(|f| f.tag())
            .map(str::to_string)
            .unwrap_or_else(|| prev.from_tag.clone()),
        cseq: cseq.wrapping_add(1),
        ..prev.clone()
    }
}

/// A header value of a reply as text.
pub fn header(reply: &Msg, name: HeaderName) -> Option<String> {
    reply
        .header_values(name)
        .next()
        .map(|v| String::from_utf8_lossy(v).into_owned())
}
