//! `--echo-server`: the "parses nothing" baseline. Each worker thread takes a batch of
//! datagrams with `recvmmsg`, answers each request with a fixed `200 OK` made of its
//! Via/From/To/Call-ID/CSeq lines ([`crate::msg::echo_reply`]) and sends the batch back with
//! `sendmmsg` to where each datagram came from.
//!
//! By default the workers share one socket, as Kamailio's UDP children do, so one client socket
//! spreads over all of them; `--reuseport` gives each worker its own `SO_REUSEPORT` socket
//! instead (the kernel then spreads clients by address hash, so it needs several client
//! sockets, e.g. `sipload --threads 4`).

use crate::msg::echo_reply;
use crate::net::{self, RecvBatch, SendBatch};
use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Options {
    pub addr: SocketAddr,
    pub threads: usize,
    pub reuseport: bool,
    pub duration: Option<Duration>,
    pub batch: usize,
}

/// Runs until the duration is over (forever without one). Prints `listening on ADDR` on
/// standard output once bound and a count of replies on standard error at the end.
pub fn serve(o: Options) -> io::Result<()> {
    let threads = o.threads.max(1);
    let mut socks: Vec<Arc<UdpSocket>> = Vec::new();
    let first = net::bind(o.addr, o.reuseport)?;
    let bound = first.local_addr()?;
    socks.push(Arc::new(first));
    for _ in 1..threads {
        if o.reuseport {
            socks.push(Arc::new(net::bind(bound, true)?));
        } else {
            socks.push(socks[0].clone());
        }
    }
    for s in &socks {
        net::set_recv_timeout(s, Duration::from_millis(20))?;
    }
    {
        let mut out = io::stdout().lock();
        writeln!(out, "listening on {bound}")?;
        out.flush()?;
    }
    let deadline = o.duration.map(|d| Instant::now() + d);
    let batch = o.batch;
    let handles: Vec<_> = socks
        .into_iter()
        .map(|s| std::thread::spawn(move || worker(&s, deadline, batch)))
        .collect();
    let mut total = 0u64;
    for h in handles {
        total += h
            .join()
            .map_err(|_| io::Error::other("echo worker panicked"))??;
    }
    eprintln!("echo-server {bound}: {total} replies");
    Ok(())
}

fn worker(sock: &UdpSocket, deadline: Option<Instant>, batch: usize) -> io::Result<u64> {
    let fd = net::fd(sock);
    let mut recv = RecvBatch::new(batch, 65536);
    let mut send = SendBatch::new();
    let mut replies = 0u64;
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(replies);
        }
        match recv.recv(fd) {
            Ok(_) => {}
            Err(e) if net::is_timeout(&e) || net::is_refused(&e) => continue,
            Err(e) => return Err(e),
        }
        for i in 0..recv.len() {
            if echo_reply(recv.msg(i), send.begin()) {
                send.end_to(recv.name(i));
            }
        }
        replies += send.flush(fd).sent as u64;
    }
}
