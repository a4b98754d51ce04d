//! The transport layer: sockets, worker threads, batching and stream framing.
//!
//! It moves bytes and knows nothing of SIP beyond what TCP framing needs (the end of the
//! headers and `Content-Length`). A [`Handler`] (one instance per worker thread) receives each
//! datagram or framed stream message as [`bytes::Bytes`] and queues what to send in an
//! [`Outbox`]; the worker flushes the outbox once per receive batch (`sendmmsg` for UDP).
//!
//! - [`listen`] — `listen=` values ([`parse_listen`]) and the default listen set.
//! - [`outbox`] — [`Outbox`], [`Outgoing`], and [`Sender`] for sending from outside a worker.
//! - [`udp`] — `children` workers per UDP socket, `SO_REUSEPORT`, `recvmmsg`/`sendmmsg`.
//! - [`framing`] — finding message boundaries in a TCP byte stream.
//! - [`tcp`] — acceptors, the reader pool (epoll), the connection table.
//! - [`server`] — [`Server`] (bind, start, shutdown) and [`Config`].
//! - [`signal`] — [`wait_for_signal`] and [`SignalWaiter`].
//!
//! See `docs/transport.md` for the threading model and the reasons behind it.

pub mod framing;
pub mod listen;
pub mod outbox;
pub mod server;
pub mod signal;
pub mod tcp;
pub mod udp;

use std::fmt;
use std::net::SocketAddr;

pub use listen::{default_listen, parse_listen, Advertise, ListenSpec};
pub use outbox::{Outbox, Outgoing, Sender};
pub use server::{Bound, Config, Server, Stats};
pub use signal::{wait_for_signal, SignalWaiter};

/// A transport protocol as Kamailio names it. Only [`Proto::Udp`] and [`Proto::Tcp`] are
/// served today; the others parse (so a `listen=tls:...` line is understood) and are reported
/// as unsupported when bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    Udp,
    Tcp,
    Tls,
    Sctp,
    Ws,
    Wss,
}

impl Proto {
    /// The lower-case name used in `listen=` and in Via (`udp`, `tcp`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
            Proto::Tls => "tls",
            Proto::Sctp => "sctp",
            Proto::Ws => "ws",
            Proto::Wss => "wss",
        }
    }

    /// Parses a protocol name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Proto> {
        const ALL: [Proto; 6] = [
            Proto::Udp,
            Proto::Tcp,
            Proto::Tls,
            Proto::Sctp,
            Proto::Ws,
            Proto::Wss,
        ];
        ALL.into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether sipvm can listen on and send over this protocol today.
    pub fn is_supported(self) -> bool {
        matches!(self, Proto::Udp | Proto::Tcp)
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One bound listening socket, as a handler sees it: the socket a message arrived on, and the
/// socket an [`Outgoing`] may name by `index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Local {
    /// Position in [`Bound::locals`] / [`Server::locals`]; stable for the server's life.
    pub index: usize,
    pub proto: Proto,
    /// The address actually bound (a `:0` port in the spec is replaced by the real port).
    pub addr: SocketAddr,
    /// `advertise host[:port]` from the listen line: what to put in Via/Record-Route instead of
    /// `addr`. A missing port means "the bound port".
    pub advertise: Option<Advertise>,
    /// `name "x"` from the listen line.
    pub name: Option<String>,
}

impl Local {
    /// `proto:addr:port` as Kamailio prints a socket (`udp:127.0.0.1:5060`, `tcp:[::1]:5060`).
    pub fn socket_str(&self) -> String {
        let mut s = String::with_capacity(32);
        s.push_str(self.proto.as_str());
        s.push(':');
        crate::sip::numfmt::push_socket(&mut s, self.addr);
        s
    }
}

/// What a worker runs for every received message. One instance per worker thread, created by
/// the factory passed to [`Server::start`] with the worker's index, so a handler owns its state
/// (VM, caches) without locks.
///
/// `msg` is exactly one datagram (UDP) or one framed message (TCP: headers plus
/// `Content-Length` bytes of body). `src` is the peer; `via` is the socket it arrived on. To
/// answer, push to `out`: [`Outbox::reply`] sends back over the same socket (UDP replies then
/// leave from the listen address; TCP replies go on the same connection).
pub trait Handler: Send + 'static {
    fn on_message(&mut self, msg: bytes::Bytes, src: SocketAddr, via: &Local, out: &mut Outbox);

    /// Called by the worker at least every `Config::tick` (100 ms by default), whether or not
    /// traffic arrives: the place for per-worker timers. The outbox is flushed afterwards.
    fn on_tick(&mut self, _out: &mut Outbox) {}
}

/// Calls [`Handler::on_message`], containing a panic: the worker survives (and keeps its
/// socket, so no flow moves to another worker); the panic is counted in `Stats::handler_panics`.
pub(crate) fn deliver<H: Handler>(
    handler: &mut H,
    msg: bytes::Bytes,
    src: SocketAddr,
    via: &Local,
    out: &mut Outbox,
    stats: &Stats,
) {
    let call = std::panic::AssertUnwindSafe(|| handler.on_message(msg, src, via, out));
    if std::panic::catch_unwind(call).is_err() {
        stats
            .handler_panics
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Calls [`Handler::on_tick`], containing a panic like [`deliver`].
pub(crate) fn tick<H: Handler>(handler: &mut H, out: &mut Outbox, stats: &Stats) {
    let call = std::panic::AssertUnwindSafe(|| handler.on_tick(out));
    if std::panic::catch_unwind(call).is_err() {
        stats
            .handler_panics
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Errors of the transport layer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid listen value `{text}`: {reason}")]
    InvalidListen { text: String, reason: String },
    #[error("protocol {0} is not supported yet (only udp and tcp)")]
    Unsupported(Proto),
    #[error("cannot resolve host `{0}` (only IP addresses and `localhost` are accepted)")]
    Resolve(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no listen socket given")]
    NoSockets,
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl TransportError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        TransportError::Io {
            context: context.into(),
            source,
        }
    }
}
