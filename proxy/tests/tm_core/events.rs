//! tm's transaction events (`modules/tm/events.rs`), as acc and dialog see them: a reply
//! going upstream (relayed or local, with its branch), every branch failed (before the
//! failure route), and the flags a hook clears.

use super::rig::*;
use sipvm_proxy::modules::tm::events::{TxEnv, TxEvent, TxEventKind};
use std::sync::Mutex;

/// (kind, code, relayed reply?, local To-tag?, branch, flags), per Call-ID.
type Seen = (TxEventKind, u16, bool, bool, Option<usize>, u64);

static SEEN: Mutex<Vec<(String, Seen)>> = Mutex::new(Vec::new());

fn hook(_: &mut TxEnv<'_>, ev: &TxEvent<'_>) -> u64 {
    let cid = ev.req.call_id().unwrap_or("").to_string();
    if !cid.starts_with("ev-") {
        return 0;
    }
    let seen = (
        ev.kind,
        ev.code,
        ev.reply.is_some(),
        ev.local_to_tag.is_some(),
        ev.branch,
        ev.txn.flags,
    );
    SEEN.lock().unwrap().push((cid, seen));
    // Clear flag 2 when every branch failed (what acc does with its missed-call flag).
    if ev.kind == TxEventKind::OnFailure {
        1 << 2
    } else {
        0
    }
}

fn seen(cid: &str) -> Vec<Seen> {
    SEEN.lock()
        .unwrap()
        .iter()
        .filter(|(c, _)| c == cid)
        .map(|(_, s)| *s)
        .collect()
}

const FLAGGED: &str = r#"
listen=udp:127.0.0.1:5060
loadmodule "tm.so"
loadmodule "siputils.so"
request_route {
    setflag(2);
    setflag(5);
    rewritehostport("127.0.0.1:5081");
    if ($rU == "fail") {
        t_on_failure("F");
    }
    t_relay();
}
failure_route[F] {
    if (isflagset(2)) {
        t_reply("500", "flag 2 still set");
        exit;
    }
    t_reply("599", "Cleared");
}
"#;

#[test]
fn replies_upstream_and_failures_reach_the_hooks() {
    let mut r = Rig::new(FLAGGED);
    r.tm().events.add(hook);
    let flags = (1 << 2) | (1 << 5);

    let inv = invite("ev-1", "bob");
    let down = r.feed(&inv, A)[1].data.clone();
    r.feed(&reply(&down, 180, "Ringing", "t1"), B1);
    r.feed(&reply(&down, 200, "OK", "t1"), B1);
    use TxEventKind::*;
    assert_eq!(
        seen("ev-1"),
        vec![
            (ResponseOut, 180, true, false, Some(0), flags),
            (ResponseOut, 200, true, false, Some(0), flags),
        ],
        "sipvm's own 100 is no event"
    );

    let inv = invite("ev-2", "fail");
    let down = r.feed(&inv, A)[1].data.clone();
    let out = r.feed(&reply(&down, 486, "Busy Here", "t2"), B1);
    assert_eq!(sent(&out)[1], (A, "SIP/2.0 599".into()), "{}", all(&out));
    assert_eq!(
        seen("ev-2"),
        vec![
            (OnFailure, 486, true, false, Some(0), flags),
            // The failure route saw flag 2 cleared; its own reply is local.
            (ResponseOut, 599, false, true, Some(0), 1 << 5),
        ]
    );
}
