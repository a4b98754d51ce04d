//! Addresses as the ipops module reads them: RFC 3986's IPv4address, IPv6address and
//! IP-literal (`[...]`) grammar (no leading zeros, no zone), RFC 1918 ranges, subnets and
//! Kamailio's table of special ranges for `detailed_ip_type`.

use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    V4,
    V6,
    V6Ref,
}

/// The whole text as one address, or None.
pub fn kind(s: &str) -> Option<Kind> {
    if v4(s).is_some() {
        Some(Kind::V4)
    } else if v6(s).is_some() {
        Some(Kind::V6)
    } else if s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(v6)
        .is_some()
    {
        Some(Kind::V6Ref)
    } else {
        None
    }
}

/// An RFC 3986 IPv4address (std's parser refuses leading zeros too).
pub fn v4(s: &str) -> Option<Ipv4Addr> {
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    s.parse().ok()
}

/// An RFC 3986 IPv6address: hex groups of at most four digits, an embedded IPv4address.
pub fn v6(s: &str) -> Option<Ipv6Addr> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    {
        return None;
    }
    if s.split(':').any(|g| g.len() > 4 && !g.contains('.')) {
        return None;
    }
    s.parse().ok()
}

/// Either family without brackets: (bytes, is_v6).
fn addr(s: &str, k: Kind) -> Option<Vec<u8>> {
    match k {
        Kind::V4 => v4(s).map(|a| a.octets().to_vec()),
        Kind::V6 => v6(s).map(|a| a.octets().to_vec()),
        Kind::V6Ref => v6(&s[1..s.len() - 1]).map(|a| a.octets().to_vec()),
    }
}

/// `compare_ips`: equal addresses, an IPv6 reference counting as its IPv6 address.
pub fn same(a: &str, b: &str, refs: bool) -> bool {
    let (Some(ka), Some(kb)) = (kind(a), kind(b)) else {
        return false;
    };
    if !refs && (ka == Kind::V6Ref || kb == Kind::V6Ref) {
        return false;
    }
    let fam = |k| if k == Kind::V4 { 4 } else { 6 };
    fam(ka) == fam(kb) && addr(a, ka) == addr(b, kb)
}

fn masked(b: &[u8], bits: u32) -> Vec<u8> {
    b.iter()
        .enumerate()
        .map(|(i, x)| {
            let lo = i as u32 * 8;
            if bits >= lo + 8 {
                *x
            } else if bits > lo {
                x & !(0xffu8 >> (bits - lo))
            } else {
                0
            }
        })
        .collect()
}

/// One entry of `is_in_subnet`'s list (`net[/bits]`, spaces trimmed): Some(true/false), or
/// None when it is no address (Kamailio's -1 that ends the search) or of the other family
/// (0, go on).
fn in_entry(ip: &[u8], k: Kind, entry: &str) -> Option<Option<bool>> {
    let e = entry.trim_matches(' ');
    if e.is_empty() {
        return Some(None);
    }
    // The last '/' after the first character splits off the mask (C's atoi).
    let slash = e
        .bytes()
        .skip(1)
        .collect::<Vec<u8>>()
        .iter()
        .rposition(|b| *b == b'/');
    let (net, bits) = match slash {
        Some(i) => {
            let m = &e[i + 2..];
            let d: String = m
                .trim_start()
                .chars()
                .enumerate()
                .take_while(|(j, c)| c.is_ascii_digit() || (*j == 0 && (*c == '-' || *c == '+')))
                .map(|(_, c)| c)
                .collect();
            (&e[..i + 1], Some(d.parse::<i64>().unwrap_or(0)))
        }
        None => (e, None),
    };
    let nk = kind(net)?;
    if nk == Kind::V6Ref {
        return None;
    }
    if nk != k {
        return Some(None);
    }
    let n = addr(net, nk)?;
    let max = ip.len() as i64 * 8;
    Some(Some(match bits {
        None => n == ip,
        Some(b) if !(0..=max).contains(&b) => false,
        Some(b) => masked(ip, b as u32) == masked(&n, b as u32),
    }))
}

/// `is_in_subnet(ip, "net/bits,net2/bits2")`: 1, -1, or Kamailio's other outcomes.
pub fn in_subnet(ip: &str, list: &str) -> i64 {
    let Some(k) = kind(ip).filter(|k| *k != Kind::V6Ref) else {
        return -1;
    };
    let Some(a) = addr(ip, k) else { return -1 };
    let parts: Vec<&str> = list.split(',').collect();
    let (last, rest) = parts.split_last().expect("split gives one part");
    for p in rest {
        if p.is_empty() {
            continue;
        }
        match in_entry(&a, k, p) {
            Some(Some(true)) => return 1,
            None => {}
            _ => {}
        }
    }
    match in_entry(&a, k, last) {
        Some(Some(true)) => 1,
        Some(None) => -1,
        _ => -1,
    }
}

/// `is_ip_rfc1918`.
pub fn rfc1918(s: &str) -> bool {
    v4(s).is_some_and(|a| {
        let o = a.octets();
        o[0] == 10 || (o[0] == 172 && (16..=31).contains(&o[1])) || (o[0] == 192 && o[1] == 168)
    })
}

/// Kamailio's IPv4 ranges, first match wins (its order kept, "0/8" named PRIVATE as it is).
const V4_RANGES: &[(u32, &str, u32)] = &[
    (0xffffffff, "BROADCAST", 0xffffffff),
    (0xcb007100, "TEST-NET", 0xffffff00),
    (0xc6336400, "TEST-NET", 0xffffff00),
    (0xc0586300, "6TO4-RELAY", 0xffffff00),
    (0xc0000200, "TEST-NET", 0xffffff00),
    (0xc0000000, "RESERVED", 0xffffff00),
    (0xc0000000, "6TO4-RELAY", 0xfffffff8),
    (0xc0a80000, "PRIVATE", 0xffff0000),
    (0xa9fe0000, "LINK-LOCAL", 0xffff0000),
    (0xc6120000, "RESERVED", 0xfffe0000),
    (0xac100000, "PRIVATE", 0xfff00000),
    (0x64400000, "SHARED", 0xffc00000),
    (0x7f000000, "LOOPBACK", 0xff000000),
    (0x0a000000, "PRIVATE", 0xff000000),
    (0x0, "PRIVATE", 0xff000000),
    (0xf0000000, "RESERVED", 0xf0000000),
    (0xe0000000, "MULTICAST", 0xf0000000),
];

/// Kamailio's IPv6 ranges: (prefix, length, name), first match wins.
const V6_RANGES: &[(u128, u32, &str)] = &[
    (0, 128, "UNSPECIFIED"),
    (1, 128, "LOOPBACK"),
    (0xffff << 32, 96, "IPV4MAP"),
    (0x0100 << 112, 64, "DISCARD"),
    (0x2001_0002 << 96, 48, "BMWG"),
    (0x2001 << 112, 32, "TEREDO"),
    (0x2001_0db8 << 96, 32, "DOCUMENTATION"),
    (0x2001_0010 << 96, 28, "ORCHID"),
    (0x2002 << 112, 16, "6TO4"),
    (0xfec0 << 112, 10, "RESERVED"),
    (0xfe80 << 112, 10, "LINK-LOCAL-UNICAST"),
    (0xfe00 << 112, 9, "RESERVED"),
    (0, 8, "RESERVED"),
    (0x0100 << 112, 8, "RESERVED"),
    (0xff00 << 112, 8, "MULTICAST"),
    (0x0200 << 112, 7, "RESERVED"),
    (0xfc00 << 112, 7, "UNIQUE-LOCAL-UNICAST"),
    (0x0400 << 112, 6, "RESERVED"),
    (0xf800 << 112, 6, "RESERVED"),
    (0x0800 << 112, 5, "RESERVED"),
    (0xf000 << 112, 5, "RESERVED"),
    (0xe000 << 112, 4, "RESERVED"),
    (0x1000 << 112, 4, "RESERVED"),
    (0xc000 << 112, 3, "RESERVED"),
    (0x2000 << 112, 3, "GLOBAL-UNICAST"),
    (0x4000 << 112, 3, "RESERVED"),
    (0x6000 << 112, 3, "RESERVED"),
    (0x8000 << 112, 3, "RESERVED"),
    (0xa000 << 112, 3, "RESERVED"),
];

/// `detailed_ipv4_type`: the range's name, `PUBLIC` outside them; None for no IPv4.
pub fn v4_type(s: &str) -> Option<&'static str> {
    let a = u32::from(s.trim().parse::<Ipv4Addr>().ok()?);
    Some(
        V4_RANGES
            .iter()
            .find(|(v, _, m)| a & m == *v)
            .map_or("PUBLIC", |r| r.1),
    )
}

/// `detailed_ipv6_type`: the range's name; None for no IPv6.
pub fn v6_type(s: &str) -> Option<&'static str> {
    let a = u128::from(s.trim().parse::<Ipv6Addr>().ok()?);
    V6_RANGES
        .iter()
        .find(|(v, len, _)| {
            let mask = if *len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            a & mask == *v
        })
        .map(|r| r.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind("1.2.3.4"), Some(Kind::V4));
        assert_eq!(kind("01.2.3.4"), None);
        assert_eq!(kind("1.2.3.256"), None);
        assert_eq!(kind("::1"), Some(Kind::V6));
        assert_eq!(kind("::ffff:1.2.3.4"), Some(Kind::V6));
        assert_eq!(kind("[2001:db8::1]"), Some(Kind::V6Ref));
        assert_eq!(kind("2001:db8::00001"), None);
        assert_eq!(kind("fe80::1%eth0"), None);
        assert_eq!(kind(" 1.2.3.4"), None);
    }

    #[test]
    fn subnets() {
        assert_eq!(in_subnet("10.1.2.3", "10.0.0.0/8"), 1);
        assert_eq!(in_subnet("10.1.2.3", "192.168.0.0/16, 10.1.0.0/16"), 1);
        assert_eq!(in_subnet("10.1.2.3", "192.168.0.0/16"), -1);
        assert_eq!(in_subnet("10.1.2.3", "10.1.2.3"), 1);
        assert_eq!(in_subnet("2001:db8::5", "2001:db8::/32"), 1);
        assert_eq!(in_subnet("2001:db8::5", "10.0.0.0/8"), -1);
        assert_eq!(in_subnet("[::1]", "::1"), -1);
        assert_eq!(in_subnet("10.0.0.1", "10.0.0.0/33"), -1);
    }

    #[test]
    fn types() {
        assert_eq!(v4_type("192.168.1.1"), Some("PRIVATE"));
        assert_eq!(v4_type("8.8.8.8"), Some("PUBLIC"));
        assert_eq!(v4_type("192.0.0.1"), Some("RESERVED"));
        assert_eq!(v6_type("::1"), Some("LOOPBACK"));
        assert_eq!(v6_type("2001:db8::1"), Some("DOCUMENTATION"));
        assert_eq!(v6_type("2a00::1"), Some("GLOBAL-UNICAST"));
        assert_eq!(v6_type("fe80::1"), Some("LINK-LOCAL-UNICAST"));
        assert!(rfc1918("172.31.0.1") && !rfc1918("172.32.0.1"));
    }
}
