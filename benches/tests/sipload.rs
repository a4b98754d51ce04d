//! `sipload` against its own `--echo-server`, as subprocesses on 127.0.0.1: every request is
//! answered (no loss, no error) and the rate is positive. Correctness only: nothing is timed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_sipload");

fn field(json: &str, key: &str) -> f64 {
    let pat = format!("\"{key}\":");
    let at = json
        .find(&pat)
        .unwrap_or_else(|| panic!("no {key} in {json}"))
        + pat.len();
    let num: String = json[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().unwrap()
}

fn against_echo(extra: &[&str], expect_acks: bool) {
    // Port 0: the server prints the port it got.
    let mut server = Command::new(BIN)
        .args([
            "--echo-server",
            "127.0.0.1:0",
            "--threads",
            "2",
            "--duration",
            "30",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let pid = server.id().to_string();
    let out = Command::new(BIN)
        .args([
            "--target",
            &addr,
            "--count",
            "20000",
            "--window",
            "16",
            "--threads",
            "2",
        ])
        .args(["--timeout-ms", "5000", "--server-pid", &pid, "--json"])
        .args(extra)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{json}");
    assert_eq!(field(&json, "sent"), 20000.0, "{json}");
    assert_eq!(field(&json, "finals"), 20000.0, "{json}");
    assert_eq!(field(&json, "lost"), 0.0, "{json}");
    assert_eq!(field(&json, "errors"), 0.0, "{json}");
    assert_eq!(field(&json, "late"), 0.0, "{json}");
    assert_eq!(field(&json, "foreign"), 0.0, "{json}");
    assert!(field(&json, "replies_per_s") > 0.0, "{json}");
    assert!(field(&json, "rss_kb") > 0.0, "{json}");
    let acks = field(&json, "acks");
    assert_eq!(acks, if expect_acks { 20000.0 } else { 0.0 }, "{json}");
}

#[test]
fn options_against_echo_server() {
    against_echo(&[], false);
}

#[test]
fn invite_against_echo_server_is_acked() {
    against_echo(&["--method", "INVITE"], true);
}

#[test]
fn unexpected_codes_are_errors() {
    let mut server = Command::new(BIN)
        .args(["--echo-server", "127.0.0.1:0", "--duration", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let out = Command::new(BIN)
        .args([
            "--target", &addr, "--count", "500", "--expect", "202,404", "--json",
        ])
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let json = String::from_utf8(out.stdout).unwrap();
    assert_eq!(field(&json, "errors"), 500.0, "{json}");
    assert!(json.contains("\"codes\":{\"200\":500}"), "{json}");
}

/// `--sources 4`: the window's requests leave from four sockets, and every one is answered.
#[test]
fn sources_spread_requests_over_client_sockets() {
    use std::collections::HashSet;
    use std::net::UdpSocket;
    use std::time::Duration;
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    server
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let addr = server.local_addr().unwrap().to_string();
    // A responder that answers 200 with the request's headers, noting each source.
    let responder = std::thread::spawn(move || {
        let mut ports = HashSet::new();
        let mut buf = [0u8; 4096];
        let mut idle = 0;
        while idle < 10 {
            let Ok((n, from)) = server.recv_from(&mut buf) else {
                idle += 1;
                continue;
            };
            idle = 0;
            ports.insert(from.port());
            let req = &buf[..n];
            let start = req.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
            let mut reply = b"SIP/2.0 200 OK\r\n".to_vec();
            reply.extend_from_slice(&req[start..]);
            server.send_to(&reply, from).unwrap();
        }
        ports
    });
    let out = Command::new(BIN)
        .args(["--target", &addr, "--count", "2000", "--window", "16"])
        .args(["--sources", "4", "--timeout-ms", "5000", "--json"])
        .output()
        .unwrap();
    let ports = responder.join().unwrap();
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{json}");
    assert_eq!(field(&json, "finals"), 2000.0, "{json}");
    assert_eq!(field(&json, "lost"), 0.0, "{json}");
    assert_eq!(ports.len(), 4, "{ports:?}");
}
