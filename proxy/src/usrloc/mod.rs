//! The location service behind Kamailio's usrloc and registrar modules: tables by name
//! ("location"), each sharded by the hash of the address of record with one lock per shard,
//! living in [`crate::host::Shared`] so registrations survive `route.reload`. Expired
//! bindings are invisible at once (every read compares with the current time) and removed by
//! a sweeper thread once a second. With `modparam("usrloc", "db_url", "sqlite://...")` and
//! `db_mode` ≥ 1, changes are written to SQLite by a writer thread (see [`db`]).
//! See docs/modules/registrar.md.

pub mod db;
pub mod lookup;
pub mod request;
pub mod save;
mod store;

pub use store::{Binding, Record, Table, Usrloc, Q_UNSPECIFIED};

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch: the clock of expiry times, as Kamailio's `time(0)`.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Kamailio's `core_hash` of one string (the AoR's `HashID` in `ul.dump`; its low bits pick
/// the slot). Bytes are signed as C's `char` is on x86.
pub fn core_hash(s: &[u8]) -> u32 {
    let b = |i: usize| s[i] as i8 as i32 as u32;
    let mut h: u32 = 0;
    let mut p = 0;
    while p + 4 <= s.len() {
        let v = (b(p) << 24)
            .wrapping_add(b(p + 1) << 16)
            .wrapping_add(b(p + 2) << 8)
            .wrapping_add(b(p + 3));
        h = h.wrapping_add(v ^ (v >> 3));
        p += 4;
    }
    let mut v: u32 = 0;
    while p < s.len() {
        v = (v << 8).wrapping_add(b(p));
        p += 1;
    }
    h = h.wrapping_add(v ^ (v >> 3));
    h.wrapping_add(h >> 11)
        .wrapping_add((h >> 13).wrapping_add(h >> 23))
}

/// Kamailio's method bits (`METHOD_INVITE` = 1 ...), for a contact's `methods`.
pub fn method_bit(m: &str) -> u32 {
    const NAMES: [&str; 19] = [
        "INVITE",
        "CANCEL",
        "ACK",
        "BYE",
        "INFO",
        "REGISTER",
        "SUBSCRIBE",
        "NOTIFY",
        "MESSAGE",
        "OPTIONS",
        "PRACK",
        "UPDATE",
        "REFER",
        "PUBLISH",
        "KDMQ",
        "GET",
        "POST",
        "PUT",
        "DELETE",
    ];
    match NAMES.iter().position(|n| n.eq_ignore_ascii_case(m.trim())) {
        Some(i) => 1 << i,
        None => 1 << 19,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_hash_matches_kamailio() {
        // HashID Kamailio 5.6.3 printed in ul.dump for these AoRs.
        assert_eq!(core_hash(b"alice"), 1834153949);
    }

    #[test]
    fn method_bits() {
        assert_eq!(method_bit("INVITE"), 1);
        assert_eq!(method_bit("register"), 32);
        assert_eq!(method_bit("FOO"), 1 << 19);
    }
}
