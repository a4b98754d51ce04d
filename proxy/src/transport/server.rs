//! Binding sockets, starting the worker threads, stopping them.

use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use socket2::Socket;

use super::outbox::Sender;
use super::tcp::{self, ReaderInbox, TcpTable};
use super::{udp, Handler, ListenSpec, Local, Proto, TransportError};

/// Tunables. `Default` is Kamailio's defaults where Kamailio has one.
#[derive(Debug, Clone)]
pub struct Config {
    /// UDP workers per UDP socket (Kamailio's `children`, default 8).
    pub children: usize,
    /// TCP reader threads in all (Kamailio's `tcp_children`); `None`: as many as `children`.
    pub tcp_readers: Option<usize>,
    /// How often workers wake up without traffic: the bound on noticing shutdown and the
    /// period of [`Handler::on_tick`].
    pub tick: Duration,
    /// Largest TCP message (headers plus body); a longer one drops the connection.
    pub max_tcp_message: usize,
    /// Kamailio's `tcp_max_connections` (2048).
    pub tcp_max_connections: usize,
    /// Idle connections are closed after this long (Kamailio's `tcp_connection_lifetime`,
    /// 120 s).
    pub tcp_lifetime: Duration,
    /// Bound on a blocking outgoing connect.
    pub tcp_connect_timeout: Duration,
    /// Bound on one blocking TCP write (`SO_SNDTIMEO`); past it the connection is closed.
    pub tcp_send_timeout: Duration,
    /// `SO_RCVBUF` asked for each UDP socket (capped by the kernel's `rmem_max`).
    pub udp_rcvbuf: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            children: 8,
            tcp_readers: None,
            tick: Duration::from_millis(20),
            max_tcp_message: 64 * 1024,
            tcp_max_connections: 2048,
            tcp_lifetime: Duration::from_secs(120),
            tcp_connect_timeout: Duration::from_secs(2),
            tcp_send_timeout: Duration::from_secs(2),
            udp_rcvbuf: Some(4 << 20),
        }
    }
}

/// Counters, summed over all workers. Read with `load(Relaxed)`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Messages handed to handlers (UDP datagrams and framed TCP messages).
    pub rx: AtomicU64,
    /// Datagrams and stream messages sent.
    pub tx: AtomicU64,
    /// Sends that failed or had no usable socket or connection.
    pub tx_errors: AtomicU64,
    pub tcp_accepted: AtomicU64,
    /// Connections refused because `tcp_max_connections` were open.
    pub tcp_refused: AtomicU64,
    pub tcp_closed: AtomicU64,
    /// CRLFCRLF keep-alives answered.
    pub tcp_pings: AtomicU64,
    /// Connections dropped for oversized or malformed framing.
    pub tcp_framing_errors: AtomicU64,
    /// Handler calls that panicked (the worker goes on with the next message).
    pub handler_panics: AtomicU64,
}

/// State shared by every worker thread.
pub(crate) struct Shared {
    pub locals: Vec<Local>,
    /// Per local index: a socket of the UDP group, for sending from other threads.
    udp_send: Vec<Option<Socket>>,
    pub tcp: TcpTable,
    pub stats: Stats,
    stop: AtomicBool,
    pub config: Config,
    epoch: Instant,
}

impl Shared {
    pub(crate) fn udp_fd(&self, index: usize) -> Option<RawFd> {
        self.udp_send.get(index)?.as_ref().map(|s| s.as_raw_fd())
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Relaxed)
    }

    pub(crate) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }
}

/// Sockets bound but no thread started yet: the place to read the bound addresses
/// ([`Bound::locals`], with real ports for `:0`) before creating handlers.
pub struct Bound {
    shared: Arc<Shared>,
    udp: Vec<(usize, Vec<Socket>)>,
    tcp: Vec<(usize, TcpListener)>,
    inboxes: Vec<ReaderInbox>,
}

impl Bound {
    /// Binds every socket of `specs`: per UDP address `config.children` sockets with
    /// `SO_REUSEPORT`, per TCP address one listener. A spec without protocol binds UDP and
    /// TCP on the same port (for `:0`, the port the UDP socket got).
    pub fn bind(specs: &[ListenSpec], config: Config) -> Result<Bound, TransportError> {
        if specs.is_empty() {
            return Err(TransportError::NoSockets);
        }
        if config.children == 0 || config.tcp_readers == Some(0) {
            return Err(TransportError::Config(
                "children and tcp_readers must be at least 1".into(),
            ));
        }
        if config.tick.is_zero() {
            return Err(TransportError::Config("tick must not be zero".into()));
        }
        let mut locals = Vec::new();
        let mut udp_groups = Vec::new();
        let mut udp_send = Vec::new();
        let mut listeners = Vec::new();
        for spec in specs {
            for (proto, bound, socket) in bind_spec(spec, &config)? {
                let index = locals.len();
                match socket {
                    Bind::Udp(group) => {
                        let sender = group[0]
                            .try_clone()
                            .map_err(|e| TransportError::io(format!("udp {bound}: dup"), e))?;
                        udp_send.push(Some(sender));
                        udp_groups.push((index, group));
                    }
                    Bind::Tcp(l) => {
                        udp_send.push(None);
                        listeners.push((index, l));
                    }
                }
                locals.push(Local {
                    index,
                    proto,
                    addr: bound,
                    advertise: spec.advertise.clone(),
                    name: spec.name.clone(),
                });
            }
        }
        let readers = if listeners.is_empty() {
            0
        } else {
            config.tcp_readers.unwrap_or(config.children)
        };
        let (table, inboxes) = TcpTable::new(readers)?;
        let shared = Arc::new(Shared {
            locals,
            udp_send,
            tcp: table,
            stats: Stats::default(),
            stop: AtomicBool::new(false),
            config,
            epoch: Instant::now(),
        });
        Ok(Bound {
            shared,
            udp: udp_groups,
            tcp: listeners,
            inboxes,
        })
    }

    /// The bound sockets, by index.
    pub fn locals(&self) -> &[Local] {
        &self.shared.locals
    }

    /// How many handlers [`Bound::start`] will create (worker indices `0..workers()`: the UDP
    /// workers first, socket by socket, then the TCP readers).
    pub fn workers(&self) -> usize {
        self.udp.iter().map(|(_, g)| g.len()).sum::<usize>() + self.inboxes.len()
    }

    /// A sender usable before and after start.
    pub fn sender(&self) -> Sender {
        Sender {
            shared: self.shared.clone(),
        }
    }

    /// Starts the threads; `factory(worker_index)` makes each worker's handler, on this thread.
    pub fn start<H, F>(self, mut factory: F) -> Result<Server, TransportError>
    where
        H: Handler,
        F: FnMut(usize) -> H,
    {
        let mut server = Server {
            shared: self.shared.clone(),
            threads: Vec::new(),
        };
        let mut worker = 0;
        for (index, group) in self.udp {
            for (k, sock) in group.into_iter().enumerate() {
                let handler = factory(worker);
                worker += 1;
                let shared = self.shared.clone();
                server.spawn(format!("udp{index}-{k}"), move || {
                    udp::run(sock, index, shared, handler)
                })?;
            }
        }
        for inbox in self.inboxes {
            let handler = factory(worker);
            worker += 1;
            let shared = self.shared.clone();
            server.spawn(format!("tcp-read{}", worker), move || {
                tcp::run_reader(inbox, shared, handler)
            })?;
        }
        for (index, listener) in self.tcp {
            let shared = self.shared.clone();
            server.spawn(format!("tcp-accept{index}"), move || {
                tcp::run_acceptor(listener, index, shared)
            })?;
        }
        Ok(server)
    }
}

enum Bind {
    Udp(Vec<Socket>),
    Tcp(TcpListener),
}

/// Binds every protocol of one spec on one port. With port 0 and several protocols, the port
/// the first one got may be taken for the next (say by a TCP client's ephemeral port): then
/// everything is released and tried again on a new port.
fn bind_spec(
    spec: &ListenSpec,
    config: &Config,
) -> Result<Vec<(Proto, SocketAddr, Bind)>, TransportError> {
    let protos = spec.protos();
    let retries = if spec.addr.port() == 0 && protos.len() > 1 {
        8
    } else {
        1
    };
    let mut attempt = 0;
    'again: loop {
        attempt += 1;
        let mut addr = spec.addr;
        let mut done = Vec::new();
        for &proto in &protos {
            let bound = match proto {
                Proto::Udp => {
                    udp::bind_group(addr, config.children, config.tick, config.udp_rcvbuf).map(
                        |g| {
                            let a = g[0].local_addr().ok().and_then(|a| a.as_socket());
                            (a.unwrap_or(addr), Bind::Udp(g))
                        },
                    )
                }
                Proto::Tcp => tcp::bind_listener(addr, config.tick).map(|l| {
                    let a = l.local_addr().unwrap_or(addr);
                    (a, Bind::Tcp(l))
                }),
                other => return Err(TransportError::Unsupported(other)),
            };
            match bound {
                Ok((a, socket)) => {
                    addr = a;
                    done.push((proto, a, socket));
                }
                Err(TransportError::Io { source, .. })
                    if !done.is_empty()
                        && attempt < retries
                        && source.kind() == std::io::ErrorKind::AddrInUse =>
                {
                    continue 'again;
                }
                Err(e) => return Err(e),
            }
        }
        return Ok(done);
    }
}

/// The running transport: worker threads over bound sockets. Dropping it stops it.
pub struct Server {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// Binds `specs` and starts `children` UDP workers per UDP socket (and as many TCP
    /// readers), with the other settings at their defaults.
    pub fn start<H, F>(
        specs: &[ListenSpec],
        children: usize,
        factory: F,
    ) -> Result<Server, TransportError>
    where
        H: Handler,
        F: FnMut(usize) -> H,
    {
        let config = Config {
            children,
            ..Config::default()
        };
        Bound::bind(specs, config)?.start(factory)
    }

    /// [`Server::start`] with explicit settings.
    pub fn start_with<H, F>(
        specs: &[ListenSpec],
        config: Config,
        factory: F,
    ) -> Result<Server, TransportError>
    where
        H: Handler,
        F: FnMut(usize) -> H,
    {
        Bound::bind(specs, config)?.start(factory)
    }

    /// The bound sockets, by index.
    pub fn locals(&self) -> &[Local] {
        &self.shared.locals
    }

    /// The first bound socket of `proto` (tests, and "where am I listening" logs).
    pub fn local(&self, proto: Proto) -> Option<&Local> {
        self.shared.locals.iter().find(|l| l.proto == proto)
    }

    pub fn sender(&self) -> Sender {
        Sender {
            shared: self.shared.clone(),
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Open TCP connections.
    pub fn tcp_connections(&self) -> usize {
        self.shared.tcp.open.load(Relaxed)
    }

    /// Stops every thread and waits for them (within about one `tick`). Sockets close when the
    /// last [`Sender`] is dropped.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }

    fn spawn(
        &mut self,
        name: String,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), TransportError> {
        match std::thread::Builder::new().name(name).spawn(f) {
            Ok(t) => {
                self.threads.push(t);
                Ok(())
            }
            Err(e) => {
                self.stop();
                Err(TransportError::io("spawning a worker thread", e))
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
