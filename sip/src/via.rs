//! Via (RFC 3261 §20.42, RFC 3581 rport, RFC 5118 IPv6 `received`).

use super::headers::{list, PResult};
use super::params::{header_params_with, Params};
use super::scan::Cur;
use super::uri::{split_host, HostKind};

/// One Via element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    raw: &'a str,
    protocol: &'a str,
    version: &'a str,
    transport: &'a str,
    host: &'a str,
    host_kind: HostKind,
    port: Option<u16>,
    params: Params<'a>,
    branch: Option<&'a str>,
    received: Option<&'a str>,
    rport: Option<Option<&'a str>>,
}

impl<'a> Via<'a> {
    /// The element as written (trimmed; may contain folding).
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// `SIP`.
    pub fn protocol(&self) -> &'a str {
        self.protocol
    }
    /// `2.0`.
    pub fn version(&self) -> &'a str {
        self.version
    }
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`, ... as written.
    pub fn transport(&self) -> &'a str {
        self.transport
    }
    /// sent-by host; an IPv6 reference keeps its brackets.
    pub fn host(&self) -> &'a str {
        self.host
    }
    pub fn host_kind(&self) -> HostKind {
        self.host_kind
    }
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    pub fn params(&self) -> Params<'a> {
        self.params
    }
    pub fn branch(&self) -> Option<&'a str> {
        self.branch
    }
    /// `received` as written (IPv6 with or without brackets, RFC 5118 §4.5).
    pub fn received(&self) -> Option<&'a str> {
        self.received
    }
    /// `None`: no rport; `Some(None)`: `;rport`; `Some(Some("5060"))`: with a value.
    pub fn rport(&self) -> Option<Option<&'a str>> {
        self.rport
    }
}

fn via_one<'a>(cur: &mut Cur<'a>) -> PResult<Via<'a>> {
    let start = cur.pos;
    let protocol = cur.token();
    cur.lws();
    if protocol.is_empty() || !cur.eat(b'/') {
        return Err("bad sent-protocol");
    }
    cur.lws();
    let version = cur.token();
    cur.lws();
    if version.is_empty() || !cur.eat(b'/') {
        return Err("bad sent-protocol");
    }
    cur.lws();
    let transport = cur.token();
    if transport.is_empty() || !cur.lws() {
        return Err("bad sent-protocol");
    }
    let (host, host_kind, _) = split_host(cur.rest()).ok_or("bad sent-by host")?;
    cur.pos += host.len();
    let save = cur.pos;
    cur.lws();
    let mut port = None;
    if cur.eat(b':') {
        cur.lws();
        let p = cur.take_while(|c| c.is_ascii_digit());
        if p.is_empty() || p.len() > 5 {
            return Err("bad sent-by port");
        }
        port = Some(p.parse::<u16>().map_err(|_| "bad sent-by port")?);
    } else {
        cur.pos = save;
    }
    let mut v = Via {
        raw: "",
        protocol,
        version,
        transport,
        host,
        host_kind,
        port,
        params: Params::default(),
        branch: None,
        received: None,
        rport: None,
    };
    let mut why = None;
    v.params = header_params_with(cur, |n, val| {
        let mut bad = |w| {
            why = Some(w);
            Err(())
        };
        if n.eq_ignore_ascii_case("branch") {
            match val {
                Some(b) => v.branch = v.branch.or(Some(b)),
                None => return bad("branch without value"),
            }
        } else if n.eq_ignore_ascii_case("received") {
            match val {
                Some(r) => v.received = v.received.or(Some(r)),
                None => return bad("received without value"),
            }
        } else if n.eq_ignore_ascii_case("rport") {
            if let Some(p) = val {
                if p.is_empty() || p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
                    return bad("bad rport");
                }
            }
            v.rport = v.rport.or(Some(val));
        }
        Ok(())
    })
    .map_err(|_| why.unwrap_or("bad parameter"))?;
    v.raw = cur.slice(start, cur.pos);
    Ok(v)
}

/// Every Via element of the given header values, in order.
pub(crate) fn vias<'a>(values: impl Iterator<Item = &'a str>) -> PResult<Vec<Via<'a>>> {
    list(values, via_one)
}
