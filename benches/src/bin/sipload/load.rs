//! The closed-loop client: one window of requests per thread, spread over `sources` sockets
//! (slot `i` uses socket `i % sources`), as many UAs each with its own address and port.

use crate::hist::Hist;
use crate::msg::{parse_reply, Builder, Id, Method};
use crate::net::{self, RecvBatch, SendBatch};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

/// What one thread is asked to do.
#[derive(Clone)]
pub struct Job {
    pub target: SocketAddr,
    pub window: usize,
    pub method: Method,
    pub timeout: Duration,
    /// Stop issuing new requests at this instant (duration mode).
    pub deadline: Option<Instant>,
    /// Stop issuing new requests after this many (count mode).
    pub count: Option<u64>,
    pub batch: usize,
    pub run: u32,
    pub thread: u32,
    pub users: Option<u32>,
    pub contact: Option<String>,
    /// Client sockets of this thread (at least 1).
    pub sources: usize,
}

/// What one thread saw.
pub struct Stats {
    pub sent: u64,
    pub acks: u64,
    /// Final replies to our requests, by status code (index = code).
    pub codes: Vec<u64>,
    pub provisional: u64,
    /// Requests unanswered after the timeout (each was replaced by a new one).
    pub lost: u64,
    /// Final replies that came after their request was declared lost, or twice.
    pub late: u64,
    /// Datagrams that were no reply or whose Call-ID is not ours.
    pub foreign: u64,
    pub send_dropped: u64,
    /// ICMP port-unreachable reports (nobody listening at the target).
    pub refused: u64,
    pub hist: Hist,
    /// When the last final reply arrived.
    pub last_final: Instant,
}

#[derive(Clone, Copy)]
struct Slot {
    gen: u32,
    busy: bool,
    sent_at: Instant,
}

/// Runs one thread's share of the load until its deadline or count, then waits (at most the
/// timeout) for the requests still in flight.
pub fn run(job: Job) -> io::Result<Stats> {
    let local_any = match job.target.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let tick = (job.timeout / 4).clamp(Duration::from_millis(1), Duration::from_millis(10));
    let n = job.sources.max(1);
    let mut socks = Vec::with_capacity(n);
    let mut builders = Vec::with_capacity(n);
    for _ in 0..n {
        let sock = net::bind(SocketAddr::new(local_any, 0), false)?;
        sock.connect(job.target)?;
        net::set_recv_timeout(&sock, tick)?;
        builders.push(Builder {
            method: job.method,
            local: sock.local_addr()?.to_string(),
            target: job.target.to_string(),
            users: job.users,
            contact: job.contact.clone(),
            window: job.window as u32,
        });
        socks.push(sock);
    }
    let fds: Vec<_> = socks.iter().map(net::fd).collect();
    let source = |slot: u32| slot as usize % n;
    // Whether new requests may still be issued at `now` (duration mode).
    let open = |now: Instant| job.deadline.is_none_or(|d| now < d);

    let now = Instant::now();
    let mut slots = vec![
        Slot {
            gen: 0,
            busy: false,
            sent_at: now,
        };
        job.window
    ];
    let mut st = Stats {
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
        last_final: now,
    };
    let mut remaining = job.count.unwrap_or(u64::MAX);
    let mut inflight = 0usize;
    let mut recv = RecvBatch::new(job.batch, 8192);
    let mut sends: Vec<SendBatch> = (0..n).map(|_| SendBatch::new()).collect();
    // Slots whose request is queued in `sends`, to stamp once it goes out.
    let mut stamp: Vec<u32> = Vec::with_capacity(job.window);
    let mut ready: Vec<usize> = Vec::with_capacity(n);
    let scan_every = (job.timeout / 8).max(Duration::from_millis(1));
    let mut last_scan = now;
    let mut drain_from: Option<Instant> = None;

    let issue = |slot: u32,
                 slots: &mut [Slot],
                 sends: &mut [SendBatch],
                 stamp: &mut Vec<u32>,
                 remaining: &mut u64,
                 inflight: &mut usize| {
        let s = &mut slots[slot as usize];
        s.gen = s.gen.wrapping_add(1);
        s.busy = true;
        let send = &mut sends[source(slot)];
        builders[source(slot)].request(
            send.begin(),
            Id {
                run: job.run,
                thread: job.thread,
                slot,
                gen: s.gen,
            },
        );
        send.end();
        stamp.push(slot);
        *remaining -= 1;
        *inflight += 1;
    };

    for slot in 0..job.window as u32 {
        if remaining == 0 {
            break;
        }
        issue(
            slot,
            &mut slots,
            &mut sends,
            &mut stamp,
            &mut remaining,
            &mut inflight,
        );
    }

    loop {
        // Send what is queued and stamp it.
        if !stamp.is_empty() {
            let t = Instant::now();
            for &s in &stamp {
                slots[s as usize].sent_at = t;
            }
            stamp.clear();
        }
        for (send, &fd) in sends.iter_mut().zip(&fds) {
            if send.is_empty() {
                continue;
            }
            let f = send.flush(fd);
            st.sent += f.sent as u64;
            st.send_dropped += f.dropped as u64;
            st.refused += f.refused as u64;
        }

        let now = Instant::now();
        let stopping = remaining == 0 || job.deadline.is_some_and(|d| now >= d);
        if stopping {
            if inflight == 0 {
                break;
            }
            let from = *drain_from.get_or_insert(now);
            if now.duration_since(from) > job.timeout {
                st.lost += inflight as u64;
                break;
            }
        }

        ready.clear();
        if n == 1 {
            ready.push(0);
        } else {
            net::poll_readable(&fds, tick, &mut ready)?;
        }
        let mut now = Instant::now();
        for &k in &ready {
            match recv.recv(fds[k]) {
                Ok(_) => {}
                Err(e) if net::is_timeout(&e) => {}
                Err(e) if net::is_refused(&e) => st.refused += 1,
                Err(e) => return Err(e),
            }
            now = Instant::now();
            let may_issue = |remaining: u64| open(now) && remaining > 0;
            for i in 0..recv.len() {
                let Some(r) = parse_reply(recv.msg(i)) else {
                    st.foreign += 1;
                    continue;
                };
                let Some(id) =
                    r.id.filter(|id| id.run == job.run && id.thread == job.thread)
                else {
                    st.foreign += 1;
                    continue;
                };
                if r.code < 200 {
                    st.provisional += 1;
                    continue;
                }
                let Some(s) = slots.get_mut(id.slot as usize) else {
                    st.foreign += 1;
                    continue;
                };
                if !s.busy || s.gen != id.gen {
                    st.late += 1;
                    continue;
                }
                s.busy = false;
                inflight -= 1;
                st.hist.record(
                    now.duration_since(s.sent_at)
                        .as_nanos()
                        .min(u64::MAX as u128) as u64,
                );
                st.codes[usize::from(r.code).min(699)] += 1;
                st.last_final = now;
                if job.method == Method::Invite {
                    let k = source(id.slot);
                    builders[k].ack(sends[k].begin(), id, r.to, (200..300).contains(&r.code));
                    sends[k].end();
                    st.acks += 1;
                }
                if may_issue(remaining) {
                    issue(
                        id.slot,
                        &mut slots,
                        &mut sends,
                        &mut stamp,
                        &mut remaining,
                        &mut inflight,
                    );
                }
            }
        }
        let may_issue = |remaining: u64| open(now) && remaining > 0;

        // Requests past the timeout count as lost and are replaced.
        if now.duration_since(last_scan) >= scan_every {
            last_scan = now;
            for slot in 0..slots.len() {
                let s = &mut slots[slot];
                if s.busy && now.duration_since(s.sent_at) >= job.timeout {
                    s.busy = false;
                    inflight -= 1;
                    st.lost += 1;
                    if may_issue(remaining) {
                        issue(
                            slot as u32,
                            &mut slots,
                            &mut sends,
                            &mut stamp,
                            &mut remaining,
                            &mut inflight,
                        );
                    }
                }
            }
        }
    }
    Ok(st)
}
