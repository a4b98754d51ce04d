//! The message: framing at parse time, typed headers on first access.

use bytes::Bytes;
use smallvec::SmallVec;

use super::error::{ParseError, ParseErrorKind};
use super::headers;
use super::name::HeaderName;
use super::scan::{is_token, parse_u64};
use super::typed::{extend_str, Cache};
use super::uri::Uri;

/// Messages longer than this are refused ([`ParseErrorKind::TooLarge`]).
pub const MAX_MSG_LEN: usize = 1 << 20;
/// Messages with more header lines than this are refused ([`ParseErrorKind::TooLarge`]).
pub const MAX_HEADERS: usize = 1000;

/// How the buffer was received.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Framing {
    /// UDP: one datagram. No Content-Length means the rest of the datagram is the body;
    /// bytes after Content-Length's body are dropped.
    #[default]
    Datagram,
    /// TCP/TLS: Content-Length is required; bytes after the body are the next message
    /// ([`Msg::len`] tells how many were used). A short buffer is `Incomplete`.
    Stream,
}

/// A request method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Message,
    Refer,
    Publish,
    /// Any other token; see [`Msg::method_str`].
    Other,
}

impl Method {
    /// Methods are case-sensitive (RFC 3261 §7.1).
    pub fn from_bytes(b: &[u8]) -> Method {
        match b {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"INFO" => Method::Info,
            b"UPDATE" => Method::Update,
            b"PRACK" => Method::Prack,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"MESSAGE" => Method::Message,
            b"REFER" => Method::Refer,
            b"PUBLISH" => Method::Publish,
            _ => Method::Other,
        }
    }
}

/// Byte offsets of one header line in the message buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hdr {
    pub name: HeaderName,
    /// Start of the line (= start of the name).
    pub start: u32,
    pub name_len: u16,
    /// The value, LWS-trimmed at both ends (may contain folding).
    pub value_start: u32,
    pub value_end: u32,
    /// After the line's LF.
    pub end: u32,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Start {
    Request {
        method: Method,
        method_end: u32,
        uri: (u32, u32),
        version: (u32, u32),
    },
    Response {
        code: u16,
        version: (u32, u32),
        reason: (u32, u32),
    },
    /// Only in the partial message of a [`ParseError`].
    Invalid { response: bool },
}

/// A SIP message: the received bytes, the offsets of its first line, headers and body,
/// and typed header values parsed on first access.
#[derive(Debug)]
pub struct Msg {
    pub(crate) buf: Bytes,
    pub(crate) start: Start,
    /// After the first line's LF.
    pub(crate) first_line_end: u32,
    pub(crate) headers: SmallVec<[Hdr; 16]>,
    pub(crate) body_start: u32,
    content_length: Option<u32>,
    ruri: Option<Uri<'static>>,
    pub(crate) cache: std::cell::OnceCell<Box<Cache>>,
}

/// One header line as received.
#[derive(Clone, Copy, Debug)]
pub struct HeaderRef<'a> {
    /// Position among all headers (what [`super::Edits`] takes).
    pub index: usize,
    pub name: HeaderName,
    /// The name as written (`v`, `VIA`, `X-Foo`).
    pub name_str: &'a [u8],
    /// The value, trimmed; folded lines keep their CRLF and white space.
    pub value: &'a [u8],
}

fn parse_start(b: &[u8], line_end: usize) -> Result<Start, &'static str> {
    let line = &b[..line_end];
    let is_version = |v: &[u8]| {
        v.len() >= 7
            && v[..4].eq_ignore_ascii_case(b"SIP/")
            && match v[4..].iter().position(|&c| c == b'.') {
                Some(dot) => {
                    let (maj, min) = (&v[4..4 + dot], &v[5 + dot..]);
                    !maj.is_empty()
                        && !min.is_empty()
                        && maj.iter().all(u8::is_ascii_digit)
                        && min.iter().all(u8::is_ascii_digit)
                }
                None => false,
            }
    };
    if line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"SIP/") {
        let sp = memchr::memchr(b' ', line).ok_or("status line without code")?;
        if !is_version(&line[..sp]) {
            return Err("bad SIP version");
        }
        let rest = &line[sp + 1..];
        let (code, reason) = match memchr::memchr(b' ', rest) {
            Some(i) => (&rest[..i], sp + 1 + i + 1),
            None => (rest, line.len()),
        };
        if code.len() != 3 || !(b'1'..=b'6').contains(&code[0]) {
            return Err("status code not 100-699");
        }
        let code = parse_u64(code, 699).ok_or("bad status code")? as u16;
        if line[reason..].iter().any(|&c| c == b'\r' || c == b'\n') {
            return Err("bad reason phrase");
        }
        return Ok(Start::Response {
            code,
            version: (0, sp as u32),
            reason: (reason as u32, line.len() as u32),
        });
    }
    let m_end = line
        .iter()
        .position(|&c| !is_token(c))
        .ok_or("request line without URI")?;
    if m_end == 0 || line[m_end] != b' ' {
        return Err("bad method");
    }
    let last_sp = memchr::memrchr(b' ', line).unwrap_or(0);
    if last_sp <= m_end + 1 {
        return Err("request line without version");
    }
    let uri = &line[m_end + 1..last_sp];
    if uri.iter().any(|&c| c <= b' ' || c >= 0x7f) {
        return Err("white space in Request-URI");
    }
    if !is_version(&line[last_sp + 1..]) {
        return Err("bad SIP version");
    }
    Ok(Start::Request {
        method: Method::from_bytes(&line[..m_end]),
        method_end: m_end as u32,
        uri: ((m_end + 1) as u32, last_sp as u32),
        version: ((last_sp + 1) as u32, line.len() as u32),
    })
}

impl Msg {
    /// Parses a datagram (see [`Framing::Datagram`]).
    pub fn parse(buf: Bytes) -> Result<Msg, ParseError> {
        Self::parse_with(buf, Framing::Datagram)
    }

    /// Cuts the buffer into a first line, header lines and a body. Only the first line
    /// (and its Request-URI) and Content-Length are parsed; every other header is parsed
    /// when first read.
    pub fn parse_with(mut buf: Bytes, framing: Framing) -> Result<Msg, ParseError> {
        use ParseErrorKind as K;
        if buf.len() > MAX_MSG_LEN {
            return Err(ParseError::new(K::TooLarge, "message too large"));
        }
        // RFC 3261 §7.5: CRLFs before the start line are ignored.
        let lead = buf
            .iter()
            .take_while(|&&c| c == b'\r' || c == b'\n')
            .count();
        if lead == buf.len() {
            return Err(ParseError::new(K::Empty, "no message"));
        }
        if lead > 0 {
            buf = buf.slice(lead..);
        }
        let incomplete = |detail| {
            let kind = if framing == Framing::Stream {
                K::Incomplete
            } else {
                K::Framing
            };
            ParseError::new(kind, detail)
        };
        let b: &[u8] = &buf;
        let Some(nl) = memchr::memchr(b'\n', b) else {
            return Err(incomplete("no end of the first line"));
        };
        let line_end = if nl > 0 && b[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let start = parse_start(b, line_end);
        let first_line_end = nl + 1;

        let mut headers: SmallVec<[Hdr; 16]> = SmallVec::new();
        let mut pos = first_line_end;
        let mut content_length: Option<u32> = None;
        let mut framing_err: Option<(ParseErrorKind, &'static str)> = None;
        // Running out of bytes: a stream may bring the rest, a datagram will not.
        let short = if framing == Framing::Stream {
            K::Incomplete
        } else {
            K::Framing
        };
        let body_start = loop {
            if pos >= b.len() {
                framing_err.get_or_insert((short, "no empty line after the headers"));
                break b.len();
            }
            if b[pos] == b'\n' {
                break pos + 1;
            }
            if b[pos] == b'\r' && b.get(pos + 1) == Some(&b'\n') {
                break pos + 2;
            }
            let name_end = pos + b[pos..].iter().take_while(|&&c| is_token(c)).count();
            let mut colon = name_end;
            while colon < b.len() && (b[colon] == b' ' || b[colon] == b'\t') {
                colon += 1;
            }
            if colon >= b.len() || (b[pos] == b'\r' && pos + 1 == b.len()) {
                framing_err.get_or_insert((short, "unterminated header line"));
                break b.len();
            }
            if name_end == pos || b[colon] != b':' {
                framing_err.get_or_insert((K::Framing, "bad header line"));
                break b.len();
            }
            // The line, with its continuation lines.
            let mut lf = match memchr::memchr(b'\n', &b[colon..]) {
                Some(i) => colon + i,
                None => {
                    framing_err.get_or_insert((
                        if framing == Framing::Stream {
                            K::Incomplete
                        } else {
                            K::Framing
                        },
                        "unterminated header line",
                    ));
                    break b.len();
                }
            };
            while matches!(b.get(lf + 1), Some(b' ' | b'\t')) {
                match memchr::memchr(b'\n', &b[lf + 1..]) {
                    Some(i) => lf = lf + 1 + i,
                    None => {
                        lf = b.len() - 1;
                        break;
                    }
                }
            }
            let mut vs = colon + 1;
            let mut ve = lf;
            while ve > vs && matches!(b[ve - 1], b' ' | b'\t' | b'\r' | b'\n') {
                ve -= 1;
            }
            while vs < ve && matches!(b[vs], b' ' | b'\t' | b'\r' | b'\n') {
                vs += 1;
            }
            let name = HeaderName::from_bytes(&b[pos..name_end]);
            if name == HeaderName::ContentLength {
                match headers::content_length(&b[vs..ve]) {
                    Some(n) if content_length.is_none_or(|c| c == n) => content_length = Some(n),
                    Some(_) => {
                        framing_err
                            .get_or_insert((K::Framing, "conflicting Content-Length headers"));
                    }
                    None => {
                        framing_err.get_or_insert((K::Framing, "bad Content-Length"));
                    }
                }
            }
            if headers.len() >= MAX_HEADERS {
                // Kept as a partial message, so the first headers can still answer it.
                framing_err.get_or_insert((K::TooLarge, "too many headers"));
                break b.len();
            }
            headers.push(Hdr {
                name,
                start: pos as u32,
                name_len: (name_end - pos).min(u16::MAX as usize) as u16,
                value_start: vs as u32,
                value_end: ve as u32,
                end: (lf + 1) as u32,
            });
            pos = lf + 1;
        };

        let mut msg = Msg {
            buf: buf.clone(),
            start: Start::Invalid { response: false },
            first_line_end: first_line_end as u32,
            headers,
            body_start: body_start as u32,
            content_length,
            ruri: None,
            cache: std::cell::OnceCell::new(),
        };
        let fail = |mut msg: Msg, kind, detail, response| {
            if !matches!(msg.start, Start::Request { .. } | Start::Response { .. }) {
                msg.start = Start::Invalid { response };
            }
            let mut e = ParseError::new(kind, detail);
            e.partial = Some(Box::new(msg));
            e
        };
        let looks_response = b.len() >= 4 && b[..4].eq_ignore_ascii_case(b"SIP/");
        let start = match start {
            Ok(s) => s,
            Err(d) => return Err(fail(msg, K::StartLine, d, looks_response)),
        };
        if let Start::Request { uri, .. } = start {
            let u = &b[uri.0 as usize..uri.1 as usize];
            let parsed = std::str::from_utf8(u)
                .ok()
                .and_then(|s| Uri::parse(extend_str(s)).ok());
            match parsed {
                Some(p) => msg.ruri = Some(p),
                None => return Err(fail(msg, K::StartLine, "bad Request-URI", false)),
            }
        }
        msg.start = start;
        if let Some((kind, d)) = framing_err {
            return Err(fail(msg, kind, d, looks_response));
        }
        let end = match (content_length, framing) {
            (Some(cl), _) => {
                let end = body_start + cl as usize;
                if end > b.len() {
                    let kind = if framing == Framing::Stream {
                        K::Incomplete
                    } else {
                        K::Framing
                    };
                    return Err(fail(
                        msg,
                        kind,
                        "body shorter than Content-Length",
                        looks_response,
                    ));
                }
                end
            }
            (None, Framing::Datagram) => b.len(),
            (None, Framing::Stream) => {
                return Err(fail(
                    msg,
                    K::Framing,
                    "no Content-Length on a stream",
                    looks_response,
                ));
            }
        };
        msg.buf.truncate(end);
        Ok(msg)
    }

    // ---- first line -------------------------------------------------------------------

    /// The message bytes (without leading CRLFs and without bytes after the body).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
    /// The message as a shared buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.buf
    }
    /// Length of the message in bytes.
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn is_request(&self) -> bool {
        matches!(
            self.start,
            Start::Request { .. } | Start::Invalid { response: false }
        )
    }
    pub fn is_response(&self) -> bool {
        !self.is_request()
    }
    /// The method of a request.
    pub fn method(&self) -> Option<Method> {
        match self.start {
            Start::Request { method, .. } => Some(method),
            _ => None,
        }
    }
    /// The method token as written (`""` for a response).
    pub fn method_str(&self) -> &str {
        match self.start {
            Start::Request { method_end, .. } => {
                std::str::from_utf8(&self.buf[..method_end as usize]).unwrap_or("")
            }
            _ => "",
        }
    }
    /// The Request-URI (parsed with the first line).
    pub fn ruri(&self) -> Option<&Uri<'_>> {
        self.ruri.as_ref()
    }
    /// The Request-URI as written.
    pub fn ruri_str(&self) -> &str {
        self.ruri.as_ref().map_or("", |u| u.as_str())
    }
    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            Start::Response { code, .. } => Some(code),
            _ => None,
        }
    }
    /// The reason phrase of a response (may be empty, may be UTF-8).
    pub fn reason(&self) -> Option<&[u8]> {
        match self.start {
            Start::Response { reason, .. } => Some(&self.buf[reason.0 as usize..reason.1 as usize]),
            _ => None,
        }
    }
    /// The SIP version as written (`SIP/2.0`).
    pub fn version(&self) -> &[u8] {
        match self.start {
            Start::Request { version, .. } | Start::Response { version, .. } => {
                &self.buf[version.0 as usize..version.1 as usize]
            }
            Start::Invalid { .. } => b"",
        }
    }
    /// Whether the version is `SIP/2.0`. Other versions parse (RFC 4475 §3.1.2.16) so that
    /// request validation can answer them with 505.
    pub fn version_ok(&self) -> bool {
        self.version().eq_ignore_ascii_case(b"SIP/2.0")
    }

    // ---- raw headers ------------------------------------------------------------------

    /// Every header line, in order.
    pub fn headers(&self) -> impl Iterator<Item = HeaderRef<'_>> + '_ {
        self.headers
            .iter()
            .enumerate()
            .map(|(index, h)| self.header_ref(index, h))
    }
    fn header_ref(&self, index: usize, h: &Hdr) -> HeaderRef<'_> {
        HeaderRef {
            index,
            name: h.name,
            name_str: &self.buf[h.start as usize..h.start as usize + h.name_len as usize],
            value: &self.buf[h.value_start as usize..h.value_end as usize],
        }
    }
    /// The number of header lines.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }
    /// The header at `index`.
    pub fn header(&self, index: usize) -> Option<HeaderRef<'_>> {
        self.headers.get(index).map(|h| self.header_ref(index, h))
    }
    /// Raw values of every header called `name`, in order (one per header line; a line
    /// with several comma-separated values gives one item).
    pub fn header_values(&self, name: HeaderName) -> impl Iterator<Item = &[u8]> + '_ {
        self.headers
            .iter()
            .filter(move |h| h.name == name)
            .map(|h| &self.buf[h.value_start as usize..h.value_end as usize])
    }
    /// Raw values of headers by name text (case-insensitive; compact forms of known names
    /// match too).
    pub fn header_values_by_name<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s [u8]> + 's {
        let known = if name.bytes().all(is_token) {
            HeaderName::from_bytes(name.as_bytes())
        } else {
            HeaderName::Other
        };
        self.headers()
            .filter(move |h| {
                if known != HeaderName::Other {
                    h.name == known
                } else {
                    h.name == HeaderName::Other && h.name_str.eq_ignore_ascii_case(name.as_bytes())
                }
            })
            .map(|h| h.value)
    }
    /// The first header called `name`, if any.
    pub fn find(&self, name: HeaderName) -> Option<usize> {
        self.headers.iter().position(|h| h.name == name)
    }
    /// The body (exactly Content-Length bytes, or the rest of a datagram without one).
    pub fn body(&self) -> &[u8] {
        &self.buf[self.body_start as usize..]
    }
    /// Offset of the body in [`Msg::as_bytes`].
    pub fn body_offset(&self) -> usize {
        self.body_start as usize
    }
    /// Content-Length (validated when the message was framed).
    pub fn content_length(&self) -> Option<u32> {
        self.content_length
    }
}
