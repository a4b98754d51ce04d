//! Building the requests, parsing just enough of the replies, and the echo server's answer.
//!
//! Every request names its window slot and that slot's generation in its Call-ID
//! (`RUN.THREAD.SLOT.GEN@sipload`), its Via branch (`z9hG4bK.RUN.THREAD.SLOT.GEN`) and its
//! From tag, so a reply is matched by parsing its Call-ID alone.

use std::io::Write;

/// The request method to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[clap(rename_all = "UPPER")]
pub enum Method {
    Options,
    Invite,
    Message,
    Register,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Options => "OPTIONS",
            Method::Invite => "INVITE",
            Method::Message => "MESSAGE",
            Method::Register => "REGISTER",
        }
    }
}

/// Identity of a request: which run, thread, window slot and slot generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Id {
    pub run: u32,
    pub thread: u32,
    pub slot: u32,
    pub gen: u32,
}

/// Writes requests for one client socket.
pub struct Builder {
    pub method: Method,
    /// `host:port` of the client socket, as it goes in Via and Contact.
    pub local: String,
    /// `host:port` of the target, as it goes in the Request-URI and To.
    pub target: String,
    /// With `Some(n)`, requests address users `u0`..`u{n-1}` (To, and the Request-URI user
    /// except for REGISTER) instead of `service`, spread by the request's id.
    pub users: Option<u32>,
    /// `host:port` a REGISTER's Contact points at (default: the client socket).
    pub contact: Option<String>,
    /// Requests in flight per thread (to number users in the order requests go out).
    pub window: u32,
}

impl Builder {
    /// The user request `id` addresses: `service`, or one of `--users` in the order requests
    /// go out (slot by slot, a window per generation), so N requests from one thread reach
    /// all N users.
    pub fn user(&self, id: Id) -> String {
        match self.users {
            Some(n) if n > 0 => {
                let k = (u64::from(id.gen) * u64::from(self.window.max(1))
                    + u64::from(id.slot)
                    + u64::from(id.thread) * 1_000_003)
                    % u64::from(n);
                format!("u{k}")
            }
            _ => "service".to_string(),
        }
    }

    /// The request `id`.
    pub fn request(&self, out: &mut Vec<u8>, id: Id) {
        let m = self.method.as_str();
        let Id {
            run,
            thread,
            slot,
            gen,
        } = id;
        let user = self.user(id);
        let (ruri, contact, expires) = if self.method == Method::Register {
            let c = self.contact.as_deref().unwrap_or(&self.local);
            (
                format!("sip:{}", self.target),
                format!("<sip:{user}@{c}>"),
                "Expires: 3600\r\n",
            )
        } else {
            (
                format!("sip:{user}@{}", self.target),
                format!("<sip:sipload@{}>", self.local),
                "",
            )
        };
        let _ = write!(
            out,
            "{m} {ruri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {l};rport;branch=z9hG4bK.{run:x}.{thread}.{slot}.{gen}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{from}@{f}>;tag={thread}.{slot}.{gen}\r\n\
             To: <sip:{user}@{t}>\r\n\
             Call-ID: {run:x}.{thread}.{slot}.{gen}@sipload\r\n\
             CSeq: 1 {m}\r\n\
             Contact: {contact}\r\n\
             {expires}User-Agent: sipload\r\n\
             Content-Length: 0\r\n\r\n",
            t = self.target,
            l = self.local,
            from = if self.method == Method::Register {
                user.as_str()
            } else {
                "sipload"
            },
            f = if self.method == Method::Register {
                &self.target
            } else {
                &self.local
            },
        );
    }

    /// The ACK for a final reply to INVITE `id`: for a 2xx a new transaction (new branch),
    /// for anything else part of the INVITE's transaction (same branch). `to` is the reply's
    /// To header value (with the to-tag).
    pub fn ack(&self, out: &mut Vec<u8>, id: Id, to: &[u8], two_xx: bool) {
        let Id {
            run,
            thread,
            slot,
            gen,
        } = id;
        let suffix = if two_xx { ".ack" } else { "" };
        let _ = write!(
            out,
            "ACK sip:service@{t} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {l};rport;branch=z9hG4bK.{run:x}.{thread}.{slot}.{gen}{suffix}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:sipload@{l}>;tag={thread}.{slot}.{gen}\r\n\
             To: ",
            t = self.target,
            l = self.local,
        );
        out.extend_from_slice(to);
        let _ = write!(
            out,
            "\r\nCall-ID: {run:x}.{thread}.{slot}.{gen}@sipload\r\n\
             CSeq: 1 ACK\r\n\
             Content-Length: 0\r\n\r\n"
        );
    }
}

/// What the client reads from a reply.
#[derive(Debug)]
pub struct Reply<'a> {
    pub code: u16,
    /// The request it answers, when the Call-ID is one of ours.
    pub id: Option<Id>,
    /// The To header's value (needed for an ACK).
    pub to: &'a [u8],
}

/// Header lines of a message (after the first line, up to the blank line), with `\r` trimmed.
fn header_lines(msg: &[u8]) -> impl Iterator<Item = &[u8]> {
    let start = msg
        .iter()
        .position(|&c| c == b'\n')
        .map_or(msg.len(), |p| p + 1);
    msg[start..]
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
}

/// Splits `Name: value` into the name and the trimmed value.
fn split_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&c| c == b':')?;
    Some((line[..colon].trim_ascii(), line[colon + 1..].trim_ascii()))
}

/// Parses the status line and the Call-ID and To headers of a reply; `None` if it is no reply.
pub fn parse_reply(msg: &[u8]) -> Option<Reply<'_>> {
    let rest = msg.strip_prefix(b"SIP/2.0 ")?;
    let d = rest.get(..3)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = d
        .iter()
        .fold(0u16, |acc, &c| acc * 10 + u16::from(c - b'0'));
    let mut id = None;
    let mut to: &[u8] = b"";
    for line in header_lines(msg) {
        let Some((name, value)) = split_header(line) else {
            continue;
        };
        if name.eq_ignore_ascii_case(b"call-id") || name.eq_ignore_ascii_case(b"i") {
            id = parse_call_id(value);
        } else if name.eq_ignore_ascii_case(b"to") || name.eq_ignore_ascii_case(b"t") {
            to = value;
        }
    }
    Some(Reply { code, id, to })
}

/// `RUN.THREAD.SLOT.GEN@sipload` -> the Id.
fn parse_call_id(v: &[u8]) -> Option<Id> {
    let local = v.strip_suffix(b"@sipload")?;
    let mut parts = local.split(|&c| c == b'.');
    let run = u32::from_str_radix(std::str::from_utf8(parts.next()?).ok()?, 16).ok()?;
    let mut dec = || -> Option<u32> { std::str::from_utf8(parts.next()?).ok()?.parse().ok() };
    let thread = dec()?;
    let slot = dec()?;
    let gen = dec()?;
    Some(Id {
        run,
        thread,
        slot,
        gen,
    })
}

/// The echo server's answer to `req`: `SIP/2.0 200 OK` plus the request's Via, From, To (with a
/// to-tag added when it has none), Call-ID and CSeq lines, found by a line scan, and
/// `Content-Length: 0`. Returns false (and writes nothing) for an ACK or anything that is not a
/// request.
pub fn echo_reply(req: &[u8], out: &mut Vec<u8>) -> bool {
    if req.starts_with(b"SIP/") || req.starts_with(b"ACK ") || req.is_empty() {
        return false;
    }
    out.extend_from_slice(b"SIP/2.0 200 OK\r\n");
    for line in header_lines(req) {
        let colon = match line.iter().position(|&c| c == b':') {
            Some(c) => c,
            None => continue,
        };
        let name = line[..colon].trim_ascii();
        let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
        let copy = is(b"via") || is(b"v") || is(b"from") || is(b"f") || is(b"call-id");
        if copy || is(b"i") || is(b"cseq") {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        } else if is(b"to") || is(b"t") {
            out.extend_from_slice(line);
            if !line.windows(4).any(|w| w.eq_ignore_ascii_case(b"tag=")) {
                out.extend_from_slice(b";tag=sipload-echo");
            }
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(m: Method) -> Builder {
        Builder {
            method: m,
            local: "127.0.0.1:40000".into(),
            target: "127.0.0.1:5060".into(),
            users: None,
            contact: None,
            window: 32,
        }
    }

    const ID: Id = Id {
        run: 0xbeef,
        thread: 1,
        slot: 7,
        gen: 42,
    };

    #[test]
    fn request_is_well_formed() {
        let mut out = Vec::new();
        builder(Method::Invite).request(&mut out, ID);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"));
        assert!(s.contains("Via: SIP/2.0/UDP 127.0.0.1:40000;rport;branch=z9hG4bK.beef.1.7.42\r\n"));
        assert!(s.contains("Max-Forwards: 70\r\n"));
        assert!(s.contains("CSeq: 1 INVITE\r\n"));
        assert!(s.contains(";tag=1.7.42\r\n"));
        assert!(s.ends_with("Content-Length: 0\r\n\r\n"));
    }

    #[test]
    fn echo_answers_and_client_matches() {
        let mut req = Vec::new();
        builder(Method::Options).request(&mut req, ID);
        let mut rep = Vec::new();
        assert!(echo_reply(&req, &mut rep));
        let r = parse_reply(&rep).unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(r.id, Some(ID));
        assert_eq!(r.to, b"<sip:service@127.0.0.1:5060>;tag=sipload-echo");
        let text = String::from_utf8(rep).unwrap();
        assert!(text.contains("CSeq: 1 OPTIONS\r\n"));
        assert!(text.contains("branch=z9hG4bK.beef.1.7.42\r\n"));
        // No answer to an ACK or to a reply.
        let mut ack = Vec::new();
        builder(Method::Invite).ack(&mut ack, ID, b"<sip:x@y>;tag=1", true);
        assert!(!echo_reply(&ack, &mut Vec::new()));
        assert!(!echo_reply(text.as_bytes(), &mut Vec::new()));
    }

    #[test]
    fn parses_compact_headers_and_foreign_call_ids() {
        let r = parse_reply(
            b"SIP/2.0 486 Busy Here\r\ni: beef.0.3.9@sipload\r\nt: <sip:a@b>;tag=x\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.code, 486);
        assert_eq!(r.id.unwrap().slot, 3);
        assert_eq!(r.to, b"<sip:a@b>;tag=x");
        let r = parse_reply(b"SIP/2.0 200 OK\r\nCall-ID: abc@elsewhere\r\n\r\n").unwrap();
        assert!(r.id.is_none());
        assert!(parse_reply(b"OPTIONS sip:x SIP/2.0\r\n\r\n").is_none());
        assert!(parse_reply(b"SIP/2.0 2x0 OK\r\n\r\n").is_none());
    }

    #[test]
    fn register_names_a_user_and_its_contact() {
        let mut b = builder(Method::Register);
        b.users = Some(100);
        b.contact = Some("127.0.0.1:5081".into());
        let mut out = Vec::new();
        b.request(&mut out, ID);
        let s = String::from_utf8(out).unwrap();
        let user = b.user(ID);
        assert!(
            s.starts_with("REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n"),
            "{s}"
        );
        assert!(
            s.contains(&format!("To: <sip:{user}@127.0.0.1:5060>\r\n")),
            "{s}"
        );
        assert!(
            s.contains(&format!("Contact: <sip:{user}@127.0.0.1:5081>\r\n")),
            "{s}"
        );
        assert!(s.contains("Expires: 3600\r\n"));
        let mut inv = builder(Method::Invite);
        inv.users = Some(100);
        let mut out = Vec::new();
        inv.request(&mut out, ID);
        assert!(String::from_utf8(out)
            .unwrap()
            .starts_with(&format!("INVITE sip:{user}@127.0.0.1:5060 ")));
    }
}
