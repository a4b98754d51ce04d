//! A small SDP reader (RFC 4566) over the received body: lines with their offsets, the
//! session part and one stream per `m=` line. Only what sdpops and textops ask for; nothing is
//! copied, and a body of any shape parses (unknown lines are kept as lines).

/// One line of the body: `start..end` is its text (no line end), `next` where the next begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub start: usize,
    pub end: usize,
    pub next: usize,
}

/// A media stream: its `m=` line and the lines up to the next `m=` (exclusive).
#[derive(Clone, Debug)]
pub struct Stream<'a> {
    /// Index of the `m=` line in [`Sdp::lines`].
    pub m: usize,
    /// One past its last line.
    pub end: usize,
    pub media: &'a str,
    pub port: &'a str,
    pub transport: &'a str,
    /// Offset (in the body) where the transport ends: the payload list follows.
    pub transport_end: usize,
    pub payloads: Vec<&'a str>,
}

/// A parsed SDP body.
#[derive(Debug)]
pub struct Sdp<'a> {
    pub body: &'a str,
    pub lines: Vec<Line>,
    /// Lines before the first `m=`: `0..session_end`.
    pub session_end: usize,
    pub streams: Vec<Stream<'a>>,
}

/// The most lines read: a body is bounded by the message size, this bounds the work.
const MAX_LINES: usize = 4096;

impl<'a> Sdp<'a> {
    /// Reads `body`; `None` when it is not text or has no `v=` line first.
    pub fn parse(body: &'a [u8]) -> Option<Sdp<'a>> {
        let body = std::str::from_utf8(body).ok()?;
        let mut lines = Vec::new();
        let mut at = 0;
        let b = body.as_bytes();
        while at < b.len() && lines.len() < MAX_LINES {
            let nl = memchr::memchr(b'\n', &b[at..]).map(|i| at + i);
            let next = nl.map_or(b.len(), |i| i + 1);
            let mut end = nl.unwrap_or(b.len());
            if end > at && b[end - 1] == b'\r' {
                end -= 1;
            }
            lines.push(Line {
                start: at,
                end,
                next,
            });
            at = next;
        }
        let first = lines.first()?;
        if !body[first.start..first.end].starts_with("v=") {
            return None;
        }
        let mut sdp = Sdp {
            body,
            session_end: lines.len(),
            lines,
            streams: Vec::new(),
        };
        let ms: Vec<usize> = (0..sdp.lines.len())
            .filter(|&i| sdp.text(i).starts_with("m="))
            .collect();
        if let Some(&f) = ms.first() {
            sdp.session_end = f;
        }
        for (k, &m) in ms.iter().enumerate() {
            let end = ms.get(k + 1).copied().unwrap_or(sdp.lines.len());
            let line = sdp.lines[m];
            let text = &body[line.start + 2..line.end];
            let mut parts = text.split(' ').filter(|p| !p.is_empty());
            let media = parts.next().unwrap_or("");
            let port = parts.next().unwrap_or("");
            let transport = parts.next().unwrap_or("");
            let transport_end = if transport.is_empty() {
                line.end
            } else {
                transport.as_ptr() as usize - body.as_ptr() as usize + transport.len()
            };
            sdp.streams.push(Stream {
                m,
                end,
                media,
                port,
                transport,
                transport_end,
                payloads: parts.collect(),
            });
        }
        Some(sdp)
    }

    /// The text of line `i`.
    pub fn text(&self, i: usize) -> &'a str {
        let l = self.lines[i];
        &self.body[l.start..l.end]
    }

    /// The lines of a stream after its `m=` line.
    pub fn stream_lines(&self, s: &Stream<'_>) -> std::ops::Range<usize> {
        s.m + 1..s.end
    }

    /// The encoding name of payload `pt` in a stream (its `a=rtpmap`), or the static one of
    /// RFC 3551 for the payload types that have one.
    pub fn codec_name(&self, s: &Stream<'_>, pt: &str) -> Option<&'a str> {
        for i in self.stream_lines(s) {
            if let Some((id, name)) = rtpmap(self.text(i)) {
                if id == pt {
                    return Some(name);
                }
            }
        }
        STATIC_CODECS
            .iter()
            .find(|(_, ids)| ids.split(',').any(|i| i == pt))
            .map(|(n, _)| *n)
    }

    /// `c=` address family of the session (or, without one, of the first stream): 4, 6.
    pub fn address_family(&self) -> Option<u8> {
        let c = (0..self.lines.len())
            .map(|i| self.text(i))
            .find(|t| t.starts_with("c="))?;
        let mut p = c[2..].split(' ');
        match (p.next(), p.next()) {
            (Some("IN"), Some("IP4")) => Some(4),
            (Some("IN"), Some("IP6")) => Some(6),
            _ => None,
        }
    }

    /// How a stream is on hold, as Kamailio's parser tells it: 1 (RFC 2543, `c=` 0.0.0.0),
    /// 2 (RFC 3264, `a=sendonly` or `a=inactive`), 0 not on hold. Session-level lines count
    /// for every stream.
    pub fn on_hold(&self, s: &Stream<'_>) -> u8 {
        let mut hold = 0;
        for i in (0..self.session_end).chain(self.stream_lines(s)) {
            let t = self.text(i);
            if t == "a=sendonly" || t == "a=inactive" {
                hold = 2;
            } else if hold == 0 && t.starts_with("c=") && t.ends_with(" 0.0.0.0") {
                hold = 1;
            }
        }
        hold
    }
}

/// `a=rtpmap:<pt> <name>/<rate>...` as `(pt, name)`.
pub fn rtpmap(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("a=rtpmap:")?;
    let (pt, enc) = rest.split_once(' ')?;
    Some((pt.trim(), enc.trim().split('/').next().unwrap_or("")))
}

/// The payload type an `a=rtpmap:`, `a=fmtp:` or `a=rtcp-fb:` line is about.
pub fn attr_payload(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("a=rtpmap:")
        .or_else(|| line.strip_prefix("a=fmtp:"))
        .or_else(|| line.strip_prefix("a=rtcp-fb:"))?;
    Some(rest.split(' ').next().unwrap_or(""))
}

/// RFC 3551's static payload types by encoding name (sdpops' table).
pub const STATIC_CODECS: &[(&str, &str)] = &[
    ("PCMU", "0"),
    ("GSM", "3"),
    ("G723", "4"),
    ("DVI4", "5,6,16,17"),
    ("LPC", "7"),
    ("PCMA", "8"),
    ("G722", "9"),
    ("L16", "10,11"),
    ("QCELP", "12"),
    ("CN", "13"),
    ("MPA", "14"),
    ("G728", "15"),
    ("G729", "18"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_and_lines() {
        let b = b"v=0\r\no=a 1 2 IN IP6 ::1\r\nc=IN IP6 ::1\r\nm=audio 4000 RTP/AVP 0 8\r\na=rtpmap:8 PCMA/8000\r\na=sendonly\r\nm=video 0 RTP/AVP 96\na=fmtp:96 x";
        let s = Sdp::parse(b).unwrap();
        assert_eq!(s.session_end, 3);
        assert_eq!(s.streams.len(), 2);
        assert_eq!(s.streams[0].payloads, ["0", "8"]);
        assert_eq!(s.streams[1].port, "0");
        assert_eq!(s.codec_name(&s.streams[0], "8"), Some("PCMA"));
        assert_eq!(s.codec_name(&s.streams[0], "0"), Some("PCMU"));
        assert_eq!(s.codec_name(&s.streams[1], "96"), None);
        assert_eq!(s.address_family(), Some(6));
        assert_eq!(s.on_hold(&s.streams[0]), 2);
        assert_eq!(s.on_hold(&s.streams[1]), 0);
        assert_eq!(s.text(7), "a=fmtp:96 x");
        assert_eq!(attr_payload("a=fmtp:96 x"), Some("96"));
        assert!(Sdp::parse(b"hello").is_none());
        assert!(Sdp::parse(b"").is_none());
        assert!(Sdp::parse(&[0xff, 0xfe]).is_none());
    }

    proptest::proptest! {
        /// Any body parses or is refused, and every query on it stays in bounds.
        #[test]
        fn any_body_is_safe(lines in proptest::collection::vec("(v=0|m=[a-z]{0,5}( [0-9]{0,4})?( [A-Z/]{0,8})?( [0-9]{1,3}){0,3}|a=(rtpmap|fmtp|rtcp-fb):[0-9]{0,3}( [A-Za-z0-9/-]{0,10})?|c=IN IP[46] [0-9.:]{0,15}|a=sendonly|[ -~]{0,12})", 0..12), crlf in proptest::bool::ANY) {
            let body = lines.join(if crlf { "\r\n" } else { "\n" });
            if let Some(s) = Sdp::parse(body.as_bytes()) {
                for st in &s.streams {
                    for p in &st.payloads {
                        let _ = s.codec_name(st, p);
                    }
                    let _ = s.on_hold(st);
                    assert!(st.transport_end <= s.lines[st.m].end);
                    for i in s.stream_lines(st) {
                        let _ = attr_payload(s.text(i));
                    }
                }
                let _ = s.address_family();
            }
        }
    }
}
