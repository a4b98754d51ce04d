//! `uac_replace_from/to`, `uac_restore_from/to`, the restore `loose_route()` does in auto
//! mode (Kamailio's rr callback) and the restore of replies: a transaction whose request had
//! its From/To replaced (or restored) gets the request's original value back in every reply
//! relayed upstream (Kamailio's TMCB_RESPONSE_IN callback).

use super::codec::{self, Parts};
use super::{RestoreMode, Uac};
use crate::host::natives::arg_str;
use crate::host::{Ctx, Env, MsgState, ReplyVerdict, Shared};
use crate::modules::rr;
use crate::modules::tm::state::TmCtx;
use crate::modules::tm::Tm;
use crate::sip::{Edits, HeaderName, Msg};
use sipvm_vm::{ArgValue, HostError, RouteKind};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

/// Which headers of this request were replaced or restored (Kamailio's FL_USE_UAC_FROM /
/// FL_USE_UAC_TO message flags).
#[derive(Default, Debug, Clone, Copy)]
pub struct UacMsg {
    pub from: bool,
    pub to: bool,
    /// Replies get restored (Kamailio registers its TMCB_RESPONSE_IN callback): set by the
    /// first replace of the message and by auto mode's restore, not by `uac_restore_*`.
    pub replies: bool,
}

impl MsgState for UacMsg {}

/// What replies of one transaction get back: the request's From/To value up to the end of
/// the URI (and its `>`), as received.
#[derive(Clone, Debug, Default)]
struct Entry {
    from: Option<Vec<u8>>,
    to: Option<Vec<u8>>,
}

/// Transactions (tm ids) whose replies are restored. Bounded; entries go when tm forgets the
/// transaction.
#[derive(Default)]
pub struct Restores {
    map: Mutex<HashMap<u64, Entry>>,
    last_sweep: Mutex<Option<std::time::Instant>>,
}

/// At most this many transactions in flight have their replies restored.
const MAX_RESTORES: usize = 100_000;

impl Restores {
    fn note(&self, id: u64, from: Option<Vec<u8>>, to: Option<Vec<u8>>) {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= MAX_RESTORES && !m.contains_key(&id) {
            tracing::warn!("uac: {MAX_RESTORES} transactions with replies to restore: not adding");
            return;
        }
        let e = m.entry(id).or_default();
        if from.is_some() {
            e.from = from;
        }
        if to.is_some() {
            e.to = to;
        }
    }

    fn get(&self, id: u64) -> Option<Entry> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Once a second: forget the transactions tm no longer has.
    pub fn sweep(&self, shared: &Shared) {
        {
            let mut last = self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
            let now = std::time::Instant::now();
            if last.is_some_and(|l| now.duration_since(l).as_secs() < 1) {
                return;
            }
            *last = Some(now);
        }
        let Some(tm) = shared.try_state::<Tm>() else {
            return;
        };
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        m.retain(|id, _| tm.get(*id).is_some());
    }
}

fn route_kind(ctx: &Ctx<'_>) -> Option<RouteKind> {
    ctx.slots.get::<TmCtx>().and_then(|t| t.route)
}

/// The span of the header value a reply restore copies from the request.
fn addr_span(msg: &Msg, name: HeaderName) -> Option<Vec<u8>> {
    let p = codec::parts(msg, name)?;
    Some(msg.as_bytes()[p.body..p.addr_end].to_vec())
}

/// Records the transaction of this request for reply restore, when a header was replaced
/// and the transaction exists (at the call, or once request_route ends).
pub fn note_transaction(ctx: &mut Ctx<'_>) {
    let Some(flags) = ctx.slots.get::<UacMsg>().copied() else {
        return;
    };
    if !flags.replies || (!flags.from && !flags.to) {
        return;
    }
    let Some(id) = ctx.slots.get_mut::<TmCtx>().and_then(|t| t.with(|t| t.id)) else {
        return;
    };
    let Some(uac) = ctx.shared.try_state::<Uac>() else {
        return;
    };
    let from = flags
        .from
        .then(|| addr_span(ctx.msg, HeaderName::From))
        .flatten();
    let to = flags
        .to
        .then(|| addr_span(ctx.msg, HeaderName::To))
        .flatten();
    uac.restores.note(id, from, to);
}

/// Keeps the header's value (up to the end of its URI) in the restore AVP, when one is set.
fn save_avp(ctx: &mut Ctx<'_>, p: &Parts, from: bool) {
    let uac = ctx.state::<Uac>();
    let name = if from {
        &uac.cfg.restore_avps.0
    } else {
        &uac.cfg.restore_avps.1
    };
    if let Some(n) = name {
        let v = String::from_utf8_lossy(&ctx.msg.as_bytes()[p.body..p.addr_end]).into_owned();
        ctx.avps.push((
            std::sync::Arc::from(n.as_str()),
            sipvm_vm::Value::Str(v.into()),
        ));
    }
}

/// Sets the header's flag; `replies`: ask for reply restore (Kamailio: only when neither
/// flag was set before).
fn mark(ctx: &mut Ctx<'_>, from: bool, replies: bool) {
    let f = ctx.slots.entry::<UacMsg>();
    if replies && !f.from && !f.to {
        f.replies = true;
    }
    if from {
        f.from = true;
    } else {
        f.to = true;
    }
    note_transaction(ctx);
}

/// The edits replacing the display name and/or URI of a From/To header, as Kamailio's lumps
/// write them: a new display goes over the old one; without one it goes before `<` with a
/// space, and a bare URI gets its brackets.
pub fn header_edits(b: &[u8], p: &Parts, display: Option<&str>, uri: Option<&str>, e: &mut Edits) {
    let mut pre = String::new();
    let mut post = "";
    if let Some(d) = display {
        match p.display {
            Some((s, end)) => e.replace_range(s, end, d.as_bytes()),
            None if !d.is_empty() => match p.lt {
                Some(lt) => e.insert_at(lt, format!("{d} ").as_bytes()),
                None => {
                    pre = format!("{d} <");
                    post = ">";
                }
            },
            None => {}
        }
    }
    if uri.is_none() && pre.is_empty() {
        return;
    }
    let u = uri.map(str::as_bytes).unwrap_or(&b[p.uri.0..p.uri.1]);
    let mut v = pre.into_bytes();
    v.extend_from_slice(u);
    v.extend_from_slice(post.as_bytes());
    e.replace_range(p.uri.0, p.uri.1, &v);
}

fn replace(
    ctx: &mut Ctx<'_>,
    display: Option<&str>,
    uri: Option<&str>,
    from: bool,
) -> Result<i64, HostError> {
    let uac = ctx.state::<Uac>();
    let cfg = &uac.cfg;
    let name = if from {
        HeaderName::From
    } else {
        HeaderName::To
    };
    let what = if from { "from" } else { "to" };
    let flags = ctx.slots.get::<UacMsg>().copied().unwrap_or_default();
    if route_kind(ctx).is_none() && (if from { flags.from } else { flags.to }) {
        tracing::error!("called uac_replace_{what}() multiple times on the message");
        return Ok(-1);
    }
    if cfg.restore_mode == RestoreMode::Auto && uri.is_some() {
        let Ok(to) = ctx.msg.to() else {
            tracing::error!("failed to parse TO hdr");
            return Ok(-1);
        };
        if to.tag().is_some_and(|t| !t.is_empty()) {
            tracing::error!(
                "decline FROM replacing in sequential request in auto mode (has TO tag)"
            );
            return Ok(-1);
        }
    }
    let Some(p) = codec::parts(ctx.msg, name) else {
        tracing::error!("failed to find/parse {} hdr", what.to_uppercase());
        return Ok(-1);
    };
    save_avp(ctx, &p, from);
    let b = ctx.msg.as_bytes();
    let mut e = std::mem::take(&mut ctx.edits);
    header_edits(b, &p, display, uri, &mut e);
    ctx.edits = e;
    let Some(uri) = uri else {
        return Ok(1);
    };
    if cfg.restore_mode == RestoreMode::None {
        return Ok(1);
    }
    if !cfg.append_fromtag {
        tracing::error!(
            "'append_fromtag' RR param is not enabled! - required by AUTO restore mode"
        );
        return Ok(-1);
    }
    let old = &b[p.uri.0..p.uri.1];
    let Some(enc) = codec::encode_pair(old, uri.as_bytes(), cfg.passwd.as_bytes()) else {
        tracing::error!("uac_replace_{what}: uri too long");
        return Ok(-1);
    };
    let rr_param = if from { &cfg.rr_from } else { &cfg.rr_to };
    let param = format!(";{rr_param}={enc}");
    if !rr::record::add_param(ctx, &param) {
        tracing::error!("add_RR_param failed");
        return Ok(-1);
    }
    mark(ctx, from, true);
    Ok(1)
}

/// `(display, uri)` of the one- or two-argument form; an empty URI leaves the URI alone.
fn replace_args(args: &[ArgValue<'_>]) -> (Option<String>, Option<String>) {
    let (d, u) = if args.len() >= 2 {
        (Some(arg_str(args, 0).into_owned()), arg_str(args, 1))
    } else {
        (None, arg_str(args, 0))
    };
    (d, Some(u.into_owned()).filter(|u| !u.is_empty()))
}

pub fn uac_replace_from(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (d, u) = replace_args(args);
    replace(ctx, d.as_deref(), u.as_deref(), true)
}

pub fn uac_replace_to(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (d, u) = replace_args(args);
    replace(ctx, d.as_deref(), u.as_deref(), false)
}

/// Kamailio's `restore_uri`: the Route parameter `rr_param` decoded against the header the
/// request's direction names (From for `vsf` downstream, To upstream; the reverse for
/// `vst`). True when a header was rewritten.
fn restore(ctx: &mut Ctx<'_>, from_param: bool) -> bool {
    let uac = ctx.state::<Uac>();
    let cfg = &uac.cfg;
    let rr_param = if from_param { &cfg.rr_from } else { &cfg.rr_to };
    let Some(val) = rr::loose::route_param(ctx, rr_param) else {
        return false;
    };
    if codec::decode(val.as_bytes()).is_none() {
        tracing::error!("failed to decode uri");
        return false;
    }
    if !rr::record::add_param(ctx, &format!(";{rr_param}={val}")) {
        tracing::error!("add rr param failed");
        return false;
    }
    let upstream = rr::loose::is_upstream(ctx);
    let to_header = from_param == upstream;
    let name = if to_header {
        HeaderName::To
    } else {
        HeaderName::From
    };
    let Some(p) = codec::parts(ctx.msg, name) else {
        tracing::error!("failed to find/parse header");
        return false;
    };
    let old = &ctx.msg.as_bytes()[p.uri.0..p.uri.1];
    let new = match codec::decode_pair(&val, old, cfg.passwd.as_bytes()) {
        Ok(n) => n,
        Err(why) => {
            tracing::warn!("uac: cannot restore: {why}");
            return false;
        }
    };
    save_avp(ctx, &p, !to_header);
    ctx.edits.replace_range(p.uri.0, p.uri.1, &new);
    mark(ctx, !to_header, false);
    true
}

/// The rr callback of auto mode: every request `loose_route()` routed through us.
pub fn rr_checker(ctx: &mut Ctx<'_>) {
    if ctx
        .shared
        .try_state::<Uac>()
        .is_none_or(|u| !u.enabled || u.cfg.restore_mode != RestoreMode::Auto)
    {
        return;
    }
    let a = restore(ctx, true);
    let b = restore(ctx, false);
    if a || b {
        // Kamailio's rr_checker registers the reply callback whatever flags were set.
        ctx.slots.entry::<UacMsg>().replies = true;
        note_transaction(ctx);
    }
}

pub fn uac_restore_from(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if !ctx.msg.is_request() {
        tracing::error!("called for something not request");
        return Ok(-1);
    }
    Ok(if restore(ctx, true) { 1 } else { -1 })
}

pub fn uac_restore_to(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    if !ctx.msg.is_request() {
        tracing::error!("called for something not request");
        return Ok(-1);
    }
    Ok(if restore(ctx, false) { 1 } else { -1 })
}

/// A reply with our branch whose transaction is restored: rewritten, then given to tm.
pub fn on_reply(
    e: &mut Env<'_>,
    vm: &mut sipvm_vm::Vm,
    msg: &Msg,
    src: SocketAddr,
) -> ReplyVerdict {
    let uac = e.shared.state::<Uac>();
    if uac.restores.is_empty() {
        return ReplyVerdict::Pass;
    }
    let Some((id, _)) = msg
        .top_via()
        .ok()
        .and_then(|v| v.branch())
        .and_then(crate::modules::tm::key::parse_branch)
    else {
        return ReplyVerdict::Pass;
    };
    let Some(entry) = uac.restores.get(id) else {
        return ReplyVerdict::Pass;
    };
    let Some(fixed) = restored_reply(msg, &entry) else {
        return ReplyVerdict::Pass;
    };
    match crate::modules::tm::MODULE.hooks.reply {
        Some(f) => f(e, vm, &fixed, src),
        None => ReplyVerdict::Pass,
    }
}

fn restored_reply(msg: &Msg, entry: &Entry) -> Option<Msg> {
    let mut ed = Edits::new();
    for (name, val) in [(HeaderName::From, &entry.from), (HeaderName::To, &entry.to)] {
        if let Some(v) = val {
            let p = codec::parts(msg, name)?;
            ed.replace_range(p.body, p.addr_end, v);
        }
    }
    let mut buf = Vec::with_capacity(msg.len() + 64);
    msg.serialize(&ed, &mut buf).ok()?;
    Msg::parse(bytes::Bytes::from(buf)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> Msg {
        Msg::parse(bytes::Bytes::from(s.replace('\n', "\r\n"))).unwrap()
    }

    fn edit(from: &str, display: Option<&str>, uri: Option<&str>) -> String {
        let m = msg(&format!(
            "INVITE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: {from}\nTo: <sip:b@h>\nCall-ID: c\nCSeq: 1 INVITE\nContent-Length: 0\n\n"
        ));
        let p = codec::parts(&m, HeaderName::From).unwrap();
        let mut e = Edits::new();
        header_edits(m.as_bytes(), &p, display, uri, &mut e);
        let mut out = Vec::new();
        m.serialize(&e, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        s.lines()
            .find(|l| l.starts_with("From:"))
            .unwrap()
            .to_string()
    }

    /// The lines Kamailio 5.6.3 wrote for the same calls (tests/golden_uac).
    #[test]
    fn header_rewrites_match_kamailio() {
        assert_eq!(
            edit("<sip:alice@a.com>;tag=1", None, Some("sip:bob@example.net")),
            "From: <sip:bob@example.net>;tag=1"
        );
        assert_eq!(
            edit(
                "\"Alice A\" <sip:alice@a.com>;tag=1",
                Some("\"New Name\""),
                Some("sip:bob@example.net")
            ),
            "From: \"New Name\" <sip:bob@example.net>;tag=1"
        );
        assert_eq!(
            edit("Callee <sip:c@b.com>", Some(""), Some("sip:carol@x.org")),
            "From:  <sip:carol@x.org>"
        );
        assert_eq!(
            edit("sip:alice@a.com;tag=1", Some("Bob"), Some("sip:b@e.net")),
            "From: Bob <sip:b@e.net>;tag=1"
        );
        assert_eq!(
            edit("<sip:alice@a.com>;tag=1", Some("Bob"), None),
            "From: Bob <sip:alice@a.com>;tag=1"
        );
    }

    #[test]
    fn replies_get_the_request_value_back() {
        let r = msg("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: \"New\" <sip:bob@example.net>;tag=1\nTo: <sip:carol@x.org>;tag=2\nCall-ID: c\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
        let e = Entry {
            from: Some(b"\"Alice A\" <sip:alice@a.com>".to_vec()),
            to: None,
        };
        let out = restored_reply(&r, &e).unwrap();
        let s = std::str::from_utf8(out.as_bytes()).unwrap();
        assert!(
            s.contains("\r\nFrom: \"Alice A\" <sip:alice@a.com>;tag=1\r\n"),
            "{s}"
        );
        assert!(s.contains("\r\nTo: <sip:carol@x.org>;tag=2\r\n"));
    }
}
