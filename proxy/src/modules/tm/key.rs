//! Server transaction keys (RFC 3261 §17.2.3, with the RFC 2543 fallback) and the branch
//! values sipvm gives its client transactions, from which a reply finds its transaction.

use crate::sip::{Method, Msg};
use std::hash::{Hash, Hasher};

/// What identifies a server transaction, as one string (one allocation): for RFC 3261 peers
/// the top Via's branch (magic cookie), its sent-by and the method (ACK counts as INVITE);
/// for RFC 2543 peers Call-ID, CSeq number, From tag, the top Via and the Request-URI. An
/// ACK for a non-2xx reply and the CANCEL of an INVITE find the INVITE's transaction with
/// [`Key::of_invite`].
///
/// The key's hash is computed once, when it is made, and is all the table hashes.
#[derive(Clone, Debug)]
pub struct Key {
    hash: u64,
    text: Box<str>,
}

impl PartialEq for Key {
    fn eq(&self, o: &Key) -> bool {
        self.hash == o.hash && self.text == o.text
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, h: &mut H) {
        h.write_u64(self.hash);
    }
}

/// splitmix64's finaliser: every input bit reaches every output bit, so the table's shard
/// (high bits) and hashbrown's buckets and tags are all well spread.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const COOKIE: &str = "z9hG4bK";

fn method_class(m: &Msg) -> &str {
    match m.method() {
        Some(Method::Ack) => "INVITE",
        _ => m.method_str(),
    }
}

impl Key {
    /// The key of a request's own transaction; `None` when the headers it needs are broken.
    pub fn of(m: &Msg) -> Option<Key> {
        Self::with_method(m, method_class(m))
    }

    /// The key of the INVITE transaction a CANCEL or ACK refers to.
    pub fn of_invite(m: &Msg) -> Option<Key> {
        Self::with_method(m, "INVITE")
    }

    fn with_method(m: &Msg, method: &str) -> Option<Key> {
        use std::fmt::Write;
        let via = m.top_via().ok()?;
        let mut k = String::with_capacity(96);
        match via.branch() {
            Some(b) if b.len() > COOKIE.len() && b.starts_with(COOKIE) => {
                let host = via.host().to_ascii_lowercase();
                let _ = write!(k, "3\n{b}\n{host}:{}\n{method}", via.port().unwrap_or(0));
            }
            _ => {
                let from_tag = m.from().ok()?.tag().unwrap_or("");
                let _ = write!(
                    k,
                    "2\n{}\n{}\n{from_tag}\n{}\n{}\n{method}",
                    m.call_id().ok()?,
                    m.cseq().ok()?.seq,
                    via.as_str(),
                    m.ruri_str()
                );
            }
        }
        let mut h = rustc_hash::FxHasher::default();
        k.hash(&mut h);
        Some(Key {
            hash: mix(h.finish()),
            text: k.into_boxed_str(),
        })
    }

    /// Whether the key is an RFC 3261 (branch) one.
    pub fn is_rfc3261(&self) -> bool {
        self.text.starts_with('3')
    }

    pub fn hash64(&self) -> u64 {
        self.hash
    }
}

/// Prefix of the branches sipvm's client transactions use:
/// `z9hG4bKsvt<id hex>.<branch>.<check hex>`.
pub const BRANCH_PREFIX: &str = "z9hG4bKsvt";

/// A secret of this process, so the check part of a branch cannot be guessed: transaction ids
/// are small counters, and without it anyone could end or hijack a call by sending a reply
/// with a made-up branch.
fn secret() -> u64 {
    static S: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *S.get_or_init(|| {
        use std::hash::BuildHasher;
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        // RandomState is seeded from the OS for every process.
        std::collections::hash_map::RandomState::new().hash_one((t, std::process::id()))
    })
}

fn check(id: u64, idx: usize) -> u32 {
    (mix(secret() ^ mix(id ^ ((idx as u64) << 56))) >> 32) as u32
}

pub fn branch_value(id: u64, idx: usize) -> String {
    format!("{BRANCH_PREFIX}{id:x}.{idx}.{:08x}", check(id, idx))
}

/// The transaction id and branch index of one of our branches; `None` for anything else,
/// including a branch whose check part is not the one this process gave it.
pub fn parse_branch(b: &str) -> Option<(u64, usize)> {
    let rest = b.strip_prefix(BRANCH_PREFIX)?;
    let mut parts = rest.splitn(3, '.');
    let id = u64::from_str_radix(parts.next()?, 16).ok()?;
    let idx: usize = parts.next()?.parse().ok()?;
    let c = u32::from_str_radix(parts.next()?, 16).ok()?;
    (c == check(id, idx)).then_some((id, idx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn msg(s: &str) -> Msg {
        Msg::parse(Bytes::from(s.replace('\n', "\r\n"))).unwrap()
    }

    const INV: &str = "INVITE sip:b@h SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKabc\nFrom: <sip:a@h>;tag=1\nTo: <sip:b@h>\nCall-ID: c1\nCSeq: 1 INVITE\nContent-Length: 0\n\n";

    #[test]
    fn ack_and_cancel_find_the_invite() {
        let inv = Key::of(&msg(INV)).unwrap();
        let cancel = msg(&INV
            .replace("INVITE sip", "CANCEL sip")
            .replace("1 INVITE", "1 CANCEL"));
        assert_ne!(Key::of(&cancel).unwrap(), inv);
        assert_eq!(Key::of_invite(&cancel).unwrap(), inv);
        let ack = msg(&INV
            .replace("INVITE sip", "ACK sip")
            .replace("1 INVITE", "1 ACK"));
        assert_eq!(Key::of(&ack).unwrap(), inv);
        let other_hop = msg(&INV.replace("10.0.0.1:5070", "10.0.0.2:5070"));
        assert_ne!(Key::of(&other_hop).unwrap(), inv);
    }

    #[test]
    fn rfc2543_fallback_and_branch_roundtrip() {
        let old = msg(&INV.replace(";branch=z9hG4bKabc", ""));
        assert!(!Key::of(&old).unwrap().is_rfc3261());
        assert!(Key::of(&msg(INV)).unwrap().is_rfc3261());
        let b = branch_value(0xdead_beef, 3);
        assert_eq!(parse_branch(&b), Some((0xdead_beef, 3)));
        assert_eq!(parse_branch("z9hG4bKother"), None);
        // A made-up branch with a plausible id but no valid check is not ours.
        assert_eq!(parse_branch("z9hG4bKsvt41.0"), None);
        assert_eq!(parse_branch("z9hG4bKsvt41.0.00000000"), None);
        let forged = format!("{}.{}", b.rsplit_once('.').unwrap().0, "deadbeef");
        assert_eq!(parse_branch(&forged), None);
    }
}
