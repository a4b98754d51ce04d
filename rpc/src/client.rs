//! The client side of `sipvm cmd`: kamcmd's argument typing, a blocking JSON-RPC call over
//! HTTP, and the reply printed as kamcmd prints it.

use crate::server::{find, strip_url};
use crate::{print, RpcError, Value};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The URL `sipvm cmd` calls unless given `-s`.
pub const DEFAULT_URL: &str = "http://127.0.0.1:5065/RPC";

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("bad RPC address {0}")]
    Addr(String),
    #[error("cannot reach {0}: {1}")]
    Io(String, std::io::Error),
    #[error("bad reply from {0}: {1}")]
    Reply(String, String),
}

/// kamcmd's typing of a command-line argument: an integer when it parses as one, a string
/// otherwise; an `s:` prefix forces a string (and is removed).
pub fn arg(a: &str) -> Value {
    if let Some(s) = a.strip_prefix("s:") {
        return Value::from(s);
    }
    match a.parse::<i64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(a),
    }
}

/// `host:port` or `http://host:port[/path]` → (`host:port`, `/path`), `/RPC` by default.
pub fn split_url(url: &str) -> (String, String) {
    let hostport = strip_url(url).to_string();
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let path = match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/RPC".to_string(),
    };
    (hostport, path)
}

/// POSTs `body` to `url` and returns the HTTP status and the response body.
pub fn post(url: &str, body: &[u8]) -> Result<(u16, Vec<u8>), ClientError> {
    let (hostport, path) = split_url(url);
    let io = |e| ClientError::Io(hostport.clone(), e);
    let sa = hostport
        .to_socket_addrs()
        .map_err(io)?
        .next()
        .ok_or_else(|| ClientError::Addr(url.to_string()))?;
    let mut s = TcpStream::connect_timeout(&sa, Duration::from_secs(5)).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(io)?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(io)?;
    s.write_all(body).map_err(io)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).map_err(io)?;
    let bad = |why: &str| ClientError::Reply(hostport.clone(), why.to_string());
    let end = find(&resp, b"\r\n\r\n").ok_or_else(|| bad("no HTTP header"))?;
    let status = String::from_utf8_lossy(&resp[..end])
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| bad("no HTTP status"))?;
    Ok((status, resp[end + 4..].to_vec()))
}

/// Calls `method` with positional `params`; the outer error is a transport failure, the inner
/// one the method's fault.
pub fn call(
    url: &str,
    method: &str,
    params: Vec<Value>,
) -> Result<Result<Value, RpcError>, ClientError> {
    let req = serde_json::json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1});
    let (status, body) = post(url, req.to_string().as_bytes())?;
    let bad = |why: String| ClientError::Reply(url.to_string(), why);
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| bad(format!("HTTP {status}, not a JSON-RPC response")))?;
    if let Some(e) = v.get("error") {
        let code = e.get("code").and_then(Value::as_i64).unwrap_or(500);
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return Ok(Err(RpcError { code, message }));
    }
    match v.get("result") {
        Some(r) => Ok(Ok(r.clone())),
        None => Err(bad("neither result nor error".into())),
    }
}

/// What `sipvm cmd` prints for a reply to `method`, and its exit status (0, or 1 on a fault).
/// An unknown method is reported in kamcmd's words, `command NAME not found`.
pub fn render(method: &str, reply: &Result<Value, RpcError>) -> (String, u8) {
    match reply {
        Ok(v) => (print::result(v), 0),
        Err(e) if e.code == crate::INTERNAL && e.message == "Method Not Found" => (
            print::fault(&RpcError::internal(format!("command {method} not found"))),
            1,
        ),
        Err(e) => (print::fault(e), 1),
    }
}

/// `sipvm cmd [-s URL] METHOD [ARGS...]`: calls, prints to `out`, returns the exit status
/// (0 ok, 1 fault, 2 transport failure, reported on stderr).
pub fn cmd(url: Option<&str>, method: &str, args: &[String], out: &mut dyn Write) -> u8 {
    let url = url.unwrap_or(DEFAULT_URL);
    let params = args.iter().map(|a| arg(a)).collect();
    match call(url, method, params) {
        Ok(reply) => {
            let (text, code) = render(method, &reply);
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            code
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
