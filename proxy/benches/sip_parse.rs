//! Parse and header-access cost of the SIP message layer.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use sipvm_proxy::sip::{Edits, Msg};

const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn bench(c: &mut Criterion) {
    let buf = Bytes::from_static(INVITE);
    c.bench_function("parse", |b| {
        b.iter(|| Msg::parse(std::hint::black_box(buf.clone())).unwrap())
    });
    c.bench_function("parse+via+from+to+cseq+callid", |b| {
        b.iter(|| {
            let m = Msg::parse(std::hint::black_box(buf.clone())).unwrap();
            m.via().unwrap();
            m.from().unwrap();
            m.to().unwrap();
            m.cseq().unwrap();
            m.call_id().unwrap().len()
        })
    });
    let m = Msg::parse(buf.clone()).unwrap();
    let mut e = Edits::new();
    e.push_via("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc");
    let mut out = Vec::with_capacity(1024);
    c.bench_function("serialize+via", |b| {
        b.iter(|| {
            out.clear();
            m.serialize(&e, &mut out).unwrap();
            out.len()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
