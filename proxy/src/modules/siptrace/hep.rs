//! HEPv3 (the HEP3 spec, what Homer reads): `HEP3`, the total length (u16, network order),
//! then chunks of vendor id (u16), type id (u16), chunk length with its 6-byte header (u16)
//! and the value. The chunks and their order are the ones Kamailio 5.6's siptrace sends: IP
//! family, IP protocol, source and destination address, source and destination port,
//! timestamp seconds and microseconds, protocol type (1: SIP), capture id, correlation id,
//! auth key, payload.

use std::net::{IpAddr, SocketAddr};

/// Chunk types (vendor 0) of the HEP3 spec.
pub mod chunk {
    pub const IP_FAMILY: u16 = 0x0001;
    pub const IP_PROTO: u16 = 0x0002;
    pub const SRC_IP4: u16 = 0x0003;
    pub const DST_IP4: u16 = 0x0004;
    pub const SRC_IP6: u16 = 0x0005;
    pub const DST_IP6: u16 = 0x0006;
    pub const SRC_PORT: u16 = 0x0007;
    pub const DST_PORT: u16 = 0x0008;
    pub const TS_SEC: u16 = 0x0009;
    pub const TS_USEC: u16 = 0x000a;
    pub const PROTO_TYPE: u16 = 0x000b;
    pub const CAPTURE_ID: u16 = 0x000c;
    pub const AUTH_KEY: u16 = 0x000e;
    pub const PAYLOAD: u16 = 0x000f;
    pub const CORRELATION_ID: u16 = 0x0011;
}

/// Linux's `AF_INET`/`AF_INET6`, which Kamailio writes as the family.
pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;
/// IP protocol numbers Kamailio writes: UDP, TCP, and 22 ("IDP") for TLS/WS/WSS.
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_IDP: u8 = 22;
pub const IPPROTO_SCTP: u8 = 132;

/// One captured message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hep {
    pub proto: u8,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ts_sec: u32,
    pub ts_usec: u32,
    /// 1: SIP.
    pub proto_type: u8,
    pub capture_id: u32,
    pub correlation_id: Option<Vec<u8>>,
    pub auth_key: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HepError {
    #[error("source and destination are of different address families")]
    Families,
    #[error("the packet would exceed 65535 bytes")]
    TooBig,
    #[error("not a HEP3 packet")]
    NotHep3,
    #[error("HEP3 length {0} does not match the {1} bytes received")]
    Length(usize, usize),
    #[error("truncated or malformed chunk at byte {0}")]
    Chunk(usize),
    #[error("chunk {0:#06x} is missing")]
    Missing(u16),
}

fn put(out: &mut Vec<u8>, t: u16, v: &[u8]) {
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&((6 + v.len()) as u16).to_be_bytes());
    out.extend_from_slice(v);
}

impl Hep {
    /// The packet, as Kamailio 5.6's siptrace builds a copy of a message.
    pub fn encode(&self) -> Result<Vec<u8>, HepError> {
        self.encode_as(false)
    }

    /// The packet as Kamailio 5.6's `hlog()` builds it (protocol type 100): destination port
    /// before source port, and the correlation id always present.
    pub fn encode_log(&self) -> Result<Vec<u8>, HepError> {
        self.encode_as(true)
    }

    fn encode_as(&self, log: bool) -> Result<Vec<u8>, HepError> {
        let mut out = Vec::with_capacity(128 + self.payload.len());
        out.extend_from_slice(b"HEP3\0\0");
        match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                put(&mut out, chunk::IP_FAMILY, &[AF_INET]);
                put(&mut out, chunk::IP_PROTO, &[self.proto]);
                put(&mut out, chunk::SRC_IP4, &s.octets());
                put(&mut out, chunk::DST_IP4, &d.octets());
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                put(&mut out, chunk::IP_FAMILY, &[AF_INET6]);
                put(&mut out, chunk::IP_PROTO, &[self.proto]);
                put(&mut out, chunk::SRC_IP6, &s.octets());
                put(&mut out, chunk::DST_IP6, &d.octets());
            }
            _ => return Err(HepError::Families),
        }
        let (sp, dp) = (self.src.port().to_be_bytes(), self.dst.port().to_be_bytes());
        if log {
            put(&mut out, chunk::DST_PORT, &dp);
            put(&mut out, chunk::SRC_PORT, &sp);
        } else {
            put(&mut out, chunk::SRC_PORT, &sp);
            put(&mut out, chunk::DST_PORT, &dp);
        }
        put(&mut out, chunk::TS_SEC, &self.ts_sec.to_be_bytes());
        put(&mut out, chunk::TS_USEC, &self.ts_usec.to_be_bytes());
        put(&mut out, chunk::PROTO_TYPE, &[self.proto_type]);
        put(&mut out, chunk::CAPTURE_ID, &self.capture_id.to_be_bytes());
        // A copy leaves an empty correlation id out; a log line always has one.
        match &self.correlation_id {
            Some(c) if log || !c.is_empty() => put_data(&mut out, chunk::CORRELATION_ID, c)?,
            None if log => put_data(&mut out, chunk::CORRELATION_ID, b"")?,
            _ => {}
        }
        if let Some(k) = self.auth_key.as_ref().filter(|k| !k.is_empty()) {
            put_data(&mut out, chunk::AUTH_KEY, k)?;
        }
        put_data(&mut out, chunk::PAYLOAD, &self.payload)?;
        let n = u16::try_from(out.len()).map_err(|_| HepError::TooBig)?;
        out[4..6].copy_from_slice(&n.to_be_bytes());
        Ok(out)
    }

    /// Reads a HEP3 packet (every chunk this module writes; others are skipped). For tests
    /// and tools: a collector's view of what was sent.
    pub fn decode(b: &[u8]) -> Result<Hep, HepError> {
        if b.len() < 6 || &b[..4] != b"HEP3" {
            return Err(HepError::NotHep3);
        }
        let total = u16::from_be_bytes([b[4], b[5]]) as usize;
        if total != b.len() {
            return Err(HepError::Length(total, b.len()));
        }
        let mut f = Fields::default();
        let mut i = 6;
        while i < b.len() {
            let h = b.get(i..i + 6).ok_or(HepError::Chunk(i))?;
            let vendor = u16::from_be_bytes([h[0], h[1]]);
            let t = u16::from_be_bytes([h[2], h[3]]);
            let len = u16::from_be_bytes([h[4], h[5]]) as usize;
            let v = b
                .get(i + 6..i + len)
                .filter(|_| len >= 6)
                .ok_or(HepError::Chunk(i))?;
            if vendor == 0 {
                f.set(t, v).ok_or(HepError::Chunk(i))?;
            }
            i += len;
        }
        f.finish()
    }
}

fn put_data(out: &mut Vec<u8>, t: u16, v: &[u8]) -> Result<(), HepError> {
    if v.len() > u16::MAX as usize - 6 {
        return Err(HepError::TooBig);
    }
    put(out, t, v);
    Ok(())
}

#[derive(Default)]
struct Fields {
    family: Option<u8>,
    proto: Option<u8>,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    sport: Option<u16>,
    dport: Option<u16>,
    sec: Option<u32>,
    usec: Option<u32>,
    ptype: Option<u8>,
    cid: Option<u32>,
    corr: Option<Vec<u8>>,
    auth: Option<Vec<u8>>,
    payload: Option<Vec<u8>>,
}

fn u8_of(v: &[u8]) -> Option<u8> {
    (v.len() == 1).then(|| v[0])
}
fn u16_of(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(v.try_into().ok()?))
}
fn u32_of(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.try_into().ok()?))
}

impl Fields {
    fn set(&mut self, t: u16, v: &[u8]) -> Option<()> {
        use chunk::*;
        match t {
            IP_FAMILY => self.family = Some(u8_of(v)?),
            IP_PROTO => self.proto = Some(u8_of(v)?),
            SRC_IP4 => self.src = Some(IpAddr::from(<[u8; 4]>::try_from(v).ok()?)),
            DST_IP4 => self.dst = Some(IpAddr::from(<[u8; 4]>::try_from(v).ok()?)),
            SRC_IP6 => self.src = Some(IpAddr::from(<[u8; 16]>::try_from(v).ok()?)),
            DST_IP6 => self.dst = Some(IpAddr::from(<[u8; 16]>::try_from(v).ok()?)),
            SRC_PORT => self.sport = Some(u16_of(v)?),
            DST_PORT => self.dport = Some(u16_of(v)?),
            TS_SEC => self.sec = Some(u32_of(v)?),
            TS_USEC => self.usec = Some(u32_of(v)?),
            PROTO_TYPE => self.ptype = Some(u8_of(v)?),
            CAPTURE_ID => self.cid = Some(u32_of(v)?),
            CORRELATION_ID => self.corr = Some(v.to_vec()),
            AUTH_KEY => self.auth = Some(v.to_vec()),
            PAYLOAD => self.payload = Some(v.to_vec()),
            _ => {}
        }
        Some(())
    }

    fn finish(self) -> Result<Hep, HepError> {
        use chunk::*;
        let fam = self.family.ok_or(HepError::Missing(IP_FAMILY))?;
        let src = self.src.ok_or(HepError::Missing(SRC_IP4))?;
        let dst = self.dst.ok_or(HepError::Missing(DST_IP4))?;
        let want_v6 = fam == AF_INET6;
        if src.is_ipv6() != want_v6 || dst.is_ipv6() != want_v6 {
            return Err(HepError::Families);
        }
        Ok(Hep {
            proto: self.proto.ok_or(HepError::Missing(IP_PROTO))?,
            src: SocketAddr::new(src, self.sport.ok_or(HepError::Missing(SRC_PORT))?),
            dst: SocketAddr::new(dst, self.dport.ok_or(HepError::Missing(DST_PORT))?),
            ts_sec: self.sec.ok_or(HepError::Missing(TS_SEC))?,
            ts_usec: self.usec.ok_or(HepError::Missing(TS_USEC))?,
            proto_type: self.ptype.ok_or(HepError::Missing(PROTO_TYPE))?,
            capture_id: self.cid.ok_or(HepError::Missing(CAPTURE_ID))?,
            correlation_id: self.corr,
            auth_key: self.auth,
            payload: self.payload.ok_or(HepError::Missing(PAYLOAD))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn golden(name: &str) -> Vec<u8> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/modules/siptrace/testdata/"
        );
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    /// Every packet Kamailio sent decodes, and encodes back to the same bytes.
    #[test]
    fn kamailio_packets_round_trip() {
        for f in [
            "01-27021.hep",
            "02-27021.hep",
            "03-27022.hep",
            "05-27021.hep",
        ] {
            let b = golden(f);
            let h = Hep::decode(&b).unwrap();
            assert_eq!(h.encode().unwrap(), b, "{f}");
            assert_eq!(h.capture_id, 1234);
            assert_eq!(h.proto, IPPROTO_UDP);
            assert_eq!(h.proto_type, 1);
        }
        for f in ["hlog-01-27021.hep", "hlog-02-27021.hep"] {
            let b = golden(f);
            let h = Hep::decode(&b).unwrap();
            assert_eq!(h.encode_log().unwrap(), b, "{f}");
            assert_eq!(h.proto_type, 100);
        }
    }

    fn addr() -> impl Strategy<Value = (SocketAddr, SocketAddr)> {
        prop_oneof![
            (
                any::<[u8; 4]>(),
                any::<u16>(),
                any::<[u8; 4]>(),
                any::<u16>()
            )
                .prop_map(|(a, p, b, q)| (
                    SocketAddr::new(IpAddr::from(a), p),
                    SocketAddr::new(IpAddr::from(b), q)
                )),
            (
                any::<[u8; 16]>(),
                any::<u16>(),
                any::<[u8; 16]>(),
                any::<u16>()
            )
                .prop_map(|(a, p, b, q)| (
                    SocketAddr::new(IpAddr::from(a), p),
                    SocketAddr::new(IpAddr::from(b), q)
                )),
        ]
    }

    fn opt_bytes() -> impl Strategy<Value = Option<Vec<u8>>> {
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..64))
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(
            (src, dst) in addr(),
            proto in any::<u8>(),
            ts_sec in any::<u32>(),
            ts_usec in any::<u32>(),
            capture_id in any::<u32>(),
            correlation_id in opt_bytes(),
            auth_key in opt_bytes(),
            payload in proptest::collection::vec(any::<u8>(), 0..2000),
        ) {
            let h = Hep { proto, src, dst, ts_sec, ts_usec, proto_type: 1, capture_id,
                correlation_id, auth_key, payload };
            let b = h.encode().unwrap();
            prop_assert_eq!(u16::from_be_bytes([b[4], b[5]]) as usize, b.len());
            prop_assert_eq!(Hep::decode(&b).unwrap(), h);
        }

        #[test]
        fn decode_never_panics(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Hep::decode(&b);
            let mut h = b"HEP3".to_vec();
            h.extend_from_slice(&((b.len() + 6) as u16).to_be_bytes());
            h.extend_from_slice(&b);
            let _ = Hep::decode(&h);
        }

        #[test]
        fn truncations_are_errors((src, dst) in addr(), cut in 1usize..40) {
            let h = Hep { proto: 17, src, dst, ts_sec: 1, ts_usec: 2, proto_type: 1,
                capture_id: 3, correlation_id: None, auth_key: None, payload: b"x".to_vec() };
            let b = h.encode().unwrap();
            let n = b.len().saturating_sub(cut);
            prop_assert!(Hep::decode(&b[..n]).is_err());
        }
    }
}
