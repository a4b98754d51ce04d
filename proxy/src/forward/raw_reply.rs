//! A reply for a request too broken for the usual builder (RFC 4475's bad Via, CSeq or
//! missing From/To): the header lines copied as received, so the sender still gets its 400.

use crate::sip::{HeaderName, Method, Msg};
use std::io::Write as _;

/// `SIP/2.0 code reason` with the request's Via lines and its first From, To (tagged),
/// Call-ID and CSeq lines as written, then `extra`; `None` for an ACK, a reply, or a
/// request without any Via line (nowhere to answer).
pub fn raw_reply(m: &Msg, code: u16, reason: &str, extra: &[(&str, &str)]) -> Option<Vec<u8>> {
    if !m.is_request() || m.method() == Some(Method::Ack) || m.find(HeaderName::Via).is_none() {
        return None;
    }
    let mut buf = Vec::with_capacity(512);
    let _ = write!(buf, "SIP/2.0 {code} {reason}\r\n");
    for name in [
        HeaderName::Via,
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        let vals: Vec<&[u8]> = match name {
            HeaderName::Via => m.header_values(name).collect(),
            _ => m.header_values(name).take(1).collect(),
        };
        for v in vals {
            buf.extend_from_slice(name.as_str().as_bytes());
            buf.extend_from_slice(b": ");
            buf.extend_from_slice(v);
            if name == HeaderName::To && m.to().is_ok_and(|t| t.tag().is_none()) {
                let _ = write!(buf, ";tag={}", super::to_tag(m));
            }
            buf.extend_from_slice(b"\r\n");
        }
    }
    for (n, v) in extra {
        let _ = write!(buf, "{n}: {v}\r\n");
    }
    buf.extend_from_slice(b"Server: sipvm\r\nContent-Length: 0\r\n\r\n");
    Some(buf)
}
