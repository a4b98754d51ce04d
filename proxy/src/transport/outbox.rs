//! What handlers send: [`Outbox`] collects, the worker flushes once per receive batch.
//!
//! Choosing the sending socket (see [`Outgoing::via_socket`]):
//! - UDP with `via_socket = Some(i)`: socket `i` (must be UDP and of the destination's address
//!   family, otherwise the datagram is dropped and counted in `Stats::tx_errors`).
//! - UDP with `None`: the socket the current message arrived on when it is UDP of the same
//!   family, else the first UDP socket of that family.
//! - TCP: the open connection to `dst` if there is one (whatever `via_socket` says);
//!   otherwise, unless the item is an [`Outbox::reply`], a new connection is made (blocking,
//!   bounded by `Config::tcp_connect_timeout`), attributed to TCP socket `via_socket` (its IP
//!   becomes the source address) or to the first TCP socket of the family, and then read like
//!   an accepted one.

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use bytes::Bytes;

use super::server::Shared;
use super::{udp, Local, Proto};

/// One thing to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub dst: SocketAddr,
    pub proto: Proto,
    pub data: Bytes,
    /// Index of the [`Local`] to send from; `None` lets the transport choose (module docs).
    pub via_socket: Option<usize>,
    /// TCP only: open a connection when none is open to `dst`. [`Outbox::send`] sets it,
    /// [`Outbox::reply`] does not (a reply goes on the connection the request came on, or
    /// is dropped when that connection has closed).
    pub connect: bool,
    /// A copy sent beside SIP processing (a trace duplicate): the modules' raw-data hooks
    /// leave it alone, as Kamailio sends such copies without its `NET_DATA_OUT` event.
    pub aside: bool,
    /// TCP only: close the connection once this is written (core `set_reply_close()`,
    /// `set_forward_close()`).
    pub close: bool,
}

/// A queue of datagrams and stream writes, filled by a [`super::Handler`] and flushed by its
/// worker after the current receive batch. Reused across batches (its capacity is kept).
#[derive(Debug, Default)]
pub struct Outbox {
    items: Vec<Outgoing>,
}

impl Outbox {
    pub fn new() -> Self {
        Outbox {
            items: Vec::with_capacity(64),
        }
    }

    /// Queues `data` for `dst` over `proto`, optionally from socket `via_socket`.
    pub fn send(&mut self, dst: SocketAddr, proto: Proto, data: Bytes, via_socket: Option<usize>) {
        self.items.push(Outgoing {
            dst,
            proto,
            data,
            via_socket,
            connect: true,
            aside: false,
            close: false,
        });
    }

    /// Queues a copy beside SIP processing (see [`Outgoing::aside`]).
    pub fn send_aside(
        &mut self,
        dst: SocketAddr,
        proto: Proto,
        data: Bytes,
        via_socket: Option<usize>,
    ) {
        self.items.push(Outgoing {
            dst,
            proto,
            data,
            via_socket,
            connect: true,
            aside: true,
            close: false,
        });
    }

    /// Answers `src` over the socket (UDP) or connection (TCP) a message arrived on. Over TCP
    /// no new connection is opened for it.
    pub fn reply(&mut self, src: SocketAddr, via: &Local, data: Bytes) {
        self.items.push(Outgoing {
            dst: src,
            proto: via.proto,
            data,
            via_socket: Some(via.index),
            connect: false,
            aside: false,
            close: false,
        });
    }

    /// Queues a prepared [`Outgoing`].
    pub fn push(&mut self, item: Outgoing) {
        self.items.push(item);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn items(&self) -> &[Outgoing] {
        &self.items
    }

    /// The queued items, to rewrite in place (modules' raw-data hooks).
    pub fn items_mut(&mut self) -> &mut [Outgoing] {
        &mut self.items
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }
}

/// Sends from outside the worker threads (a timer thread retransmitting, say). Cheap to clone.
#[derive(Clone)]
pub struct Sender {
    pub(crate) shared: Arc<Shared>,
}

impl Sender {
    /// Sends everything queued in `out` (then empties it), by the rules in the module docs.
    pub fn flush(&self, out: &mut Outbox) {
        flush(&self.shared, out, None, &mut udp::SendBatch::new());
    }

    /// The bound sockets.
    pub fn locals(&self) -> &[Local] {
        &self.shared.locals
    }
}

/// The socket a worker received on: its own fd, used for UDP items that go out on `index`.
#[derive(Clone, Copy)]
pub(crate) struct Own {
    pub index: usize,
    pub fd: RawFd,
}

/// Sends and empties `out`. Consecutive UDP items for the same socket go in one `sendmmsg`.
pub(crate) fn flush(
    shared: &Shared,
    out: &mut Outbox,
    own: Option<Own>,
    batch: &mut udp::SendBatch,
) {
    if out.items.is_empty() {
        return;
    }
    let mut run_fd: Option<RawFd> = None;
    for item in out.items.drain(..) {
        match item.proto {
            Proto::Udp => {
                let Some(index) = udp_socket_for(shared, &item, own.map(|o| o.index)) else {
                    shared.stats.tx_errors.fetch_add(1, Relaxed);
                    continue;
                };
                let fd = match own {
                    Some(o) if o.index == index => o.fd,
                    _ => match shared.udp_fd(index) {
                        Some(fd) => fd,
                        None => {
                            shared.stats.tx_errors.fetch_add(1, Relaxed);
                            continue;
                        }
                    },
                };
                if run_fd.is_some_and(|r| r != fd) || batch.is_full() {
                    batch.send(run_fd.unwrap_or(fd), &shared.stats);
                }
                run_fd = Some(fd);
                batch.push(item.dst, item.data);
            }
            Proto::Tcp => {
                if let Some(fd) = run_fd.take() {
                    batch.send(fd, &shared.stats);
                }
                shared.tcp.send(shared, &item);
            }
            _ => {
                shared.stats.tx_errors.fetch_add(1, Relaxed);
            }
        }
    }
    if let Some(fd) = run_fd {
        batch.send(fd, &shared.stats);
    }
}

fn udp_socket_for(shared: &Shared, item: &Outgoing, receiving: Option<usize>) -> Option<usize> {
    let fits = |i: usize| {
        shared
            .locals
            .get(i)
            .is_some_and(|l| l.proto == Proto::Udp && l.addr.is_ipv4() == item.dst.is_ipv4())
    };
    match item.via_socket {
        Some(i) => fits(i).then_some(i),
        None => match receiving {
            Some(i) if fits(i) => Some(i),
            _ => (0..shared.locals.len()).find(|&i| fits(i)),
        },
    }
}

/// The first TCP socket of `dst`'s family, or `via` if it is TCP of that family.
pub(crate) fn tcp_socket_for(
    shared: &Shared,
    dst: SocketAddr,
    via: Option<usize>,
) -> Option<usize> {
    let fits = |i: usize| {
        shared
            .locals
            .get(i)
            .is_some_and(|l| l.proto == Proto::Tcp && l.addr.is_ipv4() == dst.is_ipv4())
    };
    match via {
        Some(i) => fits(i).then_some(i),
        None => (0..shared.locals.len()).find(|&i| fits(i)),
    }
}
