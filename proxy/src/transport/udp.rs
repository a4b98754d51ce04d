//! UDP: sockets bound with `SO_REUSEPORT`, one per worker, `recvmmsg` in, `sendmmsg` out.
//!
//! Each worker owns a socket bound to the same address as its siblings. The kernel picks the
//! socket for a datagram by a hash of its 4-tuple, so all datagrams of one flow (source address
//! and port) land on one worker and are handled in arrival order, without any lock or queue
//! between threads.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use socket2::{Domain, Protocol, Socket, Type};

use super::outbox::{flush, Outbox, Own};
use super::server::{Shared, Stats};
use super::{Handler, TransportError};

/// The largest datagram received whole (the UDP maximum).
pub const MAX_DATAGRAM: usize = 65535;
/// Messages per `recvmmsg`/`sendmmsg` call.
pub const BATCH: usize = 32;
/// Received datagrams are copied into arenas of this size, split into `Bytes`.
const ARENA: usize = 64 * 1024;

/// Binds `count` sockets to `addr` with `SO_REUSEPORT`. The address is first bound once
/// without it, so that an address already in use (another sipvm, say, which would otherwise
/// silently share the traffic) is an error, and so that port 0 becomes one concrete port.
pub(crate) fn bind_group(
    addr: SocketAddr,
    count: usize,
    read_timeout: Duration,
    rcvbuf: Option<usize>,
) -> Result<Vec<Socket>, TransportError> {
    let ctx = |what: &str| format!("udp {addr}: {what}");
    let probe = new_socket(addr, false).map_err(|e| TransportError::io(ctx("socket"), e))?;
    probe
        .bind(&addr.into())
        .map_err(|e| TransportError::io(ctx("bind"), e))?;
    let bound = probe
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .ok_or_else(|| TransportError::io(ctx("local address"), io::ErrorKind::Other.into()))?;
    drop(probe);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let s = new_socket(bound, true).map_err(|e| TransportError::io(ctx("socket"), e))?;
        s.bind(&bound.into())
            .map_err(|e| TransportError::io(ctx("bind (SO_REUSEPORT)"), e))?;
        s.set_read_timeout(Some(read_timeout))
            .map_err(|e| TransportError::io(ctx("SO_RCVTIMEO"), e))?;
        if let Some(size) = rcvbuf {
            // Best effort: the kernel caps it at net.core.rmem_max.
            let _ = s.set_recv_buffer_size(size);
        }
        out.push(s);
    }
    Ok(out)
}

fn new_socket(addr: SocketAddr, reuse_port: bool) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    if reuse_port {
        s.set_reuse_port(true)?;
    }
    Ok(s)
}

/// The receive loop of one UDP worker. Returns when `shared.stop` is set (checked at least
/// every read timeout).
pub(crate) fn run<H: Handler>(sock: Socket, index: usize, shared: Arc<Shared>, mut handler: H) {
    let fd = sock.as_raw_fd();
    let local = &shared.locals[index];
    let own = Own { index, fd };
    let mut rx = RecvBatch::new();
    let mut tx = SendBatch::new();
    let mut out = Outbox::new();
    let mut arena = BytesMut::with_capacity(ARENA);
    let tick = shared.config.tick;
    let mut last_tick = Instant::now();
    while !shared.stopping() {
        let n = rx.recv(fd);
        if n > 0 {
            shared.stats.rx.fetch_add(n as u64, Relaxed);
            for i in 0..n {
                let (data, src) = rx.get(i);
                let Some(src) = src else { continue };
                if arena.capacity() < data.len() {
                    arena.reserve(ARENA.max(data.len()));
                }
                arena.extend_from_slice(data);
                let msg = arena.split().freeze();
                super::deliver(&mut handler, msg, src, local, &mut out, &shared.stats);
            }
        }
        let now = Instant::now();
        if now.duration_since(last_tick) >= tick {
            last_tick = now;
            super::tick(&mut handler, &mut out, &shared.stats);
        }
        flush(&shared, &mut out, Some(own), &mut tx);
    }
    drop(sock);
}

/// Reusable `recvmmsg` state: one 64 KiB slot per message, never handed out (each datagram is
/// copied into the arena, so a message kept by a transaction pins a few KiB, not the slots).
struct RecvBatch {
    bufs: Vec<u8>,
    names: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl RecvBatch {
    fn new() -> Self {
        let mut b = RecvBatch {
            bufs: vec![0u8; BATCH * MAX_DATAGRAM],
            // SAFETY: all-zero is a valid sockaddr_storage / iovec / mmsghdr.
            names: vec![unsafe { zeroed() }; BATCH],
            iovs: vec![unsafe { zeroed() }; BATCH],
            hdrs: vec![unsafe { zeroed() }; BATCH],
        };
        let base = b.bufs.as_mut_ptr();
        for i in 0..BATCH {
            b.iovs[i] = libc::iovec {
                // SAFETY: in bounds of `bufs`, which is never resized.
                iov_base: unsafe { base.add(i * MAX_DATAGRAM) }.cast(),
                iov_len: MAX_DATAGRAM,
            };
        }
        b
    }

    /// Blocks until at least one datagram (or the read timeout); returns how many arrived.
    fn recv(&mut self, fd: RawFd) -> usize {
        for i in 0..BATCH {
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            self.hdrs[i].msg_len = 0;
        }
        // SAFETY: every header points into buffers owned by `self` that outlive the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            // EAGAIN: the read timeout; EINTR: a signal. Anything else (e.g. EBADF at exit)
            // is rare; yield briefly so an unexpected persistent error cannot spin the CPU.
            let e = io::Error::last_os_error();
            if !matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::TimedOut
            ) {
                std::thread::sleep(Duration::from_millis(1));
            }
            return 0;
        }
        n as usize
    }

    fn get(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let len = (self.hdrs[i].msg_len as usize).min(MAX_DATAGRAM);
        let data = &self.bufs[i * MAX_DATAGRAM..i * MAX_DATAGRAM + len];
        (data, from_storage(&self.names[i]))
    }
}

/// Reusable `sendmmsg` state: datagrams queued with [`SendBatch::push`], sent with
/// [`SendBatch::send`] on one socket.
pub(crate) struct SendBatch {
    pending: Vec<(SocketAddr, Bytes)>,
    names: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl SendBatch {
    pub(crate) fn new() -> Self {
        SendBatch {
            pending: Vec::with_capacity(BATCH),
            names: Vec::with_capacity(BATCH),
            iovs: Vec::with_capacity(BATCH),
            hdrs: Vec::with_capacity(BATCH),
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.pending.len() >= BATCH
    }

    pub(crate) fn push(&mut self, dst: SocketAddr, data: Bytes) {
        self.pending.push((dst, data));
    }

    /// Sends all pending datagrams from `fd`. A datagram the kernel refuses (unreachable,
    /// too big) is counted in `stats.tx_errors` and skipped; the rest still go.
    pub(crate) fn send(&mut self, fd: RawFd, stats: &Stats) {
        let n = self.pending.len();
        if n == 0 {
            return;
        }
        self.names.clear();
        self.iovs.clear();
        self.hdrs.clear();
        for (dst, data) in &self.pending {
            let (name, _) = to_storage(dst);
            self.names.push(name);
            self.iovs.push(libc::iovec {
                iov_base: data.as_ptr() as *mut libc::c_void,
                iov_len: data.len(),
            });
        }
        for i in 0..n {
            // SAFETY: all-zero is a valid mmsghdr; pointers set below stay valid during send.
            let mut h: libc::mmsghdr = unsafe { zeroed() };
            h.msg_hdr.msg_name = (&mut self.names[i] as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = sockaddr_len(&self.pending[i].0);
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            self.hdrs.push(h);
        }
        let mut off = 0;
        let mut sent = 0u64;
        let mut failed = 0u64;
        while off < n {
            // SAFETY: `hdrs[off..n]` point into `names`, `iovs` and the pending `Bytes`.
            let r = unsafe {
                libc::sendmmsg(
                    fd,
                    self.hdrs.as_mut_ptr().add(off),
                    (n - off) as libc::c_uint,
                    0,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // The error belongs to the first unsent datagram: skip it.
                failed += 1;
                off += 1;
            } else {
                sent += r as u64;
                off += r as usize;
            }
        }
        stats.tx.fetch_add(sent, Relaxed);
        if failed > 0 {
            stats.tx_errors.fetch_add(failed, Relaxed);
        }
        self.pending.clear();
    }
}

fn sockaddr_len(a: &SocketAddr) -> libc::socklen_t {
    match a {
        SocketAddr::V4(_) => size_of::<libc::sockaddr_in>() as libc::socklen_t,
        SocketAddr::V6(_) => size_of::<libc::sockaddr_in6>() as libc::socklen_t,
    }
}

/// `SocketAddr` → `sockaddr_storage` and its length.
pub(crate) fn to_storage(a: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage; the casts below stay within its size,
    // which is larger than both sockaddr_in and sockaddr_in6 and suitably aligned.
    let mut s: libc::sockaddr_storage = unsafe { zeroed() };
    match a {
        SocketAddr::V4(v4) => {
            let sin = unsafe {
                &mut *(&mut s as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            };
        }
        SocketAddr::V6(v6) => {
            let sin6 = unsafe {
                &mut *(&mut s as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: v6.ip().octets(),
            };
            sin6.sin6_scope_id = v6.scope_id();
        }
    }
    (s, sockaddr_len(a))
}

/// `sockaddr_storage` → `SocketAddr` (`None` for a family other than IPv4/IPv6).
pub(crate) fn from_storage(s: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(s.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6 =
                unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockaddr_round_trip() {
        for a in ["127.0.0.1:5060", "[::1]:5070", "[fe80::1%2]:1", "0.0.0.0:0"] {
            let a: SocketAddr = a.parse().unwrap();
            let (s, _) = to_storage(&a);
            assert_eq!(from_storage(&s), Some(a));
        }
    }
}
