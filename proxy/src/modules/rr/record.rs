//! Record-Route as Kamailio 5.6's rr module writes it. `record_route()` only notes the intent
//! in [`Ctx::rr`]; the header lines are built by [`apply`] when the request leaves, because
//! their address (and whether there are two of them) depends on the sending socket, which is
//! known only then: per branch for a transaction, once for a stateless `forward()`.
//!
//! Byte layout (captured from Kamailio 5.6.3 on loopback, see docs/modules/rr.md):
//! - `record_route([p])`: `<sip:[user@]HOST[:PORT][;transport=T][;r2=on];lr[;ftag=F]p...>`
//! - `record_route_preset(a)`: `<sip:[user@]a[;ftag=F]PRE;lr POST>`
//! - `record_route_advertised_address(a)`: `<sip:[user@]a[;transport=T][;r2=on][;ftag=F];lr...>`
//!
//! where PRE are `add_rr_param` values given before the record-route call and POST those
//! given after it.

use crate::host::{Ctx, MsgState};
use crate::sip::{Edits, HeaderPos, Scheme, Uri};
use crate::transport::{Local, Proto};
use sipvm_cfg::Snapshot;

/// What kind of Record-Route the script asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RrKind {
    /// `record_route([params])`: our own address, from the receiving and sending sockets.
    Auto { params: String },
    /// `record_route_preset(addr[, addr2])`: the given addresses, one header each.
    Preset(Vec<String>),
    /// `record_route_advertised_address(addr)`.
    Advertised(String),
}

/// A Record-Route to insert into every request sent from this message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrRecord {
    pub kind: RrKind,
    /// `add_username` / `custom_user_avp`: the user part of the Record-Route URI.
    pub user: Option<String>,
    /// The `ftag` value (`None` when `append_fromtag` is off or the tag is empty).
    pub tag: Option<String>,
    /// The Request-URI was `sips:` (and `ignore_sips` is off).
    pub sips: bool,
    /// `add_rr_param` values given before the record-route call.
    pub pre: String,
    /// `add_rr_param` values given after it.
    pub post: String,
}

/// The rr module's state for one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RrState {
    /// The Record-Route to add (`record_route*` was called).
    pub record: Option<RrRecord>,
    /// A record-route call succeeded on this message: another one fails, even after
    /// `remove_record_route()` (Kamailio's `FL_RR_ADDED`).
    pub added: bool,
    /// `add_rr_param` values waiting for a record-route call.
    pub pending: String,
    /// The URI parameters of our own Route (or of the Request-URI after a strict router) as
    /// `loose_route()` found them: what `check_route_param` and `is_direction` read.
    pub routed: Option<String>,
    /// `loose_route()` consumed our Route and another Route follows (`rr_next_hop_route`).
    pub route_addr: bool,
    /// The module parameters, read once per message.
    cfg: std::cell::OnceCell<RrConfig>,
}

/// The rr module parameters of this message's snapshot.
pub fn config<'c>(ctx: &'c Ctx<'_>) -> std::borrow::Cow<'c, RrConfig> {
    match state(ctx) {
        Some(st) => std::borrow::Cow::Borrowed(st.cfg.get_or_init(|| RrConfig::of(ctx.snap))),
        None => std::borrow::Cow::Owned(RrConfig::of(ctx.snap)),
    }
}

/// rr's state of this message, if an rr function touched it.
pub fn state<'c>(ctx: &'c Ctx<'_>) -> Option<&'c RrState> {
    ctx.slots.get()
}

pub fn state_mut<'c>(ctx: &'c mut Ctx<'_>) -> &'c mut RrState {
    ctx.slots.entry()
}

impl MsgState for RrState {}

/// The rr module parameters, with Kamailio 5.6's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrConfig {
    pub append_fromtag: bool,
    /// `enable_double_rr`: 0 never, 1 when the sockets differ, 2 always.
    pub double_rr: i64,
    pub full_lr: bool,
    pub add_username: bool,
    pub ignore_sips: bool,
    pub force_send_socket: bool,
    /// `custom_user_avp`: the AVP name holding the user part.
    pub custom_user_avp: Option<String>,
}

impl RrConfig {
    pub fn of(snap: &Snapshot) -> RrConfig {
        let int = |p, d| snap.modparam_int("rr", p, d);
        let avp = snap
            .modparam("rr", "custom_user_avp")
            .map(|v| v.to_str().into_owned())
            .and_then(|s| {
                let s = s.trim();
                let inner = s.strip_prefix("$avp(")?.strip_suffix(')')?;
                Some(inner.trim_start_matches("s:").to_string())
            });
        RrConfig {
            append_fromtag: int("append_fromtag", 1) != 0,
            double_rr: int("enable_double_rr", 1),
            full_lr: int("enable_full_lr", 0) != 0,
            add_username: int("add_username", 0) != 0,
            ignore_sips: int("ignore_sips", 0) != 0,
            force_send_socket: int("force_send_socket", 0) != 0,
            custom_user_avp: avp,
        }
    }

    fn lr(&self) -> &'static str {
        if self.full_lr {
            ";lr=on"
        } else {
            ";lr"
        }
    }
}

/// Inserts the Record-Route header(s) the script asked for into a request sent from
/// `out_local` (rr's send hook: the core calls it before pushing its own Via, as Kamailio puts
/// Record-Route right after the request line, above its Via). Nothing without `record_route*`.
pub fn apply(ctx: &Ctx<'_>, out_local: &Local, e: &mut Edits) {
    let Some(r) = state(ctx).and_then(|s| s.record.as_ref()) else {
        return;
    };
    for line in header_lines(r, &config(ctx), ctx.local, out_local) {
        e.add_header_raw(HeaderPos::Top, line.as_bytes());
    }
}

/// The Record-Route lines (each ending in CRLF), top first, for a request received on `rcv`
/// and sent from `out`.
pub fn header_lines(r: &RrRecord, cfg: &RrConfig, rcv: &Local, out: &Local) -> Vec<String> {
    let realms_differ = rcv.proto != out.proto || rcv.addr != out.addr;
    match &r.kind {
        RrKind::Auto { params } => {
            let two = cfg.double_rr == 2 || (cfg.double_rr != 0 && realms_differ);
            let one = |side: &Local, inbound: bool| {
                let mut s = prefix(r);
                s.push_str(&hostport(side, inbound));
                s.push_str(transport_param(side.proto));
                if two {
                    s.push_str(";r2=on");
                }
                s.push_str(cfg.lr());
                push_tag(&mut s, r.tag.as_deref());
                s.push_str(params);
                s.push_str(&r.pre);
                s.push_str(&r.post);
                s.push_str(">\r\n");
                s
            };
            if two {
                vec![one(out, false), one(rcv, true)]
            } else {
                vec![one(rcv, true)]
            }
        }
        RrKind::Preset(addrs) => addrs
            .iter()
            .map(|a| {
                let mut s = prefix(r);
                s.push_str(a);
                push_tag(&mut s, r.tag.as_deref());
                s.push_str(&r.pre);
                s.push_str(cfg.lr());
                s.push_str(&r.post);
                s.push_str(">\r\n");
                s
            })
            .collect(),
        RrKind::Advertised(addr) => {
            let diff_proto = cfg.double_rr == 2 || rcv.proto != out.proto;
            let r2 = cfg.double_rr == 2 || (cfg.double_rr != 0 && realms_differ);
            let one = |side: &Local| {
                let mut s = prefix(r);
                s.push_str(addr);
                if diff_proto {
                    s.push_str(";transport=");
                    s.push_str(proto_name(side.proto));
                }
                if r2 {
                    s.push_str(";r2=on");
                }
                push_tag(&mut s, r.tag.as_deref());
                s.push_str(cfg.lr());
                s.push_str(&r.pre);
                s.push_str(&r.post);
                s.push_str(">\r\n");
                s
            };
            if cfg.double_rr != 0 && diff_proto {
                vec![one(out), one(rcv)]
            } else {
                vec![one(rcv)]
            }
        }
    }
}

fn prefix(r: &RrRecord) -> String {
    let mut s = String::with_capacity(96);
    s.push_str(if r.sips {
        "Record-Route: <sips:"
    } else {
        "Record-Route: <sip:"
    });
    if let Some(u) = r.user.as_deref().filter(|u| !u.is_empty()) {
        s.push_str(u);
        s.push('@');
    }
    s
}

fn push_tag(s: &mut String, tag: Option<&str>) {
    if let Some(t) = tag.filter(|t| !t.is_empty()) {
        s.push_str(";ftag=");
        s.push_str(t);
    }
}

/// The address of a socket as Kamailio substitutes it into Record-Route: the advertised
/// name, else the bound address (IPv6 in brackets). The receiving side leaves out port 5060;
/// the sending side leaves it out only when it is the bound port (Kamailio's asymmetry).
fn hostport(l: &Local, inbound: bool) -> String {
    let (host, port, advertised) = match &l.advertise {
        Some(a) => (
            a.host.clone(),
            a.port.unwrap_or(l.addr.port()),
            a.port.is_some(),
        ),
        None => {
            let mut ip = String::with_capacity(40);
            crate::sip::numfmt::push_ip(&mut ip, l.addr.ip(), false);
            (ip, l.addr.port(), false)
        }
    };
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    };
    let show_port = if inbound || !advertised {
        port != 5060
    } else {
        true
    };
    let mut host = host;
    if show_port {
        host.push(':');
        crate::sip::numfmt::push_int(&mut host, port);
    }
    host
}

/// `;transport=` for a socket's protocol (none for UDP), as Kamailio's substitution writes it.
fn transport_param(p: Proto) -> &'static str {
    match p {
        Proto::Udp => "",
        Proto::Tcp => ";transport=tcp",
        Proto::Tls => ";transport=tls",
        Proto::Ws | Proto::Wss => ";transport=ws",
        Proto::Sctp => ";transport=sctp",
    }
}

fn proto_name(p: Proto) -> &'static str {
    match p {
        Proto::Ws | Proto::Wss => "ws",
        other => other.as_str(),
    }
}

/// The user part for the Record-Route URI (`add_username`): the custom AVP when set, else
/// the user of the Request-URI as received, else of the rewritten one.
fn user_part(ctx: &Ctx<'_>, cfg: &RrConfig) -> Option<String> {
    if !cfg.add_username {
        return None;
    }
    if let Some(name) = &cfg.custom_user_avp {
        let v = ctx
            .avps
            .iter()
            .rev()
            .find(|(k, _)| &**k == name.as_str())
            .map(|(_, v)| v.to_str().into_owned());
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            return Some(v);
        }
    }
    let orig = ctx.msg.ruri().and_then(|u| u.user()).map(str::to_string);
    orig.or_else(|| {
        ctx.ruri
            .as_deref()
            .and_then(|r| Uri::parse(r).ok())
            .and_then(|u| u.user().map(str::to_string))
    })
}

fn sips(ctx: &Ctx<'_>, cfg: &RrConfig) -> bool {
    !cfg.ignore_sips && Uri::parse(ctx.ruri_str()).is_ok_and(|u| u.scheme() == Scheme::Sips)
}

/// Notes a Record-Route of `kind` for this message. `upstream_tag`: the ftag follows the
/// request's direction (record_route, advertised) rather than always being the From tag
/// (preset). Fails (-1) when one was already added, as Kamailio's "double attempt" check.
pub fn record(ctx: &mut Ctx<'_>, kind: RrKind, upstream_tag: bool) -> i64 {
    if state(ctx).is_some_and(|s| s.added) {
        tracing::error!("rr: double attempt to record-route");
        return -1;
    }
    state_mut(ctx);
    let cfg = config(ctx);
    let cfg = &*cfg;
    let tag = if !cfg.append_fromtag {
        None
    } else if upstream_tag && super::loose::is_upstream(ctx) {
        ctx.msg.to().ok().and_then(|t| t.tag()).map(str::to_string)
    } else {
        ctx.msg
            .from()
            .ok()
            .and_then(|f| f.tag())
            .map(str::to_string)
    };
    let user = user_part(ctx, cfg);
    let sips = sips(ctx, cfg);
    let rec = RrRecord {
        kind,
        user,
        tag,
        sips,
        pre: std::mem::take(&mut state_mut(ctx).pending),
        post: String::new(),
    };
    let st = state_mut(ctx);
    st.record = Some(rec);
    st.added = true;
    1
}

/// Kamailio's buffer for parameters waiting for a record-route call.
const PENDING_MAX: usize = 512;

/// `add_rr_param`: after a record-route call the parameter joins it, before one it waits
/// (at most 512 bytes wait, as in Kamailio). False when the wait buffer is full.
pub fn add_param(ctx: &mut Ctx<'_>, param: &str) -> bool {
    let st = state_mut(ctx);
    match &mut st.record {
        Some(r) => r.post.push_str(param),
        None if st.pending.len() + param.len() > PENDING_MAX => return false,
        None => st.pending.push_str(param),
    }
    true
}
