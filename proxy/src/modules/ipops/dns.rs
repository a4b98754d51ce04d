//! Name lookups of the ipops module, kept to the local host: an address literal, or a name
//! listed in `/etc/hosts` (then resolved by the system, so the order is getaddrinfo's); any
//! other name is refused (-4, logged) rather than sent to a DNS server. The `$dns`
//! containers are per worker, as Kamailio's are per process, and bounded in number.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::OnceLock;

/// Kamailio keeps at most 32 addresses per container.
pub const MAX_RECS: usize = 32;
/// Containers per worker; Kamailio warns past 20 and has no limit.
pub const MAX_CONTAINERS: usize = 64;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Container {
    pub addrs: Vec<IpAddr>,
}

thread_local! {
    static CONTAINERS: RefCell<HashMap<String, Container>> = RefCell::new(HashMap::new());
}

/// Whether `/etc/hosts` lists `name` (any case).
pub fn in_hosts(text: &str, name: &str) -> bool {
    text.lines().any(|l| {
        let l = l.split('#').next().unwrap_or("");
        let mut f = l.split_whitespace();
        f.next().is_some_and(|ip| ip.parse::<IpAddr>().is_ok())
            && f.any(|n| n.eq_ignore_ascii_case(name))
    })
}

fn hosts() -> String {
    std::fs::read_to_string("/etc/hosts").unwrap_or_default()
}

/// The addresses of `host`: Err(-4) when it cannot (or may not) be resolved here.
pub fn resolve(host: &str) -> Result<Vec<IpAddr>, i64> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    if !in_hosts(&hosts(), host) {
        tracing::error!("unable to resolve {host}: sipvm resolves only names listed in /etc/hosts");
        return Err(-4);
    }
    let mut out: Vec<IpAddr> = Vec::new();
    for a in (host, 0).to_socket_addrs().map_err(|_| -4)? {
        // One record per address (the socket type is fixed, as Kamailio's hints do).
        if !out.contains(&a.ip()) {
            out.push(a.ip());
        }
        if out.len() == MAX_RECS {
            break;
        }
    }
    Ok(out)
}

/// `dns_query(host, name)`: 1, -2 for a name over 255 bytes, -3 with too many
/// containers, -4 when unresolved (the container is emptied first, as in Kamailio).
pub fn query(host: &str, name: &str) -> i64 {
    if host.len() > 255 {
        return -2;
    }
    let ok = CONTAINERS.with(|c| {
        let mut c = c.borrow_mut();
        if !c.contains_key(name) && c.len() >= MAX_CONTAINERS {
            return false;
        }
        c.insert(name.to_string(), Container::default());
        true
    });
    if !ok {
        return -3;
    }
    match resolve(host) {
        Ok(addrs) => {
            CONTAINERS.with(|c| {
                c.borrow_mut().insert(name.to_string(), Container { addrs });
            });
            1
        }
        Err(rc) => rc,
    }
}

/// A `$dns(name=>key[idx])` read: `addr`, `type` (4 or 6), `ipv4`/`ipv6` (0 or 1),
/// `count`; None for what is not there.
pub fn read(name: &str, key: &str, idx: i64) -> Result<Option<sipvm_vm::Value>, String> {
    use sipvm_vm::Value;
    let c = CONTAINERS
        .with(|c| c.borrow().get(name).cloned())
        .unwrap_or_default();
    let n = c.addrs.len() as i64;
    let i = if idx < 0 { n + idx } else { idx };
    if i < 0 || i >= n {
        // Kamailio checks the index first, whatever the key.
        return match key {
            "addr" | "type" | "ipv4" | "ipv6" | "count" => Ok(None),
            _ => Err(format!("unknown key {key}")),
        };
    }
    let a = c.addrs[i as usize];
    Ok(Some(match key {
        "addr" => Value::Str(a.to_string().into()),
        "type" => Value::Int(if a.is_ipv4() { 4 } else { 6 }),
        "ipv4" => Value::Int(c.addrs.iter().any(IpAddr::is_ipv4) as i64),
        "ipv6" => Value::Int(c.addrs.iter().any(IpAddr::is_ipv6) as i64),
        "count" => Value::Int(n),
        _ => return Err(format!("unknown key {key}")),
    }))
}

/// `$dns` names: `container=>key` with an optional `[index]` (an integer).
pub fn parse_name(s: &str) -> Result<(&str, &str, i64), String> {
    let s = s.trim_start_matches([' ', '\t', '\r', '\n']);
    let (c, rest) = s.split_once("=>").ok_or("expected container=>key")?;
    let c = c.trim_end_matches([' ', '\t', '\r', '\n']);
    if c.is_empty() || c.contains([' ', '\t']) {
        return Err("bad container name".into());
    }
    let (key, idx) = match rest.strip_suffix(']') {
        Some(r) => {
            let (k, i) = r.split_once('[').ok_or("bad index")?;
            (
                k,
                i.parse::<i64>()
                    .map_err(|_| format!("invalid index [{i}]"))?,
            )
        }
        None => (rest, 0),
    };
    Ok((c, key, idx))
}

/// The host's names for `$HN`: (hostname, fullname, domain, address).
pub struct HostNames {
    pub name: String,
    pub full: String,
    pub domain: String,
    pub ip: String,
}

pub fn host_names() -> &'static HostNames {
    static HN: OnceLock<HostNames> = OnceLock::new();
    HN.get_or_init(|| {
        let mut buf = [0u8; 512];
        // SAFETY: gethostname writes at most buf.len() bytes into buf.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        let full = if rc == 0 {
            let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
            String::from_utf8_lossy(&buf[..end]).into_owned()
        } else {
            String::new()
        };
        let (name, domain) = match full.split_once('.') {
            Some((n, d)) => (n.to_string(), d.to_string()),
            None => (full.clone(), String::new()),
        };
        // gethostbyname gives IPv4 addresses; the first is used.
        let ip = if full.is_empty() {
            String::new()
        } else {
            resolve(&full)
                .ok()
                .and_then(|a| a.into_iter().find(IpAddr::is_ipv4))
                .map(|a| a.to_string())
                .unwrap_or_default()
        };
        HostNames {
            name,
            full,
            domain,
            ip,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_and_literals() {
        let h = "127.0.0.1 localhost\n# 10.0.0.1 gone\n::1 ip6-localhost ip6-loopback\n";
        assert!(in_hosts(h, "LOCALHOST"));
        assert!(in_hosts(h, "ip6-loopback"));
        assert!(!in_hosts(h, "gone"));
        assert_eq!(resolve("10.1.2.3"), Ok(vec!["10.1.2.3".parse().unwrap()]));
        assert_eq!(resolve("no-such-host.invalid"), Err(-4));
    }

    #[test]
    fn containers() {
        assert_eq!(query("192.0.2.1", "c"), 1);
        assert_eq!(
            read("c", "addr", 0).unwrap(),
            Some(sipvm_vm::Value::Str("192.0.2.1".into()))
        );
        assert_eq!(
            read("c", "count", -1).unwrap(),
            Some(sipvm_vm::Value::Int(1))
        );
        assert_eq!(read("c", "addr", 1).unwrap(), None);
        assert_eq!(query("no-such-host.invalid", "c"), -4);
        assert_eq!(read("c", "count", 0).unwrap(), None);
        assert_eq!(parse_name("c=>addr[-1]").unwrap(), ("c", "addr", -1));
        assert!(parse_name("c=addr").is_err());
        assert_eq!(query(&"x".repeat(300), "c"), -2);
    }
}
