//! acc on the transaction core (simulated time, no network): early media, `failed_filter`,
//! a missed call whose only branch timed out (sipvm's own 408 and its To-tag), and
//! `detect_direction` on a BYE from the callee. The records are read from the log.

use super::rig::*;
use std::io::Write;
use std::sync::{Arc, Mutex};

const ACC: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "siputils.so"
loadmodule "acc.so"
modparam("acc", "log_flag", 1)
modparam("acc", "log_missed_flag", 2)
modparam("acc", "failed_transaction_flag", 3)
modparam("acc", "early_media", 1)
modparam("acc", "failed_filter", "404,486")
modparam("acc", "detect_direction", 1)
modparam("acc", "log_extra", "ruser=$rU;si=$si")
modparam("tm", "fr_timer", 1000)
request_route {
    setflag(1);
    setflag(2);
    setflag(3);
    rewritehostport("127.0.0.1:5081");
    t_relay();
}
"#;

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The acc records `f` logs, timestamps dropped.
fn records(f: impl FnOnce()) -> Vec<String> {
    let buf = Buf::default();
    let w = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(sub, f);
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let ts = regex::Regex::new(r"timestamp=\d+;").unwrap();
    text.lines()
        .filter_map(|l| l.find("ACC: ").map(|i| &l[i..]))
        .map(|r| ts.replace(r, "").into_owned())
        .collect()
}

fn with_body(reply: Vec<u8>) -> Vec<u8> {
    let t = text(&reply).replace(
        "Content-Length: 0\r\n\r\n",
        "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
    );
    t.into_bytes()
}

#[test]
fn early_media_and_the_failed_filter() {
    let mut r = Rig::new(ACC);
    r.startup();
    let got = records(|| {
        let down = r.feed(&invite("a1", "bob"), A)[1].data.clone();
        r.feed(&reply(&down, 180, "Ringing", "t1"), B1);
        r.feed(&with_body(reply(&down, 183, "Session Progress", "t1")), B1);
        r.feed(&reply(&down, 486, "Busy Here", "t1"), B1);
    });
    assert_eq!(
        got,
        vec![
            "ACC: transaction answered: method=INVITE;from_tag=a-a1;to_tag=t1;call_id=a1;\
             code=183;reason=Session Progress;ruser=bob;si=127.0.0.1",
            // 486 is filtered out of the failed records, not of the missed calls.
            "ACC: call missed: method=INVITE;from_tag=a-a1;to_tag=t1;call_id=a1;code=486;\
             reason=Busy Here;ruser=bob;si=127.0.0.1",
        ]
    );
}

#[test]
fn a_timed_out_branch_is_a_missed_call_with_the_local_to_tag() {
    let mut r = Rig::new(ACC);
    r.startup();
    let mut up = Vec::new();
    let got = records(|| {
        r.feed(&invite("a2", "carol"), A);
        for _ in 0..400 {
            for o in r.tick(100) {
                if o.dst == A {
                    up.push(o.data.clone());
                }
            }
        }
    });
    let timeout = up
        .iter()
        .find(|m| text(m).starts_with("SIP/2.0 408"))
        .expect("a 408");
    let to = header(timeout, "To").remove(0);
    let tag = to.split("tag=").nth(1).expect("a local To-tag").to_string();
    let line = |what: &str| {
        format!(
            "ACC: {what}: method=INVITE;from_tag=a-a2;to_tag={tag};call_id=a2;code=408;\
             reason=Request Timeout;ruser=carol;si=127.0.0.1"
        )
    };
    assert_eq!(got, vec![line("call missed"), line("transaction answered")]);
}

#[test]
fn detect_direction_swaps_the_tags_of_a_request_from_the_callee() {
    let mut r = Rig::new(ACC);
    r.startup();
    let bye = |from_tag: &str, to_tag: &str, ftag: &str| {
        format!(
            "BYE sip:alice@127.0.0.1:5070 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5081;branch=z9hG4bK-bye-{from_tag}\r\n\
             Route: <sip:127.0.0.1:5060;lr;ftag={ftag}>\r\n\
             From: <sip:bob@example.test>;tag={from_tag}\r\n\
             To: <sip:alice@example.test>;tag={to_tag}\r\n\
             Call-ID: d-{from_tag}\r\nCSeq: 5 BYE\r\nMax-Forwards: 70\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .into_bytes()
    };
    let got = records(|| {
        // From the callee: its From tag is not the ftag the caller's INVITE recorded.
        let down = r.feed(&bye("callee", "caller", "caller"), B1);
        let down = down.iter().find(|o| o.dst == B1).unwrap().data.clone();
        r.feed(&reply(&down, 200, "OK", "x"), B1);
        // From the caller: as is.
        let down = r.feed(&bye("caller", "callee", "caller"), B1);
        let down = down.iter().find(|o| o.dst == B1).unwrap().data.clone();
        r.feed(&reply(&down, 200, "OK", "x"), B1);
    });
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].contains("from_tag=caller;to_tag=callee;call_id=d-callee;"),
        "{}",
        got[0]
    );
    assert!(
        got[1].contains("from_tag=caller;to_tag=callee;call_id=d-caller;"),
        "{}",
        got[1]
    );
}
