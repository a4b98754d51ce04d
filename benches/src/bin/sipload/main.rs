//! `sipload`: a closed-loop SIP-over-UDP load generator, and (`--echo-server`) the
//! "parses nothing" UDP baseline server.
//!
//! ```text
//! sipload [--target 127.0.0.1:5060] [--window 32] [--duration 5 | --count N]
//!         [--method OPTIONS|INVITE|MESSAGE|REGISTER] [--users N] [--contact HOST:PORT]
//!         [--threads 1] [--sources 1] [--server-pid PID]
//!         [--timeout-ms 1000] [--expect 200] [--json]
//! sipload --echo-server 127.0.0.1:5080 [--threads 2] [--reuseport] [--duration SECS]
//! ```
//!
//! Each client thread owns `--sources` UDP sockets (one by default; more look like that many
//! UAs, each its own address and port) and keeps `--window` requests in flight: every final
//! reply (or a request unanswered after `--timeout-ms`, counted lost) is replaced at once by a
//! new request with a fresh Call-ID and branch. Replies are matched by Call-ID; 1xx are
//! ignored; an INVITE's final reply is ACKed. With `--server-pid`, the CPU time of that process
//! and all its descendants (Kamailio's forked workers) is sampled before and after, and its
//! memory at the end. See docs/performance.md, "SIP load (sipload)".

mod echo;
mod hist;
mod load;
mod msg;
mod net;
mod procstat;

use clap::Parser;
use hist::Hist;
use msg::Method;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "sipload",
    about = "Closed-loop SIP/UDP load generator (and --echo-server baseline)"
)]
struct Cli {
    /// Where to send requests.
    #[arg(long, default_value = "127.0.0.1:5060")]
    target: SocketAddr,
    /// Requests in flight per thread.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// Seconds to issue new requests for (default 5 when --count is not given). With
    /// --echo-server: how long the server runs (forever without it).
    #[arg(long, conflicts_with = "count")]
    duration: Option<f64>,
    /// Total requests to send (split over the threads), instead of --duration.
    #[arg(long)]
    count: Option<u64>,
    /// Address users u0..u{N-1} (picked per request) instead of `service`: the To of a
    /// REGISTER (its AoR) and the Request-URI user of other requests.
    #[arg(long)]
    users: Option<u32>,
    /// REGISTER: the host:port the Contact points at (default: the client socket).
    #[arg(long)]
    contact: Option<String>,
    /// Request method.
    #[arg(long, value_enum, default_value = "OPTIONS", ignore_case = true)]
    method: Method,
    /// Client threads, each with its own socket and window (server worker threads with
    /// --echo-server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Sockets (source ports) per client thread; the window's requests take turns on them.
    #[arg(long, default_value_t = 1)]
    sources: usize,
    /// PID of the server: report its CPU per reply (itself and all descendants) and memory.
    #[arg(long)]
    server_pid: Option<i32>,
    /// A request unanswered this long counts as lost and is replaced.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Final codes that count as success (comma-separated); any other is an error.
    #[arg(long, default_value = "200", value_delimiter = ',')]
    expect: Vec<u16>,
    /// Print one JSON line instead of the text report.
    #[arg(long)]
    json: bool,
    /// Datagrams per sendmmsg/recvmmsg call.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Allow a target that is not a loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Run the echo server on this address instead of generating load.
    #[arg(long, value_name = "ADDR")]
    echo_server: Option<SocketAddr>,
    /// With --echo-server: one SO_REUSEPORT socket per worker instead of one shared socket.
    #[arg(long, requires = "echo_server")]
    reuseport: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = if let Some(addr) = cli.echo_server {
        echo::serve(echo::Options {
            addr,
            threads: cli.threads,
            reuseport: cli.reuseport,
            duration: cli.duration.map(Duration::from_secs_f64),
            batch: cli.batch.max(1),
        })
        .map(|()| ExitCode::SUCCESS)
    } else {
        client(&cli)
    };
    match r {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sipload: {e}");
            ExitCode::from(2)
        }
    }
}

/// Everything the report needs.
struct Summary {
    elapsed: f64,
    /// Requests sent (ACKs not included).
    sent: u64,
    acks: u64,
    codes: Vec<u64>,
    provisional: u64,
    lost: u64,
    late: u64,
    foreign: u64,
    send_dropped: u64,
    refused: u64,
    hist: Hist,
    client_cpu_us: u64,
    server: Option<Server>,
}

struct Server {
    pid: i32,
    procs: usize,
    cpu_us: u64,
    rss_kb: u64,
    pss_kb: u64,
}

fn client(cli: &Cli) -> std::io::Result<ExitCode> {
    if !cli.target.ip().is_loopback() && !cli.allow_remote {
        eprintln!(
            "sipload: {} is not a loopback address (use --allow-remote)",
            cli.target
        );
        return Ok(ExitCode::from(2));
    }
    if cli.sources > 1
        && cli.method == Method::Register
        && cli.users.is_some()
        && cli.contact.is_none()
    {
        // Users and sockets are picked independently: one user would register a contact per
        // socket over time instead of one.
        eprintln!("sipload: REGISTER with --users and --sources needs --contact");
        return Ok(ExitCode::from(2));
    }
    let threads = cli.threads.max(1);
    let window = cli.window.max(1);
    let duration = match (cli.duration, cli.count) {
        (Some(d), _) => Some(Duration::from_secs_f64(d)),
        (None, None) => Some(Duration::from_secs(5)),
        (None, Some(_)) => None,
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let run = std::process::id() ^ (nanos << 8);
    let server_before = cli.server_pid.map(|p| procstat::cpu_us(&procstat::tree(p)));
    let client_before = procstat::self_cpu_us();
    let start = Instant::now();
    let deadline = duration.map(|d| start + d);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let count = cli
                .count
                .map(|c| c / threads as u64 + u64::from((t as u64) < c % threads as u64));
            let job = load::Job {
                target: cli.target,
                window,
                method: cli.method,
                timeout: Duration::from_millis(cli.timeout_ms.max(1)),
                deadline,
                count,
                batch: cli.batch.max(1),
                run,
                thread: t as u32,
                users: cli.users,
                contact: cli.contact.clone(),
                sources: cli.sources.max(1),
            };
            std::thread::spawn(move || load::run(job))
        })
        .collect();
    let mut stats = Vec::new();
    for h in handles {
        stats.push(
            h.join()
                .map_err(|_| std::io::Error::other("client thread panicked"))??,
        );
    }
    let wall = start.elapsed().as_secs_f64();
    let client_cpu_us = procstat::self_cpu_us().saturating_sub(client_before);
    let server = server_before.map(|cpu0| {
        let pid = cli.server_pid.unwrap_or_default();
        let pids = procstat::tree(pid);
        let cpu1 = procstat::cpu_us(&pids);
        let cpu_us = procstat::cpu_delta_us(&cpu0, &cpu1);
        let (rss_kb, pss_kb) = procstat::memory_kb(&pids);
        Server {
            pid,
            procs: cpu1.len(),
            cpu_us,
            rss_kb,
            pss_kb,
        }
    });

    let mut s = Summary {
        elapsed: 0.0,
        sent: 0,
        acks: 0,
        codes: vec![0; 700],
        provisional: 0,
        lost: 0,
        late: 0,
        foreign: 0,
        send_dropped: 0,
        refused: 0,
        hist: Hist::default(),
        client_cpu_us,
        server,
    };
    for st in &stats {
        s.elapsed = s
            .elapsed
            .max(st.last_final.duration_since(start).as_secs_f64());
        s.sent += st.sent.saturating_sub(st.acks);
        s.acks += st.acks;
        for (a, b) in s.codes.iter_mut().zip(&st.codes) {
            *a += b;
        }
        s.provisional += st.provisional;
        s.lost += st.lost;
        s.late += st.late;
        s.foreign += st.foreign;
        s.send_dropped += st.send_dropped;
        s.refused += st.refused;
        s.hist.merge(&st.hist);
    }
    let finals: u64 = s.codes.iter().sum();
    if finals == 0 {
        s.elapsed = wall;
    }
    let errors: u64 = s
        .codes
        .iter()
        .enumerate()
        .filter(|&(c, _)| !cli.expect.contains(&(c as u16)))
        .map(|(_, n)| n)
        .sum();
    if cli.json {
        println!("{}", json(cli, &s, finals, errors));
    } else {
        print!("{}", text(cli, &s, finals, errors));
    }
    Ok(if finals == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn rate(n: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

fn per(us: u64, n: u64) -> f64 {
    if n > 0 {
        us as f64 / n as f64
    } else {
        0.0
    }
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn codes_list(s: &Summary) -> Vec<(usize, u64)> {
    s.codes
        .iter()
        .enumerate()
        .filter(|&(_, &n)| n > 0)
        .map(|(c, &n)| (c, n))
        .collect()
}

fn text(cli: &Cli, s: &Summary, finals: u64, errors: u64) -> String {
    let mut o = String::new();
    let h = &s.hist;
    let _ = writeln!(
        o,
        "sipload {} -> {}: {} thread(s) x window {} over {} source(s), {:.2} s",
        cli.method.as_str(),
        cli.target,
        cli.threads.max(1),
        cli.window.max(1),
        cli.sources.max(1),
        s.elapsed
    );
    let _ = writeln!(
        o,
        "sent {}  finals {}  lost {}  late {}  errors {}  provisional {}  acks {}",
        s.sent, finals, s.lost, s.late, errors, s.provisional, s.acks
    );
    let codes: Vec<String> = codes_list(s)
        .iter()
        .map(|(c, n)| format!("{c}:{n}"))
        .collect();
    let _ = writeln!(o, "codes {}", codes.join(" "));
    if s.foreign + s.send_dropped + s.refused > 0 {
        let _ = writeln!(
            o,
            "foreign {}  send-dropped {}  icmp-refused {}",
            s.foreign, s.send_dropped, s.refused
        );
    }
    let _ = writeln!(o, "replies/s {:.0}", rate(finals, s.elapsed));
    let _ = writeln!(
        o,
        "latency us: p50 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}  mean {:.1}",
        us(h.quantile(0.5)),
        us(h.quantile(0.99)),
        us(h.quantile(0.999)),
        us(h.max()),
        us(h.mean())
    );
    let _ = writeln!(
        o,
        "client cpu: {:.2} us/reply, {:.0}% of one core",
        per(s.client_cpu_us, finals),
        100.0 * s.client_cpu_us as f64 / 1e6 / s.elapsed.max(1e-9)
    );
    if let Some(sv) = &s.server {
        let _ = writeln!(
            o,
            "server pid {} ({} processes): cpu {:.2} us/reply, {:.0}% of one core; rss {} KiB, pss {} KiB",
            sv.pid,
            sv.procs,
            per(sv.cpu_us, finals),
            100.0 * sv.cpu_us as f64 / 1e6 / s.elapsed.max(1e-9),
            sv.rss_kb,
            sv.pss_kb
        );
    }
    o
}

fn json(cli: &Cli, s: &Summary, finals: u64, errors: u64) -> String {
    let h = &s.hist;
    let codes: Vec<String> = codes_list(s)
        .iter()
        .map(|(c, n)| format!("\"{c}\":{n}"))
        .collect();
    let mut o = format!(
        "{{\"target\":\"{}\",\"method\":\"{}\",\"threads\":{},\"window\":{},\"elapsed_s\":{:.4},\
         \"sent\":{},\"finals\":{},\"codes\":{{{}}},\"errors\":{},\"lost\":{},\"late\":{},\
         \"provisional\":{},\"acks\":{},\"foreign\":{},\"send_dropped\":{},\"icmp_refused\":{},\
         \"replies_per_s\":{:.1},\"lat_us\":{{\"p50\":{:.1},\"p99\":{:.1},\"p999\":{:.1},\
         \"max\":{:.1},\"mean\":{:.1}}},\"client_cpu_us_per_reply\":{:.3}",
        cli.target,
        cli.method.as_str(),
        cli.threads.max(1),
        cli.window.max(1),
        s.elapsed,
        s.sent,
        finals,
        codes.join(","),
        errors,
        s.lost,
        s.late,
        s.provisional,
        s.acks,
        s.foreign,
        s.send_dropped,
        s.refused,
        rate(finals, s.elapsed),
        us(h.quantile(0.5)),
        us(h.quantile(0.99)),
        us(h.quantile(0.999)),
        us(h.max()),
        us(h.mean()),
        per(s.client_cpu_us, finals),
    );
    if let Some(sv) = &s.server {
        let _ = write!(
            o,
            ",\"server\":{{\"pid\":{},\"procs\":{},\"cpu_us\":{},\"cpu_us_per_reply\":{:.3},\
             \"rss_kb\":{},\"pss_kb\":{}}}",
            sv.pid,
            sv.procs,
            sv.cpu_us,
            per(sv.cpu_us, finals),
            sv.rss_kb,
            sv.pss_kb
        );
    }
    o.push('}');
    o
}
