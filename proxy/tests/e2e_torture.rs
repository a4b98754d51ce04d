//! RFC 4475 and RFC 5118 torture messages against the real binary: every message of both
//! directories is sent as one datagram to a sipvm running `force_rport()`, maxfwd,
//! `sanity_check()` and a 200; each must get the reply, or the silence, its EXPECTED.tsv row
//! describes, and the process must survive all of them and keep answering OPTIONS.
//!
//! Also, without the binary: every `valid` message parses and serialises back to its own
//! bytes when nothing was edited.
//!
//! Safety: the messages name hosts such as 192.0.2.x. Replies go to the source address
//! (`force_rport()`), replies received are dropped by `reply_route` instead of being relayed
//! by Via, and the harness runs sipvm with `SIPVM_LOOPBACK_ONLY=1`, so nothing leaves
//! 127.0.0.0/8.

mod common;
use bytes::Bytes;
use common::*;
use sipvm_proxy::sip::{Edits, Msg};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// The torture configuration; responses are dropped, so nothing is ever relayed toward the
/// (non-local) hosts their Vias name.
fn cfg() -> String {
    format!(
        "{TORTURE_CFG}{}",
        r#"
reply_route {
    drop;
}
"#
    )
}

/// What a row allows: one of these outcomes (`None` is silence), or anything at all.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    OneOf(Vec<Option<u16>>),
    Anything,
}

fn show(o: Option<u16>) -> String {
    o.map_or_else(|| "silence".to_string(), |c| c.to_string())
}

impl Want {
    fn show(&self) -> String {
        match self {
            Want::Anything => "anything (survive)".into(),
            Want::OneOf(v) => v.iter().map(|o| show(*o)).collect::<Vec<_>>().join(" or "),
        }
    }
}

/// The leading status code of a note ("483 (maxfwd)" → 483).
fn leading_code(note: &str) -> Option<u16> {
    let d: String = note.chars().take_while(char::is_ascii_digit).collect();
    (d.len() == 3).then(|| d.parse().ok()).flatten()
}

/// Reads a row's class and note as this configuration must honour them. No registrar and no
/// URI resolution run here, so "400 when the registrar reads Contact" or "416 if the proxy must
/// resolve the URI" also allow the 200 of plain routing.
fn want(row: &TortureRow, msg: &[u8]) -> Result<Want, String> {
    let note = row.note.as_str();
    let is_response = msg.starts_with(b"SIP/");
    let is_ack = msg.starts_with(b"ACK ");
    if row.class == "unreferenced" {
        return Ok(Want::Anything);
    }
    if is_response || is_ack {
        // reply_route drops every reply; ACKs are never answered.
        if is_response && !note.contains("response") {
            return Err(format!("a response whose note does not say so: {note:?}"));
        }
        return Ok(Want::OneOf(vec![None]));
    }
    if row.class == "framing" || row.class == "startline" {
        return if note.starts_with("400 or drop") {
            Ok(Want::OneOf(vec![Some(400), None]))
        } else {
            Err(format!("unrecognised {} note {note:?}", row.class))
        };
    }
    if note.starts_with("route") {
        return Ok(Want::OneOf(if note.contains("416") {
            vec![Some(200), Some(416)]
        } else {
            vec![Some(200)]
        }));
    }
    if let Some(code) = leading_code(note) {
        let conditional =
            note.contains(" if ") || note.contains(" when ") || note.contains("route");
        return Ok(Want::OneOf(if conditional {
            vec![Some(code), Some(200)]
        } else {
            vec![Some(code)]
        }));
    }
    Err(format!(
        "unrecognised note {note:?} for class {}",
        row.class
    ))
}

/// A normal OPTIONS (the liveness probe) or, with `max_forwards` 0, the barrier that maxfwd
/// answers 483 before `sanity_check()` runs: its reply marks the end of what came before.
fn options(peer: &Peer, server: &Sipvm, call_id: &str, max_forwards: u8) -> Vec<u8> {
    let ruri = format!("sip:probe@127.0.0.1:{}", server.port);
    let text = String::from_utf8(peer.request("OPTIONS", &ruri, call_id, "")).unwrap();
    text.replace("Max-Forwards: 70", &format!("Max-Forwards: {max_forwards}"))
        .into_bytes()
}

/// What came back for one row.
struct Got {
    row: Vec<u16>,
    probe: Option<u16>,
    barrier: bool,
}

impl Got {
    fn row_str(&self) -> String {
        if self.row.is_empty() {
            "silence".into()
        } else {
            self.row
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join("+")
        }
    }
}

/// Sends the row's message, then the probe, then the barrier; gathers every datagram until
/// the barrier's reply. One peer is one flow, handled in order by one worker, so whatever the
/// row caused arrives before the barrier's 483.
fn exchange(server: &Sipvm, peer: &Peer, msg: &[u8], n: usize) -> Got {
    let probe_id = format!("torture-probe-{n}");
    let barrier_id = format!("torture-barrier-{n}");
    peer.send(server.addr, msg);
    peer.send(server.addr, &options(peer, server, &probe_id, 70));
    peer.send(server.addr, &options(peer, server, &barrier_id, 0));
    let mut got = Got {
        row: Vec::new(),
        probe: None,
        barrier: false,
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Some((data, _)) = peer.recv(left) else {
            break;
        };
        let code = status(&data).unwrap_or(0);
        match call_id(&data) {
            Some(id) if id == barrier_id => {
                got.barrier = code == 483;
                break;
            }
            Some(id) if id == probe_id => got.probe = Some(code),
            _ => got.row.push(code),
        }
    }
    got
}

#[test]
fn torture_messages_through_a_running_sipvm() {
    let t0 = Instant::now();
    let mut server = Sipvm::start(&cfg(), &[]);
    let peer = Peer::new();
    let mut table = String::new();
    let mut failures = 0;
    let mut n = 0;
    for dir in ["rfc4475", "rfc5118"] {
        let rows = torture_rows(dir);
        // Every message file has a row.
        for e in std::fs::read_dir(shared().join("testdata").join(dir)).unwrap() {
            let name = e.unwrap().file_name().into_string().unwrap();
            if name != "EXPECTED.tsv" && !rows.iter().any(|r| r.file == name) {
                failures += 1;
                let _ = writeln!(table, "{dir}/{name:<30} | a row in EXPECTED.tsv | none");
            }
        }
        for row in rows {
            n += 1;
            let msg = torture_message(dir, &row.file);
            let want = want(&row, &msg);
            let got = exchange(&server, &peer, &msg, n);
            let alive = server.alive();
            let mut problems = Vec::new();
            match &want {
                Err(e) => problems.push(e.clone()),
                Ok(Want::OneOf(allowed)) => {
                    let outcome = match got.row.as_slice() {
                        [] => Some(None),
                        [c] => Some(Some(*c)),
                        _ => None,
                    };
                    if !outcome.is_some_and(|o| allowed.contains(&o)) {
                        problems.push(format!("got {}", got.row_str()));
                    }
                }
                Ok(Want::Anything) => {}
            }
            if got.probe != Some(200) {
                problems.push(format!(
                    "OPTIONS afterwards got {}",
                    show(got.probe).replace("silence", "no reply")
                ));
            }
            if !got.barrier {
                problems.push("no 483 to the Max-Forwards: 0 barrier".into());
            }
            if !alive {
                problems.push("sipvm died".into());
            }
            let wanted = want.as_ref().map(Want::show).unwrap_or_else(|e| e.clone());
            if !problems.is_empty() {
                failures += 1;
                let _ = writeln!(
                    table,
                    "{dir}/{:<30} {:<8} {:<14} | want {:<22} | {}",
                    row.file,
                    row.section,
                    row.class,
                    wanted,
                    problems.join("; ")
                );
            }
            println!(
                "{dir}/{:<30} {:<14} want {:<22} got {:<8} probe {}",
                row.file,
                row.class,
                wanted,
                got.row_str(),
                show(got.probe)
            );
            if !alive {
                // Keep going with a fresh process so every row is reported.
                println!("sipvm died; log:\n{}", server.log_text());
                server = Sipvm::start(&cfg(), &[]);
            }
        }
    }
    let log = server.log_text();
    if log.contains("panicked") {
        failures += 1;
        let _ = writeln!(table, "sipvm log shows a panic:\n{log}");
    }
    // The loopback guard never had to stop anything: nothing was even tried off loopback.
    if log.contains("not sending to") {
        failures += 1;
        let _ = writeln!(table, "sipvm tried to send off loopback:\n{log}");
    }
    assert!(server.alive(), "sipvm died at the end");
    println!("{n} torture messages in {:?}", t0.elapsed());
    assert!(
        failures == 0,
        "{failures} torture rows failed:\nrow | section | class | want | got\n{table}"
    );
}

/// The first message of a datagram: its headers and `Content-Length` bytes of body, or the
/// whole buffer without a Content-Length (found here without the parser under test).
fn first_message(buf: &[u8]) -> &[u8] {
    let Some(hend) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return buf;
    };
    let head = String::from_utf8_lossy(&buf[..hend]);
    let cl = head.split("\r\n").find_map(|l| {
        let (n, v) = l.split_once(':')?;
        let n = n.trim();
        (n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("l"))
            .then(|| v.trim().parse::<usize>().ok())
            .flatten()
    });
    match cl {
        Some(cl) => &buf[..(hend + 4 + cl).min(buf.len())],
        None => buf,
    }
}

#[test]
fn valid_messages_serialise_to_their_own_bytes() {
    let mut bad = Vec::new();
    let mut checked = 0;
    for dir in ["rfc4475", "rfc5118"] {
        for row in torture_rows(dir).into_iter().filter(|r| r.class == "valid") {
            let input = torture_message(dir, &row.file);
            let want: &[u8] = if row.file == "dblreq.dat" {
                // Only the first message of the datagram counts; the trailing one is ignored.
                let first = first_message(&input);
                assert!(first.len() < input.len(), "dblreq.dat has a second message");
                first
            } else {
                &input
            };
            let m = match Msg::parse(Bytes::from(input.clone())) {
                Ok(m) => m,
                Err(e) => {
                    bad.push(format!("{dir}/{}: does not parse: {e}", row.file));
                    continue;
                }
            };
            let mut out = Vec::new();
            if let Err(e) = m.serialize(&Edits::new(), &mut out) {
                bad.push(format!("{dir}/{}: serialize failed: {e}", row.file));
                continue;
            }
            if out != want {
                bad.push(format!(
                    "{dir}/{}: {} bytes out for {} in; first difference at {}",
                    row.file,
                    out.len(),
                    want.len(),
                    out.iter().zip(want).take_while(|(a, b)| a == b).count()
                ));
            }
            checked += 1;
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(
        checked,
        27 + 11,
        "valid rows: 27 in RFC 4475, 11 in RFC 5118"
    );
}
