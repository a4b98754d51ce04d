//! SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), and any other absolute URI kept
//! opaque. Parsing borrows the input and never allocates.

use std::borrow::Cow;
use std::fmt;

use super::params::{span_escaped, uri_headers, uri_params, Params};
use super::scan::{find, hex_val, is, HOST, PASSWORD, RESERVED, USER};

/// Why a URI was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad URI: {0}")]
pub struct UriError(pub &'static str);

/// The URI scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
    /// Any other absolute URI (`http:`, `isbn:`, ...): only its scheme and opaque part.
    Other,
}

/// What a host is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    Name,
    Ipv4,
    /// An IPv6 reference; [`Uri::host`] keeps its brackets.
    Ipv6,
}

/// A parsed URI: every part is a slice of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uri<'a> {
    raw: &'a str,
    scheme: Scheme,
    scheme_str: &'a str,
    user: Option<&'a str>,
    password: Option<&'a str>,
    host: &'a str,
    host_kind: HostKind,
    port: Option<u16>,
    port_str: &'a str,
    params: Params<'a>,
    headers: Option<&'a str>,
}

impl<'a> Uri<'a> {
    /// Parses a URI. SIP/SIPS URIs are checked against RFC 3261's grammar (escapes must be
    /// `%HH`; a port is 1-5 digits ≤ 65535; IPv6 references are checked for their alphabet
    /// only, so RFC 5118's `[2001:db8:::192.0.2.1]` is tolerated as Kamailio tolerates it).
    pub fn parse(s: &'a str) -> Result<Uri<'a>, UriError> {
        let colon = find(s.as_bytes(), b':').ok_or(UriError("no scheme"))?;
        let scheme_str = &s[..colon];
        let sb = scheme_str.as_bytes();
        if sb.is_empty()
            || !sb[0].is_ascii_alphabetic()
            || !sb[1..]
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err(UriError("bad scheme"));
        }
        let rest = &s[colon + 1..];
        let scheme = if scheme_str.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme_str.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme_str.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            Scheme::Other
        };
        let mut u = Uri {
            raw: s,
            scheme,
            scheme_str,
            user: None,
            password: None,
            host: "",
            host_kind: HostKind::Name,
            port: None,
            port_str: "",
            params: Params::default(),
            headers: None,
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => u.parse_sip(rest)?,
            Scheme::Tel => u.parse_tel(rest)?,
            Scheme::Other => {
                let b = rest.as_bytes();
                if b.is_empty() || span_escaped(b, RESERVED) != Some(b.len()) {
                    return Err(UriError("bad opaque part"));
                }
            }
        }
        Ok(u)
    }

    fn parse_sip(&mut self, rest: &'a str) -> Result<(), UriError> {
        let mut hp = rest;
        if let Some(at) = find(rest.as_bytes(), b'@') {
            let ui = &rest[..at];
            let (user, pw) = match find(ui.as_bytes(), b':') {
                Some(c) => (&ui[..c], Some(&ui[c + 1..])),
                None => (ui, None),
            };
            if user.is_empty() || span_escaped(user.as_bytes(), USER) != Some(user.len()) {
                return Err(UriError("bad user part"));
            }
            if let Some(pw) = pw {
                if span_escaped(pw.as_bytes(), PASSWORD) != Some(pw.len()) {
                    return Err(UriError("bad password"));
                }
            }
            self.user = Some(user);
            self.password = pw;
            hp = &rest[at + 1..];
        }
        let (host, kind, after) = split_host(hp).ok_or(UriError("bad host"))?;
        self.host = host;
        self.host_kind = kind;
        let mut rest = after;
        if let Some(p) = rest.strip_prefix(':') {
            let n = p.bytes().take_while(u8::is_ascii_digit).count();
            let port = &p[..n];
            if n == 0 || n > 5 {
                return Err(UriError("bad port"));
            }
            self.port = Some(port.parse::<u16>().map_err(|_| UriError("bad port"))?);
            self.port_str = port;
            rest = &p[n..];
        }
        self.tail(rest)
    }

    fn parse_tel(&mut self, rest: &'a str) -> Result<(), UriError> {
        let end = memchr::memchr2(b';', b'?', rest.as_bytes()).unwrap_or(rest.len());
        let num = &rest[..end];
        if num.is_empty()
            || !num.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'+' | b'-' | b'.' | b'(' | b')' | b'*' | b'#')
            })
        {
            return Err(UriError("bad telephone number"));
        }
        self.user = Some(num);
        self.tail(&rest[end..])
    }

    /// `[;params][?headers]` and nothing else.
    fn tail(&mut self, rest: &'a str) -> Result<(), UriError> {
        let (p, h) = match find(rest.as_bytes(), b'?') {
            Some(q) => (&rest[..q], Some(&rest[q + 1..])),
            None => (rest, None),
        };
        if !p.is_empty() {
            let p = p.strip_prefix(';').ok_or(UriError("junk after host"))?;
            self.params = uri_params(p).map_err(|_| UriError("bad parameter"))?;
        }
        if let Some(h) = h {
            uri_headers(h).map_err(|_| UriError("bad header"))?;
            self.headers = Some(h);
        }
        Ok(())
    }

    /// The whole URI as given.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    pub fn scheme_str(&self) -> &'a str {
        self.scheme_str
    }
    /// The user part, escapes kept (`%75se%72`); for tel URIs, the number.
    pub fn user(&self) -> Option<&'a str> {
        self.user
    }
    /// The user part with `%HH` decoded (may hold any byte, NUL included).
    pub fn user_unescaped(&self) -> Option<Cow<'a, [u8]>> {
        self.user.map(unescape)
    }
    pub fn password(&self) -> Option<&'a str> {
        self.password
    }
    /// The host as written; an IPv6 reference keeps its brackets. Empty for tel and
    /// opaque URIs.
    pub fn host(&self) -> &'a str {
        self.host
    }
    pub fn host_kind(&self) -> HostKind {
        self.host_kind
    }
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    /// The port as written (`""` if none).
    pub fn port_str(&self) -> &'a str {
        self.port_str
    }
    /// `host[:port]` as written.
    pub fn hostport(&self) -> &'a str {
        if self.host.is_empty() {
            return "";
        }
        let start = self.host.as_ptr() as usize - self.raw.as_ptr() as usize;
        let mut end = start + self.host.len();
        if !self.port_str.is_empty() {
            end += 1 + self.port_str.len();
        }
        &self.raw[start..end]
    }
    pub fn params(&self) -> Params<'a> {
        self.params
    }
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params.get(name)
    }
    /// The URI headers after `?`, raw (`Route=%3Csip:x%3E&...`).
    pub fn headers(&self) -> Option<&'a str> {
        self.headers
    }
    /// After `scheme:`, raw.
    pub fn opaque(&self) -> &'a str {
        &self.raw[self.scheme_str.len() + 1..]
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

/// Decodes `%HH` escapes (a malformed escape is kept as is).
pub fn unescape(s: &str) -> Cow<'_, [u8]> {
    let b = s.as_bytes();
    if !b.contains(&b'%') {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex_val),
                b.get(i + 2).copied().and_then(hex_val),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// Splits `host` off the front of `s`: an IPv6 reference `[...]`, an IPv4 address, or a
/// host name. Returns the host, its kind, and what follows.
pub(crate) fn split_host(s: &str) -> Option<(&str, HostKind, &str)> {
    let b = s.as_bytes();
    if b.first() == Some(&b'[') {
        let close = find(b, b']')?;
        let inner = &b[1..close];
        let colons = inner.iter().filter(|&&c| c == b':').count();
        if colons < 2
            || inner.len() > 45
            || !inner
                .iter()
                .all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return None;
        }
        return Some((&s[..=close], HostKind::Ipv6, &s[close + 1..]));
    }
    let n = b.iter().take_while(|&&c| is(c, HOST)).count();
    if n == 0 {
        return None;
    }
    let host = &s[..n];
    let kind = if host.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        if !is_ipv4(host) {
            return None;
        }
        HostKind::Ipv4
    } else {
        HostKind::Name
    };
    Some((host, kind, &s[n..]))
}

pub(crate) fn is_ipv4(s: &str) -> bool {
    // Four dot-separated decimal parts of 1-3 digits, each at most 255 (leading zeros allowed).
    let (mut parts, mut digits, mut value) = (0, 0, 0u16);
    for &b in s.as_bytes() {
        match b {
            b'0'..=b'9' if digits < 3 => {
                digits += 1;
                value = value * 10 + u16::from(b - b'0');
            }
            b'.' if digits > 0 && value <= 255 && parts < 3 => {
                parts += 1;
                digits = 0;
                value = 0;
            }
            _ => return false,
        }
    }
    parts == 3 && digits > 0 && value <= 255
}

#[cfg(test)]
mod ipv4_tests {
    use super::is_ipv4;

    /// The plain definition the fast scanner must agree with.
    fn reference(s: &str) -> bool {
        let parts: Vec<&str> = s.split('.').collect();
        parts.len() == 4
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 3
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|v| v <= 255)
            })
    }

    #[test]
    fn agrees_with_the_definition() {
        for s in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.002.3.4",
            "1..2.3",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.4 ",
            "a.b.c.d",
            "1234.1.1.1",
            "",
            ".",
            "1.2.3.999",
            "+1.2.3.4",
            "example.com",
            "10.0.0.255",
        ] {
            assert_eq!(is_ipv4(s), reference(s), "{s:?}");
        }
    }
}
