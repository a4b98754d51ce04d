//! UDP sockets and batched I/O: `recvmmsg(2)` / `sendmmsg(2)` through libc.

use std::io;
use std::mem;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::time::Duration;

/// A UDP socket bound to `addr`, with `SO_REUSEPORT` when asked, and large kernel buffers.
pub fn bind(addr: SocketAddr, reuseport: bool) -> io::Result<UdpSocket> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2); the fd is owned by the UdpSocket below or closed on error.
    let fd = unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket nobody else owns.
    let sock = unsafe { UdpSocket::from_raw_fd(fd) };
    if reuseport {
        setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
    }
    // Best effort: the kernel caps these at net.core.{r,w}mem_max.
    let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, 4 << 20);
    let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, 4 << 20);
    let (storage, len) = sockaddr(addr);
    // SAFETY: storage holds a valid sockaddr of length len.
    let rc = unsafe { libc::bind(fd, &storage as *const _ as *const libc::sockaddr, len) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sock)
}

fn setsockopt_int(fd: RawFd, level: i32, name: i32, v: i32) -> io::Result<()> {
    // SAFETY: v lives across the call and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &v as *const i32 as *const libc::c_void,
            mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Receive timeout, so blocking receives wake up to check deadlines.
pub fn set_recv_timeout(sock: &UdpSocket, d: Duration) -> io::Result<()> {
    sock.set_read_timeout(Some(d.max(Duration::from_micros(100))))
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is valid.
    let mut st: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { (&mut st as *mut _ as *mut libc::sockaddr_in).write(sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in6 and suitably aligned.
            unsafe { (&mut st as *mut _ as *mut libc::sockaddr_in6).write(sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (st, len as libc::socklen_t)
}

/// Is this error just "nothing arrived before the receive timeout"?
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Is this a pending ICMP port-unreachable reported on a connected socket?
pub fn is_refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::ConnectionRefused
}

/// Waits (up to `timeout`) until some of `fds` are readable; their positions go to `ready`.
pub fn poll_readable(fds: &[RawFd], timeout: Duration, ready: &mut Vec<usize>) -> io::Result<()> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    // SAFETY: `pfds` is a live array of `pfds.len()` pollfd.
    let rc = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if is_timeout(&e) { Ok(()) } else { Err(e) };
    }
    ready.extend(
        pfds.iter()
            .enumerate()
            .filter(|(_, p)| p.revents & (libc::POLLIN | libc::POLLERR) != 0)
            .map(|(i, _)| i),
    );
    Ok(())
}

/// Fixed buffers for one `recvmmsg` call.
pub struct RecvBatch {
    bufs: Vec<u8>,
    cap: usize,
    lens: Vec<usize>,
    names: Vec<libc::sockaddr_storage>,
    namelens: Vec<libc::socklen_t>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    n: usize,
}

impl RecvBatch {
    pub fn new(slots: usize, cap: usize) -> Self {
        // SAFETY: all-zero sockaddr_storage / iovec / mmsghdr are valid values (null pointers).
        let zero_name: libc::sockaddr_storage = unsafe { mem::zeroed() };
        RecvBatch {
            bufs: vec![0; slots * cap],
            cap,
            lens: vec![0; slots],
            names: vec![zero_name; slots],
            namelens: vec![0; slots],
            iovs: (0..slots).map(|_| unsafe { mem::zeroed() }).collect(),
            hdrs: (0..slots).map(|_| unsafe { mem::zeroed() }).collect(),
            n: 0,
        }
    }

    /// One `recvmmsg(MSG_WAITFORONE)`: blocks (up to the socket's receive timeout) for the
    /// first datagram, then takes whatever else is queued. Returns how many arrived.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let slots = self.lens.len();
        let base = self.bufs.as_mut_ptr();
        for i in 0..slots {
            self.iovs[i] = libc::iovec {
                // SAFETY: i * cap is inside bufs.
                iov_base: unsafe { base.add(i * self.cap) } as *mut libc::c_void,
                iov_len: self.cap,
            };
            let h = &mut self.hdrs[i];
            h.msg_hdr.msg_name = &mut self.names[i] as *mut _ as *mut libc::c_void;
            h.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = std::ptr::null_mut();
            h.msg_hdr.msg_controllen = 0;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        // SAFETY: hdrs point into buffers owned by self, valid for the call.
        let rc = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                slots as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if rc < 0 {
            self.n = 0;
            return Err(io::Error::last_os_error());
        }
        self.n = rc as usize;
        for i in 0..self.n {
            self.lens[i] = (self.hdrs[i].msg_len as usize).min(self.cap);
            self.namelens[i] = self.hdrs[i].msg_hdr.msg_namelen;
        }
        Ok(self.n)
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn msg(&self, i: usize) -> &[u8] {
        &self.bufs[i * self.cap..i * self.cap + self.lens[i]]
    }

    /// The sender of datagram `i`, raw, for replying with [`SendBatch::push_to`].
    pub fn name(&self, i: usize) -> (libc::sockaddr_storage, libc::socklen_t) {
        (self.names[i], self.namelens[i])
    }
}

/// Datagrams queued for one `sendmmsg` call (to the connected peer, or to given addresses).
pub struct SendBatch {
    data: Vec<u8>,
    spans: Vec<(usize, usize)>,
    names: Vec<(libc::sockaddr_storage, libc::socklen_t)>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    start: usize,
}

/// What one flush did.
#[derive(Default, Clone, Copy)]
pub struct Flushed {
    pub sent: usize,
    pub dropped: usize,
    pub refused: usize,
}

impl SendBatch {
    pub fn new() -> Self {
        SendBatch {
            data: Vec::with_capacity(64 * 1024),
            spans: Vec::new(),
            names: Vec::new(),
            iovs: Vec::new(),
            hdrs: Vec::new(),
            start: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Starts a datagram: write it into the returned buffer, then call [`SendBatch::end`].
    pub fn begin(&mut self) -> &mut Vec<u8> {
        self.start = self.data.len();
        &mut self.data
    }

    /// Ends the datagram begun last.
    pub fn end(&mut self) {
        self.spans.push((self.start, self.data.len()));
    }

    /// Ends the datagram begun last, addressed to `name` (unconnected sockets).
    pub fn end_to(&mut self, name: (libc::sockaddr_storage, libc::socklen_t)) {
        self.end();
        self.names.push(name);
    }

    /// Sends everything queued (in as many `sendmmsg` calls as the kernel needs) and clears
    /// the queue. A datagram the kernel refuses twice is dropped and counted.
    pub fn flush(&mut self, fd: RawFd) -> Flushed {
        let mut out = Flushed::default();
        let n = self.spans.len();
        if n == 0 {
            return out;
        }
        let addressed = self.names.len() == n;
        self.iovs.clear();
        self.hdrs.clear();
        let base = self.data.as_mut_ptr();
        for &(a, b) in &self.spans {
            self.iovs.push(libc::iovec {
                // SAFETY: a..b is inside data, which is not touched until the calls end.
                iov_base: unsafe { base.add(a) } as *mut libc::c_void,
                iov_len: b - a,
            });
        }
        for i in 0..n {
            // SAFETY: all-zero mmsghdr is valid.
            let mut h: libc::mmsghdr = unsafe { mem::zeroed() };
            h.msg_hdr.msg_iov = &mut self.iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            if addressed {
                h.msg_hdr.msg_name = &mut self.names[i].0 as *mut _ as *mut libc::c_void;
                h.msg_hdr.msg_namelen = self.names[i].1;
            }
            self.hdrs.push(h);
        }
        let mut i = 0;
        let mut retried = false;
        while i < n {
            // SAFETY: hdrs[i..] point into data/iovs/names, alive and unmoved during the call.
            let rc = unsafe {
                libc::sendmmsg(
                    fd,
                    self.hdrs.as_mut_ptr().add(i),
                    (n - i) as libc::c_uint,
                    0,
                )
            };
            if rc > 0 {
                i += rc as usize;
                out.sent += rc as usize;
                retried = false;
                continue;
            }
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            if is_refused(&e) {
                out.refused += 1;
            }
            if retried {
                i += 1;
                out.dropped += 1;
                retried = false;
            } else {
                retried = true;
            }
        }
        self.data.clear();
        self.spans.clear();
        self.names.clear();
        out
    }
}

/// The raw fd of a socket.
pub fn fd(sock: &UdpSocket) -> RawFd {
    sock.as_raw_fd()
}
