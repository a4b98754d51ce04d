//! siptrace's modparams: what sipvm honours, checked once; everything else is refused.

use crate::transport::Proto;
use sipvm_lang::compile::ModParamSetting;
use std::net::{IpAddr, SocketAddr};

/// The parameters sipvm honours. The database ones (issue #14), transaction and dialog
/// tracing (`trace_flag`), `evcb_msg`, the x-headers, `traced_user_avp`, `trace_table_avp`,
/// `trace_sl_acks` and `trace_init_mode` are not.
pub const PARAMS: &[&str] = &[
    "auth_key",
    "duplicate_uri",
    "trace_on",
    "trace_to_database",
    "trace_local_ip",
    "hep_mode_on",
    "force_send_sock",
    "send_sock_addr",
    "send_sock_name",
    "hep_version",
    "hep_capture_id",
    "trace_mode",
];

/// Where copies go: a `sip:` URI's address (an IP literal or `localhost`: no DNS yet), UDP
/// unless `;transport=tcp`, port 5060 unless given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dest {
    pub proto: Proto,
    pub addr: SocketAddr,
}

impl Dest {
    pub fn parse(s: &str) -> Result<Dest, String> {
        let u = crate::sip::Uri::parse(s.trim()).map_err(|e| format!("bad uri {s}: {e}"))?;
        let proto = match u.param("transport").flatten() {
            None => Proto::Udp,
            Some(t) if t.eq_ignore_ascii_case("udp") => Proto::Udp,
            Some(t) if t.eq_ignore_ascii_case("tcp") => Proto::Tcp,
            Some(t) => return Err(format!("transport {t} is not supported for copies")),
        };
        let host = u.host().trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::from([127, 0, 0, 1])
        } else {
            host.parse()
                .map_err(|_| format!("{host}: only IP addresses (no DNS yet)"))?
        };
        Ok(Dest {
            proto,
            addr: SocketAddr::new(ip, u.port().unwrap_or(5060)),
        })
    }
}

/// `send_sock_addr` (or its old name `force_send_sock`) / `send_sock_name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendSock {
    Addr(Dest),
    Name(String),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub duplicate_uri: Option<Dest>,
    /// `hep_mode_on`: HEPv3 packets, else the plain message.
    pub hep: bool,
    pub capture_id: u32,
    pub auth_key: Option<Vec<u8>>,
    pub trace_on: bool,
    /// `trace_mode=1`: every message received and sent, as HEP.
    pub mirror: bool,
    /// `trace_local_ip` (`proto:ip:port`): our side of a traced received message.
    pub local_ip: Option<(Proto, SocketAddr)>,
    pub send_sock: Option<SendSock>,
}

fn find<'a>(m: &'a [ModParamSetting], name: &str) -> Option<&'a ModParamSetting> {
    m.iter()
        .rev()
        .find(|s| s.module == "siptrace" && s.param == name)
}

fn int(m: &[ModParamSetting], name: &str, default: i64) -> Result<i64, String> {
    match find(m, name) {
        None => Ok(default),
        Some(s) => s
            .value
            .try_int()
            .ok_or_else(|| format!("siptrace: {name} must be an integer")),
    }
}

fn text(m: &[ModParamSetting], name: &str) -> Option<String> {
    find(m, name).map(|s| s.value.to_str().into_owned())
}

/// `proto:ip:port`, as Kamailio's `pipport2su` reads it.
pub fn parse_pipport(s: &str) -> Result<(Proto, SocketAddr), String> {
    let (p, rest) = s
        .split_once(':')
        .ok_or_else(|| format!("bad address {s}"))?;
    let proto = match p.to_ascii_lowercase().as_str() {
        "udp" | "any" => Proto::Udp,
        "tcp" => Proto::Tcp,
        "tls" => Proto::Tls,
        "sctp" => Proto::Sctp,
        "ws" => Proto::Ws,
        "wss" => Proto::Wss,
        _ => return Err(format!("bad protocol {s}")),
    };
    let (h, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("no port in {s}"))?;
    let ip: IpAddr = h
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| format!("bad IP address in {s}"))?;
    let port: u16 = port.parse().map_err(|_| format!("bad port in {s}"))?;
    Ok((proto, SocketAddr::new(ip, port)))
}

impl Config {
    pub fn from_modparams(m: &[ModParamSetting]) -> Result<Config, String> {
        for s in m.iter().filter(|s| s.module == "siptrace") {
            if !PARAMS.contains(&s.param.as_str()) {
                return Err(format!(
                    "siptrace: parameter {} is not implemented by sipvm",
                    s.param
                ));
            }
        }
        if int(m, "trace_to_database", 1)? != 0 {
            return Err(
                "siptrace: trace_to_database must be 0: sipvm has no database \
                 backend for siptrace yet (issue #14)"
                    .into(),
            );
        }
        let mode = int(m, "trace_mode", 0)?;
        if mode != 0 && mode != 1 {
            return Err(format!(
                "siptrace: trace_mode {mode}: only 0 and 1 (HEP mirroring) are implemented"
            ));
        }
        let hep = int(m, "hep_mode_on", 0)? != 0;
        let version = int(m, "hep_version", 1)?;
        if !(1..=3).contains(&version) {
            return Err("siptrace: unsupported version of HEP".into());
        }
        if (hep || mode == 1) && version != 3 {
            return Err(format!(
                "siptrace: hep_version {version}: sipvm sends HEPv3 only (set hep_version 3)"
            ));
        }
        let capture_id = int(m, "hep_capture_id", 1)?;
        let capture_id = u32::try_from(capture_id)
            .map_err(|_| format!("siptrace: hep_capture_id {capture_id} out of range"))?;
        let duplicate_uri = match text(m, "duplicate_uri") {
            Some(u) => {
                Some(Dest::parse(&u).map_err(|e| format!("siptrace: bad duplicate_uri: {e}"))?)
            }
            None => None,
        };
        let local_ip = match text(m, "trace_local_ip").filter(|s| !s.is_empty()) {
            Some(s) => {
                Some(parse_pipport(&s).map_err(|e| format!("siptrace: trace_local_ip: {e}"))?)
            }
            None => None,
        };
        // The name wins over the address, as in Kamailio.
        let send_sock = if let Some(n) = text(m, "send_sock_name") {
            Some(SendSock::Name(n))
        } else if let Some(a) = text(m, "send_sock_addr").or_else(|| text(m, "force_send_sock")) {
            Some(SendSock::Addr(Dest::parse(&a).map_err(|e| {
                format!("siptrace: bad send sock address: {e}")
            })?))
        } else {
            None
        };
        Ok(Config {
            duplicate_uri,
            hep,
            capture_id,
            auth_key: text(m, "auth_key")
                .filter(|k| !k.is_empty())
                .map(String::into_bytes),
            trace_on: int(m, "trace_on", 0)? != 0,
            mirror: mode == 1,
            local_ip,
            send_sock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipvm_vm::Value;

    fn mp(list: &[(&str, Value)]) -> Vec<ModParamSetting> {
        list.iter()
            .map(|(p, v)| ModParamSetting {
                module: "siptrace".into(),
                param: (*p).into(),
                value: v.clone(),
            })
            .collect()
    }

    #[test]
    fn database_is_refused() {
        assert!(Config::from_modparams(&[])
            .unwrap_err()
            .contains("issue #14"));
        let e = Config::from_modparams(&mp(&[("trace_to_database", Value::Int(1))]));
        assert!(e.is_err());
        let e = Config::from_modparams(&mp(&[
            ("trace_to_database", Value::Int(0)),
            ("db_url", Value::str("mysql://x")),
        ]));
        assert!(e.unwrap_err().contains("db_url"));
    }

    #[test]
    fn hep_needs_version_3() {
        let base = [
            ("trace_to_database", Value::Int(0)),
            ("hep_mode_on", Value::Int(1)),
        ];
        assert!(Config::from_modparams(&mp(&base))
            .unwrap_err()
            .contains("HEPv3"));
        let mut ok = base.to_vec();
        ok.push(("hep_version", Value::Int(3)));
        ok.push(("duplicate_uri", Value::str("sip:127.0.0.1:9060")));
        ok.push(("send_sock_addr", Value::str("sip:127.0.0.1:5060")));
        let c = Config::from_modparams(&mp(&ok)).unwrap();
        assert!(c.hep && !c.mirror && c.capture_id == 1);
        assert_eq!(
            c.duplicate_uri.unwrap().addr,
            "127.0.0.1:9060".parse().unwrap()
        );
        let mut bad = ok.clone();
        bad.push(("trace_mode", Value::Int(2)));
        assert!(Config::from_modparams(&mp(&bad)).is_err());
    }

    #[test]
    fn destinations() {
        let d = Dest::parse("sip:10.0.0.1;transport=tcp").unwrap();
        assert_eq!((d.proto, d.addr.port()), (Proto::Tcp, 5060));
        assert!(Dest::parse("sip:collector.example.com").is_err());
        assert!(Dest::parse("sip:[::1]:9").unwrap().addr.is_ipv6());
        assert_eq!(
            parse_pipport("udp:10.1.1.1:5064").unwrap(),
            (Proto::Udp, "10.1.1.1:5064".parse().unwrap())
        );
        assert!(parse_pipport("xx:1.2.3.4:5").is_err());
    }
}
