//! `sip_p_charging_vector(flags)` and `$pcv(all|value|genaddr|orig|term)` (RFC 7315's
//! P-Charging-Vector), as Kamailio 5.6.3's siputils handles them, quirks included: only a
//! header whose name starts with a capital `P` is found, and `r`/`f` remove a received
//! vector only when an empty P-Charging-Vector header came before it.

use crate::host::natives::arg_str;
use crate::host::{Ctx, MsgState};
use crate::sip::HeaderPos;
use sipvm_vm::{ArgValue, HostError, PvKey, Value};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Status {
    #[default]
    None,
    Parsed,
    Generated,
}

/// The vector of this message (Kamailio keeps it per process, keyed by message).
#[derive(Clone, Debug, Default)]
struct Pcv {
    status: Status,
    /// `$pcv(all)`: the header value when parsed, the whole header line when generated.
    all: String,
    value: String,
    genaddr: String,
    orig: String,
    term: String,
}

impl MsgState for Pcv {}

/// A parameter's value: from after `key` up to a blank, `;`, `,` or line end.
fn param(v: &str, key: &str) -> Option<String> {
    let i = v.find(key)? + key.len();
    let rest = &v[i..];
    let end = rest
        .find(['\0', ' ', ';', ',', '\r', '\n'])
        .unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// Fills `p` from a vector's value; false without `icid-value=`.
fn parse_into(p: &mut Pcv, v: &str) -> bool {
    let value = param(v, "icid-value=");
    p.genaddr = param(v, "icid-generated-at=").unwrap_or_default();
    p.orig = param(v, "orig-ioi=").unwrap_or_default();
    p.term = param(v, "term-ioi=").unwrap_or_default();
    p.value = value.clone().unwrap_or_default();
    value.is_some()
}

/// Looks for the vector in the received message: (state, the empty header met on the way).
fn read(ctx: &Ctx<'_>) -> (Pcv, Option<usize>) {
    let mut p = Pcv::default();
    let mut empty = None;
    for h in ctx.msg.headers() {
        if h.name_str.first() != Some(&b'P')
            || !h.name_str.eq_ignore_ascii_case(b"P-Charging-Vector")
        {
            continue;
        }
        if h.value.is_empty() {
            p.value.clear();
            p.genaddr.clear();
            empty = Some(h.index);
            continue;
        }
        let v = String::from_utf8_lossy(h.value).into_owned();
        if parse_into(&mut p, &v) {
            p.status = Status::Parsed;
            p.all = v;
        } else {
            tracing::error!("P-Charging-Vector header found but failed to parse value [{v}]");
        }
        return (p, empty);
    }
    (p, empty)
}

/// The address `gethostbyname(gethostname())` gives: the last one that is not 127.0.0.1,
/// else 127.0.0.1; zero when the name does not resolve. Looked up once.
fn host_ip() -> [u8; 4] {
    static IP: OnceLock<[u8; 4]> = OnceLock::new();
    *IP.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most `buf.len()` bytes into `buf`.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if r != 0 {
            return [0; 4];
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        let name = String::from_utf8_lossy(&buf[..end]).into_owned();
        let Ok(addrs) = std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), 0)) else {
            return [0; 4];
        };
        let mut ip = [0u8; 4];
        for a in addrs {
            if let std::net::IpAddr::V4(v4) = a.ip() {
                let o = v4.octets();
                if o != [127, 0, 0, 1] || ip == [0; 4] {
                    ip = o;
                }
            }
        }
        ip
    })
}

/// A new icid-value: `IVS`, the host's address, the pid, the time's low byte and a counter,
/// as 32 hex digits.
fn generate() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let ct = COUNTER.fetch_add(1, Relaxed) & 0xFFFF_FFFF;
    if ct == 0xFFFF_FFFF {
        COUNTER.store(0, Relaxed);
    }
    let mut id = [0u8; 16];
    id[..3].copy_from_slice(b"IVS");
    id[3..7].copy_from_slice(&host_ip());
    id[7..11].copy_from_slice(&std::process::id().to_le_bytes());
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    id[11] = ts as u8;
    id[12..16].copy_from_slice(&(ct as u32).to_le_bytes());
    id.iter().map(|b| format!("{b:02X}")).collect()
}

/// `sip_p_charging_vector(flags)`: `g` adds a vector when the request has none, `f` always
/// adds a new one, `r` removes the received one (see the module note). 1.
pub(super) fn sip_p_charging_vector(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let flags = arg_str(args, 0);
    let (mut remove, mut gen, mut replace) = (false, false, false);
    for c in flags.chars() {
        match c.to_ascii_lowercase() {
            'r' => remove = true,
            'g' => gen = true,
            'f' => {
                replace = true;
                gen = true;
            }
            _ => {}
        }
    }
    let (mut p, empty) = read(ctx);
    if p.status == Status::Parsed && (replace || remove) {
        if let Some(i) = empty {
            ctx.edits.remove_header(i);
        }
    }
    if replace || (gen && p.status == Status::None) {
        let body = format!(
            "icid-value={}; icid-generated-at={}\r\n",
            generate(),
            ctx.local.addr.ip()
        );
        parse_into(&mut p, &body);
        p.status = Status::Generated;
        p.all = format!("P-Charging-Vector: {body}");
        tracing::info!("Generated PCV header {}", p.all.trim_end());
        ctx.edits.add_header_raw(HeaderPos::End, p.all.as_bytes());
    }
    ctx.slots.put(p);
    Ok(1)
}

/// `$pcv(all|value|genaddr|orig|term)`: null without a vector.
pub(super) fn pv_pcv(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let name = key.name.unwrap_or("");
    if !matches!(name, "all" | "value" | "genaddr" | "orig" | "term") {
        return Err(HostError(format!("unknown pcv name {name:?}")));
    }
    let fresh = ctx
        .slots
        .get::<Pcv>()
        .is_none_or(|p| p.status == Status::None);
    if fresh {
        let (p, _) = read(ctx);
        ctx.slots.put(p);
    }
    let p = ctx.slots.get::<Pcv>().expect("just put");
    if p.status == Status::None {
        return Ok(Value::Null);
    }
    let v = match name {
        "all" => &p.all,
        "value" => &p.value,
        "genaddr" => &p.genaddr,
        "orig" => &p.orig,
        _ => &p.term,
    };
    Ok(if v.is_empty() {
        Value::Null
    } else {
        Value::Str(v.as_str().into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_ids() {
        let mut p = Pcv::default();
        assert!(parse_into(
            &mut p,
            "icid-value=AB12; icid-generated-at=192.0.2.1;orig-ioi=home1.net"
        ));
        assert_eq!(
            (&*p.value, &*p.genaddr, &*p.orig, &*p.term),
            ("AB12", "192.0.2.1", "home1.net", "")
        );
        assert!(!parse_into(&mut p, "icid=1"));
        let id = generate();
        assert_eq!(id.len(), 32);
        assert!(id.starts_with("495653"));
    }
}
