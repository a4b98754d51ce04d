//! Parsing the value of Kamailio's `listen=` parameter.
//!
//! Grammar accepted (keywords case-insensitive, spaces between the parts):
//!
//! ```text
//! [proto:]addr[:port] [advertise host[:port]] [name "x"]
//! proto   = udp | tcp | tls | sctp | ws | wss
//! addr    = IPv4 | [IPv6] | IPv6 (bare, only without a port) | localhost | *
//! ```
//!
//! A missing protocol means every supported one (udp and tcp), as in Kamailio. A missing port
//! is 5060. `*` is the IPv4 wildcard. Host names other than `localhost` (which becomes
//! `127.0.0.1`) are refused: sipvm does no DNS at start-up, and Kamailio's interface names
//! (`eth0`) are not supported.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{Proto, TransportError};

/// The default SIP port.
pub const DEFAULT_PORT: u16 = 5060;

/// `advertise host[:port]`: the address to announce instead of the bound one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertise {
    /// A host name or an IP address (IPv6 without brackets), kept as written.
    pub host: String,
    pub port: Option<u16>,
}

/// One parsed `listen=` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenSpec {
    /// `None`: no protocol was written, listen on every supported one (udp and tcp).
    pub proto: Option<Proto>,
    /// Port 0 binds an ephemeral port (useful in tests); the bound port is in [`super::Local`].
    pub addr: SocketAddr,
    pub advertise: Option<Advertise>,
    pub name: Option<String>,
}

impl ListenSpec {
    /// A spec for one protocol and address, without advertise or name.
    pub fn new(proto: Option<Proto>, addr: SocketAddr) -> Self {
        ListenSpec {
            proto,
            addr,
            advertise: None,
            name: None,
        }
    }

    /// The protocols this spec binds, in binding order (udp first).
    pub fn protos(&self) -> Vec<Proto> {
        match self.proto {
            Some(p) => vec![p],
            None => vec![Proto::Udp, Proto::Tcp],
        }
    }
}

/// What sipvm listens on when the configuration has no `listen=` line: UDP and TCP on
/// `127.0.0.1:5060`. (Kamailio would bind every interface address; sipvm does not expose a
/// server that nobody asked to expose. See `docs/transport.md`.)
pub fn default_listen() -> Vec<ListenSpec> {
    vec![ListenSpec::new(
        None,
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
    )]
}

/// Parses the text of one `listen=` value (without `listen=`; surrounding quotes are removed).
pub fn parse_listen(text: &str) -> Result<ListenSpec, TransportError> {
    let err = |reason: &str| TransportError::InvalidListen {
        text: text.to_string(),
        reason: reason.to_string(),
    };
    let mut t = text.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t = t[1..t.len() - 1].trim();
    }
    let mut words = Words { rest: t };
    let socket = words.next().ok_or_else(|| err("empty"))?;
    let (proto, addr) = parse_socket(socket).map_err(|e| match e {
        SockErr::Resolve(h) => TransportError::Resolve(h),
        SockErr::Bad(r) => err(&r),
    })?;
    let mut spec = ListenSpec::new(proto, addr);
    while let Some(word) = words.next() {
        if word.eq_ignore_ascii_case("advertise") || word.eq_ignore_ascii_case("as") {
            if spec.advertise.is_some() {
                return Err(err("advertise given twice"));
            }
            let value = words
                .next()
                .ok_or_else(|| err("`advertise` needs host[:port]"))?;
            spec.advertise = Some(parse_advertise(value).map_err(|r| err(&r))?);
        } else if word.eq_ignore_ascii_case("name") {
            if spec.name.is_some() {
                return Err(err("name given twice"));
            }
            let value = words.next().ok_or_else(|| err("`name` needs a value"))?;
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if value.is_empty() {
                return Err(err("empty name"));
            }
            spec.name = Some(value.to_string());
        } else {
            return Err(err(&format!("unexpected `{word}`")));
        }
    }
    Ok(spec)
}

/// Splits on ASCII whitespace, keeping a double-quoted word (which may hold spaces) whole,
/// quotes included.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start();
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let end = if let Some(body) = s.strip_prefix('"') {
            body.find('"').map(|i| i + 2).unwrap_or(s.len())
        } else {
            s.find(|c: char| c.is_ascii_whitespace()).unwrap_or(s.len())
        };
        let (word, rest) = s.split_at(end);
        self.rest = rest;
        Some(word)
    }
}

enum SockErr {
    Bad(String),
    Resolve(String),
}

fn parse_socket(s: &str) -> Result<(Option<Proto>, SocketAddr), SockErr> {
    let (proto, rest) = match s.split_once(':') {
        Some((p, rest)) => match Proto::from_name(p) {
            Some(proto) => (Some(proto), rest),
            None => (None, s),
        },
        None => (None, s),
    };
    let (host, port) = split_host_port(rest).map_err(SockErr::Bad)?;
    let ip = match host {
        HostPart::Ip(ip) => ip,
        HostPart::Name(name) => {
            if name == "*" {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else if name.eq_ignore_ascii_case("localhost") {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else if name.starts_with('(') {
                return Err(SockErr::Bad(
                    "multi-homed address lists are not supported".into(),
                ));
            } else {
                return Err(SockErr::Resolve(name.to_string()));
            }
        }
    };
    Ok((proto, SocketAddr::new(ip, port.unwrap_or(DEFAULT_PORT))))
}

enum HostPart<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// `host[:port]`, `[v6][:port]`, or a bare IPv6 address (no port).
fn split_host_port(s: &str) -> Result<(HostPart<'_>, Option<u16>), String> {
    if s.is_empty() {
        return Err("missing address".into());
    }
    if let Some(inner) = s.strip_prefix('[') {
        let close = inner.find(']').ok_or("missing `]`")?;
        let ip: Ipv6Addr = inner[..close]
            .parse()
            .map_err(|_| format!("bad IPv6 address `{}`", &inner[..close]))?;
        let after = &inner[close + 1..];
        let port = match after {
            "" => None,
            _ => Some(parse_port(
                after.strip_prefix(':').ok_or("junk after `]`")?,
            )?),
        };
        return Ok((HostPart::Ip(IpAddr::V6(ip)), port));
    }
    if let Ok(ip) = s.parse::<Ipv6Addr>() {
        return Ok((HostPart::Ip(IpAddr::V6(ip)), None));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(parse_port(p)?)),
        None => (s, None),
    };
    if host.is_empty() {
        return Err("missing address".into());
    }
    if host.contains(':') {
        return Err("an IPv6 address with a port needs brackets: [addr]:port".into());
    }
    match host.parse::<Ipv4Addr>() {
        Ok(ip) => Ok((HostPart::Ip(IpAddr::V4(ip)), port)),
        Err(_) if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            Err(format!("bad IPv4 address `{host}`"))
        }
        Err(_) => Ok((HostPart::Name(host), port)),
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad port `{p}`"));
    }
    p.parse::<u16>()
        .map_err(|_| format!("port `{p}` out of range"))
}

fn parse_advertise(s: &str) -> Result<Advertise, String> {
    let (host, port) = split_host_port(s)?;
    let host = match host {
        HostPart::Ip(ip) => ip.to_string(),
        HostPart::Name(n) => n.to_string(),
    };
    if port == Some(0) {
        return Err("advertised port 0".into());
    }
    Ok(Advertise { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> ListenSpec {
        parse_listen(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn plain_forms() {
        assert_eq!(
            ok("udp:10.0.0.1:5070"),
            ListenSpec::new(Some(Proto::Udp), sa("10.0.0.1:5070"))
        );
        assert_eq!(ok("10.0.0.1"), ListenSpec::new(None, sa("10.0.0.1:5060")));
        assert_eq!(
            ok("TCP:10.0.0.1"),
            ListenSpec::new(Some(Proto::Tcp), sa("10.0.0.1:5060"))
        );
        assert_eq!(ok("127.0.0.1:0"), ListenSpec::new(None, sa("127.0.0.1:0")));
        assert_eq!(ok("  \"udp:1.2.3.4:5\"  ").addr, sa("1.2.3.4:5"));
        assert_eq!(ok("*:5080").addr, sa("0.0.0.0:5080"));
        assert_eq!(ok("udp:localhost:5062").addr, sa("127.0.0.1:5062"));
        assert_eq!(ok("localhost").addr, sa("127.0.0.1:5060"));
    }

    #[test]
    fn ipv6() {
        assert_eq!(ok("udp:[::1]:5070").addr, sa("[::1]:5070"));
        assert_eq!(ok("[2001:db8::1]").addr, sa("[2001:db8::1]:5060"));
        assert_eq!(ok("tcp:::1").addr, sa("[::1]:5060"));
        assert_eq!(ok("::1").addr, sa("[::1]:5060"));
        assert!(parse_listen("udp:[::1").is_err());
        assert!(parse_listen("udp:[::1]x").is_err());
        assert!(parse_listen("udp:[zz]:5060").is_err());
    }

    #[test]
    fn unsupported_protocols_parse() {
        for (s, p) in [
            ("tls:1.2.3.4:5061", Proto::Tls),
            ("sctp:1.2.3.4", Proto::Sctp),
            ("ws:1.2.3.4:80", Proto::Ws),
            ("wss:1.2.3.4:443", Proto::Wss),
        ] {
            let spec = ok(s);
            assert_eq!(spec.proto, Some(p));
            assert!(!p.is_supported());
        }
    }

    #[test]
    fn advertise_and_name() {
        let s = ok(r#"udp:10.0.0.1:5060 advertise 1.2.3.4:5080 name "pub""#);
        assert_eq!(
            s.advertise,
            Some(Advertise {
                host: "1.2.3.4".into(),
                port: Some(5080)
            })
        );
        assert_eq!(s.name.as_deref(), Some("pub"));
        let s = ok("udp:10.0.0.1 ADVERTISE sip.example.com");
        assert_eq!(
            s.advertise,
            Some(Advertise {
                host: "sip.example.com".into(),
                port: None
            })
        );
        let s = ok("udp:10.0.0.1 as [2001:db8::2]:5062");
        assert_eq!(
            s.advertise,
            Some(Advertise {
                host: "2001:db8::2".into(),
                port: Some(5062)
            })
        );
        let s = ok(r#"udp:10.0.0.1 name "a b""#);
        assert_eq!(s.name.as_deref(), Some("a b"));
        assert_eq!(ok("udp:10.0.0.1 name plain").name.as_deref(), Some("plain"));
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "   ",
            "udp:",
            "udp::5060",
            "udp:1.2.3.4:",
            "udp:1.2.3.4:99999",
            "udp:1.2.3.4:50x",
            "udp:1.2.3:5060",
            "udp:1.2.3.4 advertise",
            "udp:1.2.3.4 name",
            "udp:1.2.3.4 name \"\"",
            "udp:1.2.3.4 bogus",
            "udp:1.2.3.4 advertise 1.1.1.1 advertise 2.2.2.2",
            "udp:1.2.3.4 advertise 1.1.1.1:0",
            "udp:(1.2.3.4,5.6.7.8):5060",
        ] {
            assert!(
                matches!(parse_listen(bad), Err(TransportError::InvalidListen { .. })),
                "{bad:?} -> {:?}",
                parse_listen(bad)
            );
        }
        assert!(matches!(
            parse_listen("udp:eth0:5060"),
            Err(TransportError::Resolve(h)) if h == "eth0"
        ));
        assert!(matches!(
            parse_listen("sip.example.com"),
            Err(TransportError::Resolve(_))
        ));
    }

    #[test]
    fn default_is_loopback_udp_and_tcp() {
        let d = default_listen();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].addr, sa("127.0.0.1:5060"));
        assert_eq!(d[0].protos(), vec![Proto::Udp, Proto::Tcp]);
    }
}
