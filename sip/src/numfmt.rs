//! Numbers and addresses appended to header text without `core::fmt`: replies and bindings
//! write ports, IPs and expiry times per request, where `format!` showed up in profiles.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Appends `v` in decimal.
pub fn push_int<I: itoa::Integer>(out: &mut String, v: I) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends an IPv4 address in dotted-quad form.
pub fn push_ipv4(out: &mut String, ip: Ipv4Addr) {
    let [a, b, c, d] = ip.octets();
    let mut buf = itoa::Buffer::new();
    out.push_str(buf.format(a));
    for o in [b, c, d] {
        out.push('.');
        out.push_str(buf.format(o));
    }
}

/// Appends an address as it appears in a URI host or a Via `received`: IPv6 in brackets when
/// `bracket_v6`, IPv4 as is.
pub fn push_ip(out: &mut String, ip: IpAddr, bracket_v6: bool) {
    match ip {
        IpAddr::V4(v4) => push_ipv4(out, v4),
        IpAddr::V6(v6) if bracket_v6 => {
            let _ = write!(out, "[{v6}]");
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// Appends `ip:port` (`[v6]:port`), as `SocketAddr`'s `Display` writes it without a scope.
pub fn push_socket(out: &mut String, addr: SocketAddr) {
    if let SocketAddr::V6(a) = addr {
        if a.scope_id() != 0 || a.flowinfo() != 0 {
            let _ = write!(out, "{addr}");
            return;
        }
    }
    push_ip(out, addr.ip(), true);
    out.push(':');
    push_int(out, addr.port());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_as_display() {
        for a in [
            "127.0.0.1:5060",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "10.0.20.3:7",
            "[::1]:5060",
            "[2001:db8::1]:1",
            "[fe80::1%3]:5060",
        ] {
            let addr: SocketAddr = a.parse().unwrap();
            let mut s = String::new();
            push_socket(&mut s, addr);
            assert_eq!(s, addr.to_string());
            let mut ip = String::new();
            push_ip(&mut ip, addr.ip(), false);
            assert_eq!(ip, addr.ip().to_string());
        }
        let mut s = String::from("x=");
        push_int(&mut s, -42i64);
        push_int(&mut s, 0u16);
        assert_eq!(s, "x=-420");
    }
}
