//! JSON-RPC 2.0 over HTTP/1.1 POST, on any path, on its own tokio runtime thread; optionally
//! a Prometheus text page on `GET /metrics` (`serve_with_metrics`).
//!
//! The HTTP layer is deliberately small: a request line, headers up to 16 KiB, a body of
//! exactly `Content-Length` bytes (at most 1 MiB), one request per connection
//! (`Connection: close`). Malformed input gets an HTTP or JSON-RPC error, never a panic.

use crate::Registry;
use std::net::{SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Where the RPC server listens unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:5065";
/// The largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;
const MAX_HEAD: usize = 16 << 10;
const IO_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("RPC address {0}: {1}")]
    Addr(String, std::io::Error),
    #[error("RPC address {0} resolves to nothing")]
    NoAddr(String),
    #[error("cannot listen for RPC on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("cannot start the RPC runtime: {0}")]
    Runtime(std::io::Error),
}

/// What `GET /metrics` answers: the Prometheus text exposition, made fresh for each request
/// (on the blocking pool, like a method).
pub type Metrics = Arc<dyn Fn() -> String + Send + Sync>;

/// A running server; stops when `stop` is called or when dropped.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The bound address (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, ends the runtime and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Binds `addr` (`host:port`; an `http://` prefix and a path are tolerated) and serves `reg`.
/// Binding happens before this returns, so an address in use is reported here.
pub fn serve(addr: &str, reg: Arc<Registry>) -> Result<ServerHandle, ServeError> {
    serve_with_metrics(addr, reg, None)
}

/// `serve`, and with `metrics`, `GET /metrics` (any query string) answers its text as
/// `text/plain; version=0.0.4`. Without it, or for any other `GET`, the answer is `405`.
pub fn serve_with_metrics(
    addr: &str,
    reg: Arc<Registry>,
    metrics: Option<Metrics>,
) -> Result<ServerHandle, ServeError> {
    let hostport = strip_url(addr);
    let sa = hostport
        .to_socket_addrs()
        .map_err(|e| ServeError::Addr(addr.to_string(), e))?
        .next()
        .ok_or_else(|| ServeError::NoAddr(addr.to_string()))?;
    let std_listener = StdListener::bind(sa).map_err(|e| ServeError::Bind(sa, e))?;
    std_listener
        .set_nonblocking(true)
        .map_err(|e| ServeError::Bind(sa, e))?;
    let local = std_listener
        .local_addr()
        .map_err(|e| ServeError::Bind(sa, e))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8)
        .thread_name("sipvm-rpc")
        .enable_io()
        .enable_time()
        .build()
        .map_err(ServeError::Runtime)?;
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name("sipvm-rpc".into())
        .spawn(move || {
            rt.block_on(async move {
                let listener = match TcpListener::from_std(std_listener) {
                    Ok(l) => l,
                    Err(_) => return,
                };
                loop {
                    tokio::select! {
                        _ = stop_rx.changed() => break,
                        acc = listener.accept() => {
                            if let Ok((sock, _)) = acc {
                                let reg = reg.clone();
                                let metrics = metrics.clone();
                                tokio::spawn(async move {
                                    let _ = tokio::time::timeout(IO_TIMEOUT, connection(sock, reg, metrics)).await;
                                });
                            }
                        }
                    }
                }
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        })
        .map_err(ServeError::Runtime)?;
    Ok(ServerHandle {
        addr: local,
        stop: stop_tx,
        thread: Some(thread),
    })
}

/// `http://host:port/path` → `host:port`.
pub(crate) fn strip_url(s: &str) -> &str {
    let s = s.strip_prefix("http://").unwrap_or(s);
    match s.find('/') {
        Some(i) => &s[..i],
        None => s,
    }
}

async fn connection(
    mut sock: TcpStream,
    reg: Arc<Registry>,
    metrics: Option<Metrics>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let (head_end, sep) = loop {
        if let Some(end) = head_end(&buf) {
            break end;
        }
        if buf.len() > MAX_HEAD {
            return reply(&mut sock, 431, "Request Header Fields Too Large", None).await;
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let Some(h) = Head::parse(&head) else {
        return reply(&mut sock, 400, "Bad Request", None).await;
    };
    let (method, target, length, chunked, expect_continue) =
        (h.method, h.target, h.length, h.chunked, h.expect_continue);
    if method == "GET" {
        let path = target.split('?').next().unwrap_or("");
        if let (Some(m), "/metrics") = (metrics, path) {
            let text = tokio::task::spawn_blocking(move || m())
                .await
                .unwrap_or_default();
            return send(&mut sock, 200, "OK", METRICS_TYPE, &text).await;
        }
    }
    if method != "POST" {
        return reply(&mut sock, 405, "Method Not Allowed", None).await;
    }
    let length = match (length, chunked) {
        (Some(n), false) => n,
        (Some(_), true) => return reply(&mut sock, 400, "Bad Request", None).await,
        (None, _) => return reply(&mut sock, 411, "Length Required", None).await,
    };
    if length > MAX_BODY {
        return reply(&mut sock, 413, "Payload Too Large", None).await;
    }
    let mut body = buf.split_off(head_end + sep);
    if expect_continue && body.len() < length {
        sock.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
    }
    while body.len() < length {
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    // Handlers may block (a reload compiles a program): keep them off the I/O threads.
    let fmt = reg.clone();
    let answer = tokio::task::spawn_blocking(move || reg.handle_body(&body))
        .await
        .unwrap_or_else(|_| {
            Some(crate::response(
                crate::Value::Null,
                Err(crate::RpcError::internal("Internal Error")),
            ))
        });
    match answer {
        // Kamailio ends the body with the JSON itself, no newline.
        Some(v) => reply(&mut sock, 200, "OK", Some(fmt.format(&v))).await,
        None => reply(&mut sock, 204, "No Content", None).await,
    }
}

async fn reply(
    sock: &mut TcpStream,
    code: u16,
    reason: &str,
    json: Option<String>,
) -> std::io::Result<()> {
    let body = json.unwrap_or_default();
    send(sock, code, reason, "application/json", &body).await
}

/// The content type of the Prometheus text exposition format.
const METRICS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One HTTP response; `ctype` is sent only with a non-empty body.
async fn send(
    sock: &mut TcpStream,
    code: u16,
    reason: &str,
    ctype: &str,
    body: &str,
) -> std::io::Result<()> {
    let ctype = if body.is_empty() {
        String::new()
    } else {
        format!("Content-Type: {ctype}\r\n")
    };
    let msg = format!(
        "HTTP/1.1 {code} {reason}\r\n{ctype}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(msg.as_bytes()).await?;
    sock.shutdown().await
}

/// Where the head ends and how long its blank line is: CRLF CRLF, or a bare LF LF (a client
/// that writes bare LFs is answered, not left waiting).
fn head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let crlf = find(buf, b"\r\n\r\n").map(|i| (i, 4));
    let lf = find(buf, b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The request line and the headers the server reads, framed strictly (RFC 9112): no space
/// before a header's colon, Content-Length only digits and only once.
struct Head<'a> {
    method: &'a str,
    target: &'a str,
    length: Option<usize>,
    chunked: bool,
    expect_continue: bool,
}

impl<'a> Head<'a> {
    fn parse(head: &'a str) -> Option<Head<'a>> {
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let mut start = lines.next().unwrap_or("").split(' ');
        let mut h = Head {
            method: start.next().unwrap_or(""),
            target: start.next().unwrap_or(""),
            length: None,
            chunked: false,
            expect_continue: false,
        };
        for l in lines {
            let (n, v) = l.split_once(':')?;
            if n.is_empty() || n.ends_with([' ', '\t']) || n.starts_with([' ', '\t']) {
                return None;
            }
            let v = v.trim();
            if n.eq_ignore_ascii_case("content-length") {
                let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
                if h.length.is_some() || !ok {
                    return None;
                }
                h.length = Some(v.parse().ok()?);
            } else if n.eq_ignore_ascii_case("transfer-encoding") {
                h.chunked = true;
            } else if n.eq_ignore_ascii_case("expect") {
                h.expect_continue = v.eq_ignore_ascii_case("100-continue");
            }
        }
        Some(h)
    }
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    fn raw(addr: SocketAddr, req: &str) -> String {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn framing_is_strict_and_bare_lf_is_answered() {
        let h = serve("127.0.0.1:0", Arc::new(Registry::new())).unwrap();
        let a = h.local_addr();
        let body = r#"{"jsonrpc":"2.0","method":"x","id":1}"#;
        let n = body.len();
        for bad in [
            format!("POST /RPC HTTP/1.1\r\nContent-Length: {n}\r\nContent-Length: {n}\r\n\r\n{body}"),
            format!("POST /RPC HTTP/1.1\r\nContent-Length : {n}\r\n\r\n{body}"),
            format!("POST /RPC HTTP/1.1\r\nContent-Length: +{n}\r\n\r\n{body}"),
            format!("POST /RPC HTTP/1.1\r\nContent-Length: {n}\r\nTransfer-Encoding: chunked\r\n\r\n{body}"),
            "POST /RPC HTTP/1.1\r\nno colon here\r\n\r\n".to_string(),
        ] {
            let r = raw(a, &bad);
            assert!(r.starts_with("HTTP/1.1 400 "), "{bad:?} → {r}");
        }
        let t0 = std::time::Instant::now();
        let r = raw(
            a,
            &format!("POST /RPC HTTP/1.1\nContent-Length: {n}\n\n{body}"),
        );
        assert!(r.starts_with("HTTP/1.1 200 "), "{r}");
        assert!(r.contains("Method Not Found"), "{r}");
        assert!(t0.elapsed() < Duration::from_secs(4), "bare LF waited");
    }

    #[test]
    fn metrics_page_only_when_given() {
        let m: Metrics = Arc::new(|| "up 1\n".to_string());
        let h = serve_with_metrics("127.0.0.1:0", Arc::new(Registry::new()), Some(m)).unwrap();
        let r = get(h.local_addr(), "/metrics?x=1");
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("Content-Type: text/plain; version=0.0.4"), "{r}");
        assert!(r.ends_with("\r\n\r\nup 1\n"), "{r}");
        assert!(get(h.local_addr(), "/other").starts_with("HTTP/1.1 405 "));
        let (status, body) =
            crate::client::post(&h.local_addr().to_string(), br#"{"method":"x","id":1}"#).unwrap();
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&body).contains("Method Not Found"));
        let plain = serve("127.0.0.1:0", Arc::new(Registry::new())).unwrap();
        assert!(get(plain.local_addr(), "/metrics").starts_with("HTTP/1.1 405 "));
    }
}
