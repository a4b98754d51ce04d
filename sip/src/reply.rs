//! Stateless replies (RFC 3261 §8.2.6 and §16.7: what a reply copies from its request).

use super::error::ParseError;
use super::msg::Msg;
use super::name::HeaderName;

/// Why no reply could be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("replies are only built for requests other than ACK")]
    NotARequest,
    #[error("the request lacks a readable {0} header")]
    Unreadable(HeaderName),
    #[error("status code {0} outside 100-699")]
    BadCode(u16),
}

/// Appends a reply to `req` to `out`: the status line, every Via line in order, the
/// Record-Route lines for 18x and 2xx, From, To
/// (with `;tag=to_tag` added when the request's To has none and the code is not 100),
/// Call-ID, CSeq, `extra_headers` (`(name, value)`), and `Content-Length: 0`.
///
/// Header values are copied as received. A To that does not parse is copied without a tag
/// added (so a 400 can still answer a request whose To is malformed).
pub fn build_reply(
    req: &Msg,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    extra_headers: &[(&str, &str)],
    out: &mut Vec<u8>,
) -> Result<(), ReplyError> {
    build_reply_with_via(req, code, reason, to_tag, None, extra_headers, out)
}

/// [`build_reply`] with the top Via rewritten: `top_via` is `(old, new)`, where `old` is the
/// request's top Via value (a prefix of the first Via line) and `new` replaces it (RFC 3581's
/// `received`/`rport` written straight into the reply, no second pass over the bytes).
pub fn build_reply_with_via(
    req: &Msg,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    top_via: Option<(&str, &str)>,
    extra_headers: &[(&str, &str)],
    out: &mut Vec<u8>,
) -> Result<(), ReplyError> {
    let parts = ReplyParts {
        to_tag,
        top_via,
        extra_headers,
        ..ReplyParts::default()
    };
    build_reply_parts(req, code, reason, &parts, out)
}

/// What a reply carries beyond what it copies from its request.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplyParts<'a> {
    pub to_tag: Option<&'a str>,
    /// See [`build_reply_with_via`].
    pub top_via: Option<(&'a str, &'a str)>,
    /// Raw header lines (each ending in CRLF), written first after CSeq.
    pub raw_headers: &'a [u8],
    /// `(name, value)` headers, written after `raw_headers`.
    pub extra_headers: &'a [(&'a str, &'a str)],
    /// The body; Content-Length gives its length.
    pub body: &'a [u8],
}

/// [`build_reply_with_via`] with raw header lines and a body.
pub fn build_reply_parts(
    req: &Msg,
    code: u16,
    reason: &str,
    parts: &ReplyParts<'_>,
    out: &mut Vec<u8>,
) -> Result<(), ReplyError> {
    let (to_tag, top_via) = (parts.to_tag, parts.top_via);
    if !(100..=699).contains(&code) {
        return Err(ReplyError::BadCode(code));
    }
    if !req.can_reply() {
        if !req.is_request() || req.method() == Some(super::Method::Ack) {
            return Err(ReplyError::NotARequest);
        }
        let missing = [
            HeaderName::Via,
            HeaderName::From,
            HeaderName::To,
            HeaderName::CallId,
            HeaderName::CSeq,
        ]
        .into_iter()
        .find(|&n| match n {
            HeaderName::Via => req.via().is_err(),
            HeaderName::CSeq => req.cseq().is_err(),
            HeaderName::CallId => req.call_id().is_err(),
            n => req.find(n).is_none(),
        })
        .unwrap_or(HeaderName::CSeq);
        return Err(ReplyError::Unreadable(missing));
    }
    let start = out.len();
    out.extend_from_slice(b"SIP/2.0 ");
    out.extend_from_slice(itoa::Buffer::new().format(code).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    let line = |out: &mut Vec<u8>, name: HeaderName, value: &[u8]| {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    let mut top_via = top_via;
    for v in req.header_values(HeaderName::Via) {
        match top_via.take() {
            Some((old, new)) if v.starts_with(old.as_bytes()) => {
                out.extend_from_slice(b"Via: ");
                out.extend_from_slice(new.as_bytes());
                out.extend_from_slice(&v[old.len()..]);
                out.extend_from_slice(b"\r\n");
            }
            _ => line(out, HeaderName::Via, v),
        }
    }
    // RFC 3261 §12.1.1: a reply that may establish a dialog carries the Record-Route values
    // in order; Kamailio copies them into every 18x and 2xx reply.
    if (180..300).contains(&code) {
        for v in req.header_values(HeaderName::RecordRoute) {
            line(out, HeaderName::RecordRoute, v);
        }
    }
    for name in [HeaderName::From, HeaderName::To] {
        let v = req.header_values(name).next().unwrap_or_default();
        line(out, name, v);
        if name == HeaderName::To && code > 100 {
            if let (Some(tag), Ok(to)) = (to_tag, req.to()) {
                if to.tag().is_none() {
                    out.truncate(out.len() - 2);
                    out.extend_from_slice(b";tag=");
                    out.extend_from_slice(tag.as_bytes());
                    out.extend_from_slice(b"\r\n");
                }
            }
        }
    }
    for name in [HeaderName::CallId, HeaderName::CSeq] {
        let v = req.header_values(name).next().unwrap_or_default();
        line(out, name, v);
    }
    out.extend_from_slice(parts.raw_headers);
    for (n, v) in parts.extra_headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Content-Length: ");
    out.extend_from_slice(itoa::Buffer::new().format(parts.body.len()).as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(parts.body);
    debug_assert!(out.len() > start);
    Ok(())
}

/// Appends a reply (typically 400, or 505 for a version the proxy does not speak) to a
/// message that failed to parse, when [`ParseError::can_reply`] says enough of it is
/// readable.
pub fn build_error_reply(
    err: &ParseError,
    code: u16,
    reason: &str,
    to_tag: Option<&str>,
    out: &mut Vec<u8>,
) -> Result<(), ReplyError> {
    match err.partial() {
        Some(m) => build_reply(m, code, reason, to_tag, &[], out),
        None => Err(ReplyError::NotARequest),
    }
}
