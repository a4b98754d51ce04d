//! Reading what registrar needs from the message: the address of record of a URI, and a
//! REGISTER's contacts with their parameters (Kamailio's `parse_message`/`check_contacts`/
//! `pack_ci`).

use super::save::{NewContact, RegCfg, Register, Rerr};
use crate::host::Ctx;
use crate::sip::{HeaderName, Uri};
use crate::transport::Proto;
use std::net::SocketAddr;

/// Kamailio's limits (usrloc's `ul.h`, registrar's save.c).
const USERNAME_MAX: usize = 64;
const DOMAIN_MAX: usize = 64;
const AOR_MAX: usize = 256;
const CALLID_MAX: usize = 255;
const UA_MAX: usize = 255;
const RECEIVED_MAX: usize = 255;

/// Kamailio's `extract_aor`: the unescaped user, `@host` too with usrloc's `use_domain`
/// (minus `realm_prefix`), lowercased (only the host with `case_sensitive`).
pub fn aor_of(uri: &str, cfg: &RegCfg) -> Result<String, Rerr> {
    let u = Uri::parse(uri.trim()).map_err(|_| Rerr::AorParse)?;
    let user_raw = u.user().unwrap_or("");
    let host = u.host();
    if user_raw.len() + host.len() + 1 > AOR_MAX
        || user_raw.len() > USERNAME_MAX
        || host.len() > DOMAIN_MAX
    {
        return Err(Rerr::AorLen);
    }
    let user = match u.user_unescaped() {
        Some(b) => String::from_utf8(b.into_owned()).map_err(|_| Rerr::Unescape)?,
        None => String::new(),
    };
    let mut aor = user.clone();
    if cfg.use_domain {
        if !user.is_empty() {
            aor.push('@');
        }
        let h = match host.strip_prefix(cfg.realm_prefix.as_str()) {
            Some(rest) if !cfg.realm_prefix.is_empty() && !rest.is_empty() => rest,
            _ => host,
        };
        if cfg.case_sensitive && !user.is_empty() {
            aor.push_str(&h.to_ascii_lowercase());
            return Ok(aor);
        }
        aor.push_str(h);
    }
    Ok(aor.to_ascii_lowercase())
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// Methods of a comma-separated list, as Kamailio's bits.
fn methods_of(list: &str) -> u32 {
    list.split(',')
        .filter(|m| !m.trim().is_empty())
        .fold(0, |acc, m| acc | super::method_bit(m))
}

/// `sip:ip:port` of the source, with the transport when it is not UDP (as nathelper's
/// `fix_nated_register` writes it).
pub fn source_uri(src: SocketAddr, proto: Proto) -> String {
    use crate::sip::numfmt::{push_int, push_ip};
    let mut s = String::with_capacity(48);
    s.push_str("sip:");
    push_ip(&mut s, src.ip(), true);
    s.push(':');
    push_int(&mut s, src.port());
    if proto != Proto::Udp {
        s.push_str(";transport=");
        s.push_str(proto.as_str());
    }
    s
}

/// The received AVP's value (`modparam("registrar", "received_avp", "$avp(RECEIVED)")`).
fn received_avp(ctx: &Ctx<'_>, cfg: &RegCfg) -> Option<String> {
    let spec = cfg.received_avp.as_deref()?;
    let name = spec
        .trim()
        .strip_prefix("$avp(")
        .and_then(|s| s.strip_suffix(')'))
        .unwrap_or(spec);
    let name = name.strip_prefix("s:").unwrap_or(name);
    ctx.avps
        .iter()
        .rev()
        .find(|(k, _)| &**k == name)
        .map(|(_, v)| v.to_str().into_owned())
        .filter(|s| !s.is_empty())
}

/// A REGISTER read for `save`, or the error state Kamailio would reply with.
pub fn read_register(ctx: &Ctx<'_>, cfg: &RegCfg, flags: u32) -> Result<Register, Rerr> {
    let msg = ctx.msg;
    let need = |name: HeaderName, missing: Rerr| {
        if msg.find(name).is_none() {
            missing
        } else {
            Rerr::Parse
        }
    };
    msg.to().map_err(|_| need(HeaderName::To, Rerr::ToMiss))?;
    let callid = msg
        .call_id()
        .map_err(|_| need(HeaderName::CallId, Rerr::CidMiss))?;
    if callid.len() > CALLID_MAX {
        return Err(Rerr::CallidLen);
    }
    let cseq = msg
        .cseq()
        .map_err(|_| need(HeaderName::CSeq, Rerr::CsMiss))?
        .seq;
    let expires_hdr = msg.expires().map_err(|_| Rerr::ParseExp)?;
    let contacts = msg.contacts().map_err(|_| {
        let star = msg
            .header_values(HeaderName::Contact)
            .any(|v| v.contains(&b'*'));
        if star {
            Rerr::StarCont
        } else {
            Rerr::ParseCont
        }
    })?;
    if contacts.star && expires_hdr != Some(0) {
        return Err(Rerr::StarExp);
    }
    let avp = received_avp(ctx, cfg);
    let mut list = Vec::with_capacity(contacts.list.len());
    for c in &contacts.list {
        let uri = c.addr.uri();
        if uri.as_str().len() > cfg.contact_max_size {
            return Err(Rerr::ContactLen);
        }
        let p = c.addr.params();
        let param = |n: &str| p.get(n).map(|v| unquote(v.unwrap_or("")).to_string());
        let instance = param("+sip.instance").unwrap_or_default();
        let reg_id = match (instance.is_empty(), param("reg-id")) {
            (false, Some(v)) if !v.is_empty() => Some(v.parse::<u32>().map_err(|_| ())),
            _ => None,
        };
        let received = match param("received").filter(|r| !r.is_empty()) {
            Some(r) if r.len() > RECEIVED_MAX => return Err(Rerr::ContactLen),
            Some(r) => r,
            None => avp.clone().unwrap_or_default(),
        };
        list.push(NewContact {
            uri: uri.as_str().to_string(),
            expires: c.expires,
            q: c.q,
            instance,
            reg_id,
            received,
            methods: param("methods").map(|m| methods_of(&m)),
        });
    }
    let path = if cfg.use_path {
        let parts: Vec<String> = msg
            .header_values(HeaderName::Path)
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
            .collect();
        let path = parts.join(",");
        if !path.is_empty() {
            let first = super::lookup::first_path_uri(&path).ok_or(Rerr::ParsePath)?;
            let u = Uri::parse(&first).map_err(|_| Rerr::ParsePath)?;
            if u.param("lr").is_none() {
                return Err(Rerr::ParsePath);
            }
        }
        path
    } else {
        String::new()
    };
    let user_agent = msg
        .header_values(HeaderName::UserAgent)
        .next()
        .map(|v| String::from_utf8_lossy(v).trim().to_string())
        .filter(|v| !v.is_empty() && v.len() < UA_MAX)
        .unwrap_or_else(|| "n/a".to_string());
    let allow: Vec<String> = msg
        .header_values(HeaderName::Allow)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    let allow = if allow.is_empty() {
        u32::MAX
    } else {
        methods_of(&allow.join(","))
    };
    Ok(Register {
        callid: callid.to_string(),
        cseq,
        expires_hdr,
        star: contacts.star,
        contacts: list,
        path,
        user_agent,
        socket: ctx.local.socket_str(),
        source: source_uri(ctx.src, ctx.local.proto),
        allow,
        flags,
        cflags: ctx.bflags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(use_domain: bool) -> RegCfg {
        RegCfg {
            use_domain,
            realm_prefix: String::new(),
            case_sensitive: false,
            ..crate::modules::usrloc::save::tests_cfg()
        }
    }

    #[test]
    fn aor_forms() {
        assert_eq!(
            aor_of("sip:Alice@Example.COM", &cfg(false)).unwrap(),
            "alice"
        );
        assert_eq!(
            aor_of("sip:Alice@Example.COM;transport=udp", &cfg(true)).unwrap(),
            "alice@example.com"
        );
        assert_eq!(aor_of("sip:al%69ce@h", &cfg(false)).unwrap(), "alice");
        assert_eq!(aor_of("not a uri", &cfg(false)), Err(Rerr::AorParse));
        let long = format!("sip:{}@h", "a".repeat(65));
        assert_eq!(aor_of(&long, &cfg(false)), Err(Rerr::AorLen));
    }

    #[test]
    fn source_uris() {
        let s: SocketAddr = "192.0.2.1:5070".parse().unwrap();
        assert_eq!(source_uri(s, Proto::Udp), "sip:192.0.2.1:5070");
        assert_eq!(
            source_uri(s, Proto::Tcp),
            "sip:192.0.2.1:5070;transport=tcp"
        );
    }

    #[test]
    fn method_lists() {
        assert_eq!(methods_of("INVITE, BYE"), 1 | 8);
        assert_eq!(methods_of(""), 0);
    }
}
