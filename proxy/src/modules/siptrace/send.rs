//! Building and queueing the copies: Kamailio's `sip_trace_store`, `trace_send_duplicate` and
//! `trace_send_hep3_duplicate`. Copies are queued aside (`Outbox::send_aside`) so that no
//! raw-data hook (topoh, trace mirroring) touches them.

use super::config::{Config, Dest, SendSock};
use super::hep::{self, Hep};
use crate::transport::{Local, Outbox, Proto};
use bytes::Bytes;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// One message to copy, with the two ends Kamailio records (`proto:ip:port` each).
pub struct Packet<'a> {
    pub body: &'a Bytes,
    pub from: (Proto, SocketAddr),
    pub to: (Proto, SocketAddr),
    pub corr: Option<&'a str>,
}

/// The IP protocol number Kamailio's `pipport2su` gives a transport.
pub fn ip_proto(p: Proto) -> u8 {
    match p {
        Proto::Udp => hep::IPPROTO_UDP,
        Proto::Tcp => hep::IPPROTO_TCP,
        Proto::Sctp => hep::IPPROTO_SCTP,
        Proto::Tls | Proto::Ws | Proto::Wss => hep::IPPROTO_IDP,
    }
}

/// The HEPv3 packet for `p` at `now` (seconds, microseconds).
pub fn hep_packet(cfg: &Config, p: &Packet<'_>, now: (u32, u32)) -> Result<Vec<u8>, hep::HepError> {
    Hep {
        // Kamailio parses `to` last; its protocol is the one written.
        proto: ip_proto(p.to.0),
        src: p.from.1,
        dst: p.to.1,
        ts_sec: now.0,
        ts_usec: now.1,
        proto_type: 1,
        capture_id: cfg.capture_id,
        correlation_id: p.corr.map(|c| c.as_bytes().to_vec()),
        auth_key: cfg.auth_key.clone(),
        payload: p.body.to_vec(),
    }
    .encode()
}

fn now() -> (u32, u32) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as u32, d.subsec_micros())
}

/// The socket copies leave by: `send_sock_name`, else `send_sock_addr`; `None` lets the
/// transport choose (Kamailio warns when the configured one is not found).
fn send_socket(cfg: &Config, locals: &[Local]) -> Option<usize> {
    let found = match cfg.send_sock.as_ref()? {
        SendSock::Name(n) => locals
            .iter()
            .find(|l| l.name.as_deref() == Some(n.as_str())),
        SendSock::Addr(d) => locals
            .iter()
            .find(|l| l.addr == d.addr && l.proto == d.proto),
    };
    if found.is_none() {
        tracing::warn!(target: "siptrace", "cannot find send socket info");
    }
    found.map(|l| l.index)
}

fn queue(cfg: &Config, locals: &[Local], out: &mut Outbox, to: &Dest, data: Bytes) {
    out.send_aside(to.addr, to.proto, data, send_socket(cfg, locals));
}

/// `sip_trace_store`: a HEP packet with `hep_mode_on`, else the message itself, to `dest`
/// or `duplicate_uri`.
pub fn store(
    cfg: &Config,
    locals: &[Local],
    out: &mut Outbox,
    p: &Packet<'_>,
    dest: Option<&Dest>,
) {
    if cfg.hep {
        hep_to(cfg, locals, out, p, dest);
        return;
    }
    let Some(to) = dest.or(cfg.duplicate_uri.as_ref()) else {
        return;
    };
    queue(cfg, locals, out, to, p.body.clone());
}

/// `hlog()`'s packet: a log line (protocol type 100) from `src` (the sending socket) to `dst`.
pub fn hlog_packet(
    cfg: &Config,
    src: SocketAddr,
    dst: SocketAddr,
    corr: &str,
    message: &str,
    now: (u32, u32),
) -> Result<Vec<u8>, hep::HepError> {
    Hep {
        proto: hep::IPPROTO_UDP,
        src,
        dst,
        ts_sec: now.0,
        ts_usec: now.1,
        proto_type: 100,
        capture_id: cfg.capture_id,
        correlation_id: Some(corr.as_bytes().to_vec()),
        auth_key: cfg.auth_key.clone(),
        payload: message.as_bytes().to_vec(),
    }
    .encode_log()
}

/// `hlog()`: to `duplicate_uri` from the configured socket, else the first of the copy's
/// transport and address family; false when there is no such socket or no `duplicate_uri`.
pub fn hlog(cfg: &Config, locals: &[Local], out: &mut Outbox, corr: &str, message: &str) -> bool {
    let Some(to) = cfg.duplicate_uri.as_ref() else {
        tracing::error!(target: "siptrace", "hlog(): no duplicate_uri");
        return false;
    };
    let local = send_socket(cfg, locals)
        .and_then(|i| locals.get(i))
        .or_else(|| {
            locals
                .iter()
                .find(|l| l.proto == to.proto && l.addr.is_ipv4() == to.addr.is_ipv4())
        });
    let Some(local) = local else {
        tracing::error!(target: "siptrace", "can't forward to {}: no corresponding listening socket", to.addr);
        return false;
    };
    match hlog_packet(cfg, local.addr, to.addr, corr, message, now()) {
        Ok(b) => {
            out.send_aside(to.addr, to.proto, Bytes::from(b), Some(local.index));
            true
        }
        Err(e) => {
            tracing::error!(target: "siptrace", "cannot send hep log: {e}");
            false
        }
    }
}

/// `trace_send_hep3_duplicate`.
pub fn hep_to(
    cfg: &Config,
    locals: &[Local],
    out: &mut Outbox,
    p: &Packet<'_>,
    dest: Option<&Dest>,
) {
    let Some(to) = dest.or(cfg.duplicate_uri.as_ref()) else {
        tracing::error!(target: "siptrace", "no destination for the HEP packet");
        return;
    };
    match hep_packet(cfg, p, now()) {
        Ok(b) => queue(cfg, locals, out, to, Bytes::from(b)),
        Err(hep::HepError::Families) => {
            tracing::error!(target: "siptrace", "interworking detected ?")
        }
        Err(e) => tracing::error!(target: "siptrace", "cannot build HEP packet: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::Config;
    use super::*;
    use sipvm_lang::compile::ModParamSetting;
    use sipvm_vm::Value;

    fn golden(name: &str) -> Vec<u8> {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/modules/siptrace/testdata/"
        );
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    /// testdata/kamailio.cfg's settings.
    fn cfg() -> Config {
        let mp = |p: &str, v: Value| ModParamSetting {
            module: "siptrace".into(),
            param: p.into(),
            value: v,
        };
        Config::from_modparams(&[
            mp("duplicate_uri", Value::str("sip:127.0.0.1:27021")),
            mp("hep_mode_on", Value::Int(1)),
            mp("hep_version", Value::Int(3)),
            mp("hep_capture_id", Value::Int(1234)),
            mp("trace_on", Value::Int(1)),
            mp("trace_to_database", Value::Int(0)),
            mp("trace_mode", Value::Int(1)),
        ])
        .unwrap()
    }

    #[test]
    fn hlog_same_bytes_as_kamailio() {
        let mut c = cfg();
        // testdata/kamailio-hlog.cfg adds the key.
        c.auth_key = Some(b"k3y".to_vec());
        let (us, col) = (addr("127.0.0.1:27020"), addr("127.0.0.1:27021"));
        for (f, corr, text) in [
            ("hlog-01-27021.hep", "trace-call-1", "hello trace-call-1"),
            ("hlog-02-27021.hep", "cid-x", "second OPTIONS"),
        ] {
            let want = golden(f);
            let got = hlog_packet(&c, us, col, corr, text, stamp(&want)).unwrap();
            assert_eq!(got, want, "{f}");
        }
    }

    /// Kamailio's timestamps, the only bytes that differ between runs.
    fn stamp(b: &[u8]) -> (u32, u32) {
        let h = Hep::decode(b).unwrap();
        (h.ts_sec, h.ts_usec)
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn same_bytes_as_kamailio() {
        let c = cfg();
        let opt = Bytes::from(golden("options.sip"));
        let reply = Bytes::from(golden("04-27023.sip"));
        let ua = (Proto::Udp, addr("127.0.0.1:27023"));
        let us = (Proto::Udp, addr("127.0.0.1:27020"));
        let cid = "corr-trace-call-1";
        let cases: [(&str, Packet<'_>); 4] = [
            // trace_mode=1, received
            (
                "01-27021.hep",
                Packet {
                    body: &opt,
                    from: ua,
                    to: us,
                    corr: None,
                },
            ),
            // sip_trace()
            (
                "02-27021.hep",
                Packet {
                    body: &opt,
                    from: ua,
                    to: us,
                    corr: None,
                },
            ),
            // sip_trace("sip:127.0.0.1:27022", "corr-$ci", "m")
            (
                "03-27022.hep",
                Packet {
                    body: &opt,
                    from: ua,
                    to: us,
                    corr: Some(cid),
                },
            ),
            // trace_mode=1, the 404 sent
            (
                "05-27021.hep",
                Packet {
                    body: &reply,
                    from: us,
                    to: ua,
                    corr: None,
                },
            ),
        ];
        for (f, p) in cases {
            let want = golden(f);
            assert_eq!(hep_packet(&c, &p, stamp(&want)).unwrap(), want, "{f}");
        }
    }
}
