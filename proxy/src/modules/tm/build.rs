//! Messages tm makes itself: the hop-by-hop ACK for a negative reply (RFC 3261 §17.1.1.3),
//! CANCEL (§9.1), and a reply relayed upstream (our Via removed, §16.7 step 9).

use crate::sip::{Edits, HeaderName, Msg};
use bytes::Bytes;

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

/// The request-line and headers ACK and CANCEL share with the request they refer to.
fn like_request(req: &Msg, method: &str, to: &[u8], out: &mut Vec<u8>) -> Option<()> {
    use std::io::Write;
    let via = req.top_via().ok()?.as_str();
    let cseq = req.cseq().ok()?.seq;
    let _ = write!(out, "{method} {} SIP/2.0\r\nVia: {via}\r\n", req.ruri_str());
    let from = req.header_values(HeaderName::From).next()?;
    let _ = write!(out, "From: {}\r\nTo: {}\r\n", text(from), text(to));
    let _ = write!(
        out,
        "Call-ID: {}\r\nCSeq: {cseq} {method}\r\n",
        req.call_id().ok()?
    );
    for r in req.header_values(HeaderName::Route) {
        let _ = write!(out, "Route: {}\r\n", text(r));
    }
    out.extend_from_slice(b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    Some(())
}

/// The ACK for a non-2xx final `reply` to the branch request `req`: To comes from the reply
/// (it carries the callee's tag), everything else from the request.
pub fn ack(req: &Msg, reply: &Msg) -> Option<Bytes> {
    let to = reply.header_values(HeaderName::To).next()?;
    let mut out = Vec::with_capacity(req.len() / 2);
    like_request(req, "ACK", to, &mut out)?;
    Some(Bytes::from(out))
}

/// The CANCEL of the branch request `req`.
pub fn cancel(req: &Msg) -> Option<Bytes> {
    let to = req.header_values(HeaderName::To).next()?;
    let mut out = Vec::with_capacity(req.len() / 2);
    like_request(req, "CANCEL", to, &mut out)?;
    Some(Bytes::from(out))
}

/// `reply` with our Via (the top one) removed, ready to go upstream.
pub fn relayed(reply: &Msg) -> Option<Bytes> {
    let mut e = Edits::new();
    e.remove_top_via();
    let mut buf = Vec::with_capacity(reply.len());
    reply.serialize(&e, &mut buf).ok()?;
    Some(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> Msg {
        Msg::parse(Bytes::from(s.replace('\n', "\r\n"))).unwrap()
    }

    const REQ: &str = "INVITE sip:b@127.0.0.1:5081 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsvt1.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKup\nRoute: <sip:127.0.0.1:5090;lr>\nFrom: <sip:a@h>;tag=f1\nTo: <sip:b@h>\nCall-ID: c1\nCSeq: 7 INVITE\nMax-Forwards: 69\nContent-Type: application/sdp\nContent-Length: 4\n\nv=0\n";

    #[test]
    fn ack_and_cancel_copy_what_rfc3261_says() {
        let req = msg(REQ);
        let rpl = msg("SIP/2.0 486 Busy\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsvt1.0\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKup\nFrom: <sip:a@h>;tag=f1\nTo: <sip:b@h>;tag=t9\nCall-ID: c1\nCSeq: 7 INVITE\nContent-Length: 0\n\n");
        let a = ack(&req, &rpl).unwrap();
        let a = std::str::from_utf8(&a).unwrap();
        assert_eq!(
            a,
            "ACK sip:b@127.0.0.1:5081 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsvt1.0\r\nFrom: <sip:a@h>;tag=f1\r\nTo: <sip:b@h>;tag=t9\r\nCall-ID: c1\r\nCSeq: 7 ACK\r\nRoute: <sip:127.0.0.1:5090;lr>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        );
        let c = cancel(&req).unwrap();
        let c = std::str::from_utf8(&c).unwrap();
        assert!(c.starts_with("CANCEL sip:b@127.0.0.1:5081 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsvt1.0\r\n"));
        assert!(c.contains("\r\nTo: <sip:b@h>\r\n") && c.contains("CSeq: 7 CANCEL\r\n"));
        let up = relayed(&rpl).unwrap();
        let up = std::str::from_utf8(&up).unwrap();
        assert!(up.starts_with(
            "SIP/2.0 486 Busy\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKup\r\n"
        ));
    }
}
