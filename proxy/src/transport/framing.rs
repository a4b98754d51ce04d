//! Message boundaries in a SIP byte stream (RFC 3261 §18.3, keep-alives of RFC 5626 §3.5.1).
//!
//! [`next_frame`] looks at the start of a connection's receive buffer and says what is there:
//! a complete message of `n` bytes, a keep-alive, stray CRLFs, "need more bytes", or a framing
//! error after which the connection is dropped. It parses nothing but the header block's end
//! and `Content-Length` (or its compact form `l`); a missing `Content-Length` is 0.

use memchr::memmem;

/// What the start of a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A complete message: the first `n` bytes.
    Message(usize),
    /// A `CRLFCRLF` keep-alive ping (4 bytes): consume it and answer `CRLF`.
    Ping,
    /// `n` bytes of CRLF to skip (a pong from the peer, or CRLFs before a message).
    Skip(usize),
    /// Not enough bytes yet. `Some(total)` when the message's total length is known.
    Need(Option<usize>),
    /// Framing cannot go on: drop the connection.
    Error(FrameError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Headers plus body are longer than the limit (or no header end within the limit).
    TooLarge,
    /// `Content-Length` is not a number, or two differ.
    BadContentLength,
}

/// Examines the start of `buf`. `max` caps one message (headers plus body).
pub fn next_frame(buf: &[u8], max: usize) -> Frame {
    if buf.first() == Some(&b'\r') || buf.first() == Some(&b'\n') {
        return leading_crlf(buf);
    }
    if buf.is_empty() {
        return Frame::Need(None);
    }
    // The header block ends at the first empty line. Search at most `max` bytes.
    let window = &buf[..buf.len().min(max)];
    let Some(end) = memmem::find(window, b"\r\n\r\n") else {
        return if buf.len() >= max {
            Frame::Error(FrameError::TooLarge)
        } else {
            Frame::Need(None)
        };
    };
    let head_len = end + 4;
    let body = match content_length(&buf[..end + 2]) {
        Ok(n) => n,
        Err(e) => return Frame::Error(e),
    };
    let total = match head_len.checked_add(body) {
        Some(t) if t <= max => t,
        _ => return Frame::Error(FrameError::TooLarge),
    };
    if buf.len() >= total {
        Frame::Message(total)
    } else {
        Frame::Need(Some(total))
    }
}

fn leading_crlf(buf: &[u8]) -> Frame {
    // "\r\n\r\n" is a ping. A lone "\r\n" (a pong, or padding before a message) is skipped
    // once we can see that no second CRLF follows it. Bare "\n" is tolerated as padding.
    if buf.starts_with(b"\r\n\r\n") {
        return Frame::Ping;
    }
    if buf.starts_with(b"\n") {
        return Frame::Skip(1);
    }
    match buf {
        [b'\r'] | [b'\r', b'\n'] | [b'\r', b'\n', b'\r'] => Frame::Need(None),
        [b'\r', b'\n', ..] => Frame::Skip(2),
        // A '\r' not followed by '\n': junk, but let the parser judge; drop it.
        _ => Frame::Skip(1),
    }
}

/// Finds `Content-Length` / `l` in a header block (`head` ends with the last header's CRLF).
/// Missing: 0. Several equal values are accepted; differing ones are an error.
fn content_length(head: &[u8]) -> Result<usize, FrameError> {
    let mut found: Option<usize> = None;
    // Skip the start line.
    let mut pos = match memchr::memchr(b'\n', head) {
        Some(i) => i + 1,
        None => return Ok(0),
    };
    while pos < head.len() {
        let line_end = memchr::memchr(b'\n', &head[pos..])
            .map(|i| pos + i)
            .unwrap_or(head.len());
        let line = &head[pos..line_end];
        pos = line_end + 1;
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let name = trim(&line[..colon]);
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let value = trim(&line[colon + 1..]);
            let n = parse_len(value)?;
            if found.is_some_and(|f| f != n) {
                return Err(FrameError::BadContentLength);
            }
            found = Some(n);
        }
    }
    Ok(found.unwrap_or(0))
}

fn trim(s: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !is_ws(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

fn parse_len(v: &[u8]) -> Result<usize, FrameError> {
    if v.is_empty() || v.len() > 10 || !v.iter().all(u8::is_ascii_digit) {
        return Err(FrameError::BadContentLength);
    }
    Ok(v.iter().fold(0usize, |n, d| n * 10 + usize::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 65536;

    #[test]
    fn whole_message_with_body() {
        let m = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 5\r\n\r\nhelloNEXT";
        assert_eq!(next_frame(m, MAX), Frame::Message(m.len() - 4));
    }

    #[test]
    fn compact_and_case_insensitive() {
        let m = b"MESSAGE sip:a@b SIP/2.0\r\nVia: x\r\nl : 3\r\n\r\nabc";
        assert_eq!(next_frame(m, MAX), Frame::Message(m.len()));
        let m = b"MESSAGE sip:a@b SIP/2.0\r\ncOnTeNt-LeNgTh:\t2 \r\n\r\nab";
        assert_eq!(next_frame(m, MAX), Frame::Message(m.len()));
    }

    #[test]
    fn missing_content_length_is_zero() {
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\ntrailing";
        assert_eq!(next_frame(m, MAX), Frame::Message(m.len() - 8));
    }

    #[test]
    fn partial() {
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nabc";
        assert_eq!(next_frame(m, MAX), Frame::Need(Some(m.len() + 7)));
        assert_eq!(next_frame(b"OPTIONS sip:a", MAX), Frame::Need(None));
        assert_eq!(next_frame(b"", MAX), Frame::Need(None));
    }

    #[test]
    fn keepalives() {
        assert_eq!(next_frame(b"\r\n\r\n", MAX), Frame::Ping);
        assert_eq!(next_frame(b"\r\n\r\nOPTIONS", MAX), Frame::Ping);
        assert_eq!(next_frame(b"\r\n", MAX), Frame::Need(None));
        assert_eq!(next_frame(b"\r\n\r", MAX), Frame::Need(None));
        assert_eq!(next_frame(b"\r\nOPTIONS", MAX), Frame::Skip(2));
        assert_eq!(next_frame(b"\nX", MAX), Frame::Skip(1));
    }

    #[test]
    fn errors() {
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n";
        assert_eq!(
            next_frame(m, MAX),
            Frame::Error(FrameError::BadContentLength)
        );
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 2\r\n\r\nab";
        assert_eq!(
            next_frame(m, MAX),
            Frame::Error(FrameError::BadContentLength)
        );
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n";
        assert_eq!(
            next_frame(m, MAX),
            Frame::Error(FrameError::BadContentLength)
        );
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 70000\r\n\r\n";
        assert_eq!(next_frame(m, MAX), Frame::Error(FrameError::TooLarge));
        let junk = vec![b'a'; 100];
        assert_eq!(next_frame(&junk, 100), Frame::Error(FrameError::TooLarge));
        assert_eq!(next_frame(&junk, 101), Frame::Need(None));
    }

    #[test]
    fn equal_duplicates_accepted() {
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 1\r\n\r\na";
        assert_eq!(next_frame(m, MAX), Frame::Message(m.len()));
    }
}
