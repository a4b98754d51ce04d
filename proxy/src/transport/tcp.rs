//! TCP: one acceptor thread per listen socket, a fixed pool of reader threads (each with its
//! own epoll set and its own handler), and a table of open connections by remote address.
//!
//! Sockets stay in blocking mode: readers use `recv(MSG_DONTWAIT)` when epoll says a socket is
//! readable, writers (any worker, or a [`super::Sender`]) write whole messages under a
//! per-connection lock, bounded by `SO_SNDTIMEO`. A write that fails or times out closes the
//! connection (a partly written message cannot be resumed).

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use socket2::{Domain, Protocol, Socket, Type};

use super::framing::{next_frame, Frame};
use super::outbox::{flush, tcp_socket_for, Outbox, Outgoing};
use super::server::Shared;
use super::udp::SendBatch;
use super::{Handler, TransportError};

/// Bytes asked of the kernel per `recv`.
const READ_CHUNK: usize = 16 * 1024;
/// `recv` calls per readiness event before giving other connections a turn.
const READS_PER_EVENT: usize = 4;
const EVENTS: usize = 64;

/// One open connection, accepted or made.
pub(crate) struct Conn {
    stream: TcpStream,
    pub peer: SocketAddr,
    /// The [`super::Local`] (a TCP socket) it belongs to.
    pub local: usize,
    token: u64,
    write_lock: Mutex<()>,
    /// Milliseconds since `Shared::epoch` of the last read or write.
    last_active: AtomicU64,
}

impl Conn {
    fn write(&self, data: &[u8]) -> io::Result<()> {
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        (&self.stream).write_all(data)
    }
}

/// A reader's inbox for new connections, and its epoll set.
struct ReaderSlot {
    epfd: OwnedFd,
    tx: mpsc::Sender<Arc<Conn>>,
}

/// Open connections by remote address, and the reader pool they are spread over.
pub(crate) struct TcpTable {
    conns: RwLock<HashMap<SocketAddr, Arc<Conn>>>,
    readers: Vec<ReaderSlot>,
    next_reader: AtomicUsize,
    next_token: AtomicU64,
    /// Open connections (decremented when a reader drops one).
    pub open: AtomicUsize,
}

/// The receiving half of a reader slot, moved into the reader thread at start.
pub(crate) struct ReaderInbox {
    slot: usize,
    rx: mpsc::Receiver<Arc<Conn>>,
}

impl TcpTable {
    /// A table with `readers` reader slots (0 when nothing is TCP).
    pub(crate) fn new(readers: usize) -> Result<(TcpTable, Vec<ReaderInbox>), TransportError> {
        let mut slots = Vec::with_capacity(readers);
        let mut inboxes = Vec::with_capacity(readers);
        for slot in 0..readers {
            // SAFETY: plain syscall; the result is checked.
            let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if fd < 0 {
                return Err(TransportError::io(
                    "epoll_create1",
                    io::Error::last_os_error(),
                ));
            }
            // SAFETY: `fd` is a fresh descriptor owned by nobody else.
            let epfd = unsafe { OwnedFd::from_raw_fd(fd) };
            let (tx, rx) = mpsc::channel();
            slots.push(ReaderSlot { epfd, tx });
            inboxes.push(ReaderInbox { slot, rx });
        }
        let table = TcpTable {
            conns: RwLock::new(HashMap::new()),
            readers: slots,
            next_reader: AtomicUsize::new(0),
            next_token: AtomicU64::new(1),
            open: AtomicUsize::new(0),
        };
        Ok((table, inboxes))
    }

    fn get(&self, peer: &SocketAddr) -> Option<Arc<Conn>> {
        self.conns
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(peer)
            .cloned()
    }

    /// Registers a connected stream: table entry, a reader, its epoll set.
    fn adopt(
        &self,
        shared: &Shared,
        stream: TcpStream,
        peer: SocketAddr,
        local: usize,
    ) -> Option<Arc<Conn>> {
        if self.readers.is_empty() {
            return None;
        }
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(shared.config.tcp_send_timeout));
        let token = self.next_token.fetch_add(1, Relaxed);
        let conn = Arc::new(Conn {
            stream,
            peer,
            local,
            token,
            write_lock: Mutex::new(()),
            last_active: AtomicU64::new(shared.now_ms()),
        });
        self.open.fetch_add(1, Relaxed);
        self.conns
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(peer, conn.clone());
        let slot = &self.readers[self.next_reader.fetch_add(1, Relaxed) % self.readers.len()];
        // The reader drains its inbox after each epoll_wait, before handling the events, so
        // the connection must be in the inbox before it is in the epoll set.
        let _ = slot.tx.send(conn.clone());
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLRDHUP) as u32,
            u64: token,
        };
        // SAFETY: both descriptors are open; `ev` is a valid epoll_event.
        let r = unsafe {
            libc::epoll_ctl(
                slot.epfd.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                conn.stream.as_raw_fd(),
                &mut ev,
            )
        };
        if r < 0 {
            self.close(&conn);
            return None;
        }
        Some(conn)
    }

    /// Removes `conn` from the table and shuts it down; its reader then sees the end of the
    /// stream and drops it.
    fn close(&self, conn: &Arc<Conn>) {
        let mut map = self.conns.write().unwrap_or_else(|e| e.into_inner());
        if map.get(&conn.peer).is_some_and(|c| Arc::ptr_eq(c, conn)) {
            map.remove(&conn.peer);
        }
        drop(map);
        let _ = conn.stream.shutdown(Shutdown::Both);
    }

    /// Writes one message to `item.dst`, connecting first if allowed and needed.
    pub(crate) fn send(&self, shared: &Shared, item: &Outgoing) {
        let conn = match self.get(&item.dst) {
            Some(c) => Some(c),
            None if item.connect => self.connect(shared, item.dst, item.via_socket),
            None => None,
        };
        let Some(conn) = conn else {
            shared.stats.tx_errors.fetch_add(1, Relaxed);
            return;
        };
        match conn.write(&item.data) {
            Ok(()) => {
                conn.last_active.store(shared.now_ms(), Relaxed);
                shared.stats.tx.fetch_add(1, Relaxed);
                if item.close {
                    self.close(&conn);
                }
            }
            Err(_) => {
                shared.stats.tx_errors.fetch_add(1, Relaxed);
                self.close(&conn);
            }
        }
    }

    /// Opens a connection to `dst` (blocking, bounded by `tcp_connect_timeout`).
    fn connect(&self, shared: &Shared, dst: SocketAddr, via: Option<usize>) -> Option<Arc<Conn>> {
        let local = tcp_socket_for(shared, dst, via)?;
        if self.open.load(Relaxed) >= shared.config.tcp_max_connections {
            return None;
        }
        let sock = Socket::new(Domain::for_address(dst), Type::STREAM, Some(Protocol::TCP)).ok()?;
        let from = shared.locals[local].addr.ip();
        if via.is_some() && !from.is_unspecified() {
            sock.bind(&SocketAddr::new(from, 0).into()).ok()?;
        }
        sock.connect_timeout(&dst.into(), shared.config.tcp_connect_timeout)
            .ok()?;
        self.adopt(shared, sock.into(), dst, local)
    }
}

/// Binds a TCP listening socket (with `SO_REUSEADDR`, as servers do, and a read timeout so
/// that `accept` returns to check for shutdown).
pub(crate) fn bind_listener(
    addr: SocketAddr,
    accept_timeout: Duration,
) -> Result<TcpListener, TransportError> {
    let ctx = |what: &str| format!("tcp {addr}: {what}");
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| TransportError::io(ctx("socket"), e))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)
            .map_err(|e| TransportError::io(ctx("IPV6_V6ONLY"), e))?;
    }
    s.set_reuse_address(true)
        .map_err(|e| TransportError::io(ctx("SO_REUSEADDR"), e))?;
    s.bind(&addr.into())
        .map_err(|e| TransportError::io(ctx("bind"), e))?;
    s.listen(1024)
        .map_err(|e| TransportError::io(ctx("listen"), e))?;
    s.set_read_timeout(Some(accept_timeout))
        .map_err(|e| TransportError::io(ctx("SO_RCVTIMEO"), e))?;
    Ok(s.into())
}

/// The accept loop of one TCP listen socket.
pub(crate) fn run_acceptor(listener: TcpListener, index: usize, shared: Arc<Shared>) {
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, peer)) => {
                if shared.tcp.open.load(Relaxed) >= shared.config.tcp_max_connections {
                    shared.stats.tcp_refused.fetch_add(1, Relaxed);
                    drop(stream);
                    continue;
                }
                shared.stats.tcp_accepted.fetch_add(1, Relaxed);
                let _ = shared.tcp.adopt(&shared, stream, peer, index);
            }
            Err(e) => match e.kind() {
                io::ErrorKind::WouldBlock
                | io::ErrorKind::TimedOut
                | io::ErrorKind::Interrupted => {}
                // EMFILE and friends: back off instead of spinning.
                _ => std::thread::sleep(Duration::from_millis(10)),
            },
        }
    }
}

/// A connection as its reader holds it: the shared part and the receive buffer.
struct ConnState {
    conn: Arc<Conn>,
    buf: BytesMut,
}

/// The loop of one reader thread: epoll, recv, frame, handle, flush.
pub(crate) fn run_reader<H: Handler>(inbox: ReaderInbox, shared: Arc<Shared>, mut handler: H) {
    let epfd = shared.tcp.readers[inbox.slot].epfd.as_raw_fd();
    let mut conns: HashMap<u64, ConnState> = HashMap::new();
    // SAFETY: all-zero is a valid epoll_event.
    let mut events: Vec<libc::epoll_event> = vec![unsafe { std::mem::zeroed() }; EVENTS];
    let mut out = Outbox::new();
    let mut tx = SendBatch::new();
    let tick = shared.config.tick;
    let timeout_ms = tick.as_millis().clamp(1, i32::MAX as u128) as i32;
    let mut last_tick = Instant::now();
    let mut last_sweep = Instant::now();
    while !shared.stopping() {
        // SAFETY: `events` has room for EVENTS entries.
        let n = unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), EVENTS as i32, timeout_ms) };
        // New connections: in the inbox before their fd is in the epoll set (see `adopt`).
        take_inbox(&inbox, &mut conns);
        for ev in events.iter().take(n.max(0) as usize) {
            let token = ev.u64;
            let Some(st) = conns.get_mut(&token) else {
                continue;
            };
            if !read_conn(st, &shared, &mut handler, &mut out) {
                let st = conns.remove(&token).expect("present");
                drop_conn(&shared, epfd, st);
            }
        }
        let now = Instant::now();
        if now.duration_since(last_tick) >= tick {
            last_tick = now;
            super::tick(&mut handler, &mut out, &shared.stats);
        }
        if now.duration_since(last_sweep) >= Duration::from_secs(1) {
            last_sweep = now;
            sweep_idle(&shared, epfd, &mut conns);
        }
        flush(&shared, &mut out, None, &mut tx);
    }
    take_inbox(&inbox, &mut conns);
    for (_, st) in conns.drain() {
        drop_conn(&shared, epfd, st);
    }
}

/// Reads what is available and hands every complete message to the handler. `false`: the
/// connection is to be dropped (end of stream, error, or broken framing).
fn read_conn<H: Handler>(
    st: &mut ConnState,
    shared: &Shared,
    handler: &mut H,
    out: &mut Outbox,
) -> bool {
    let fd: RawFd = st.conn.stream.as_raw_fd();
    let max = shared.config.max_tcp_message;
    let local = &shared.locals[st.conn.local];
    for _ in 0..READS_PER_EVENT {
        st.buf.reserve(READ_CHUNK);
        let spare = st.buf.spare_capacity_mut();
        let want = spare.len();
        // SAFETY: `spare` is writable memory of `want` bytes owned by `buf`.
        let r = unsafe { libc::recv(fd, spare.as_mut_ptr().cast(), want, libc::MSG_DONTWAIT) };
        if r == 0 {
            return false;
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock => true,
                io::ErrorKind::Interrupted => continue,
                _ => false,
            };
        }
        // SAFETY: the kernel initialised `r` bytes of the spare capacity.
        unsafe { st.buf.set_len(st.buf.len() + r as usize) };
        st.conn.last_active.store(shared.now_ms(), Relaxed);
        loop {
            match next_frame(&st.buf, max) {
                Frame::Message(len) => {
                    shared.stats.rx.fetch_add(1, Relaxed);
                    let msg: Bytes = st.buf.split_to(len).freeze();
                    super::deliver(handler, msg, st.conn.peer, local, out, &shared.stats);
                }
                Frame::Ping => {
                    st.buf.advance(4);
                    shared.stats.tcp_pings.fetch_add(1, Relaxed);
                    out.reply(st.conn.peer, local, Bytes::from_static(b"\r\n"));
                }
                Frame::Skip(k) => st.buf.advance(k),
                Frame::Need(_) => break,
                Frame::Error(_) => {
                    shared.stats.tcp_framing_errors.fetch_add(1, Relaxed);
                    return false;
                }
            }
        }
        if (r as usize) < want {
            break;
        }
    }
    true
}

/// Moves the connections handed to this reader into its table.
fn take_inbox(inbox: &ReaderInbox, conns: &mut HashMap<u64, ConnState>) {
    while let Ok(c) = inbox.rx.try_recv() {
        let st = ConnState {
            conn: c,
            buf: BytesMut::new(),
        };
        conns.insert(st.conn.token, st);
    }
}

fn drop_conn(shared: &Shared, epfd: RawFd, st: ConnState) {
    // SAFETY: removing a descriptor we added; a failure (already gone) is harmless.
    unsafe {
        libc::epoll_ctl(
            epfd,
            libc::EPOLL_CTL_DEL,
            st.conn.stream.as_raw_fd(),
            std::ptr::null_mut(),
        );
    }
    shared.tcp.close(&st.conn);
    shared.tcp.open.fetch_sub(1, Relaxed);
    shared.stats.tcp_closed.fetch_add(1, Relaxed);
}

fn sweep_idle(shared: &Shared, epfd: RawFd, conns: &mut HashMap<u64, ConnState>) {
    let lifetime = shared.config.tcp_lifetime.as_millis() as u64;
    let now = shared.now_ms();
    let idle: Vec<u64> = conns
        .iter()
        .filter(|(_, st)| now.saturating_sub(st.conn.last_active.load(Relaxed)) > lifetime)
        .map(|(t, _)| *t)
        .collect();
    for t in idle {
        if let Some(st) = conns.remove(&t) {
            drop_conn(shared, epfd, st);
        }
    }
}
