//! siputils' `encode_contact`/`decode_contact`/`decode_contact_header`: a Contact URI folded
//! into the user part of a URI on a public address, `sip:prefix*user*pass*ip*port*proto@pub`
//! (`*` is `contact_flds_separator`), and back. Error codes as Kamailio 5.6's.

use super::Options;
use crate::host::natives::arg_str;
use crate::host::Ctx;
use crate::sip::{HeaderName, Uri};
use sipvm_vm::{ArgValue, HostError};

/// `uri` encoded (Kamailio keeps only user, password, host, port and transport).
fn encode_uri(uri: &str, prefix: &str, public: &str, sep: char) -> Result<String, i64> {
    if uri.len() <= 1 {
        return Err(-1);
    }
    let colon = uri.find(':').ok_or(-25)?;
    if colon < 3 {
        return Err(-26);
    }
    let u = Uri::parse(&uri[colon - 3..]).map_err(|_| -31)?;
    let transport = u.param("transport").flatten().unwrap_or("");
    Ok(format!(
        "{}{prefix}{sep}{}{sep}{}{sep}{}{sep}{}{sep}{transport}@{public}",
        &uri[..=colon],
        u.user().unwrap_or(""),
        u.password().unwrap_or(""),
        u.host(),
        u.port_str(),
    ))
}

/// `uri` decoded; the parameters after the public address are kept.
fn decode_uri(uri: &str, sep: char) -> Result<String, i64> {
    if uri.is_empty() {
        return Err(-1);
    }
    let colon = uri.find(':').ok_or(-22)?;
    let start = colon + 1;
    let at = uri[start..].find('@').map(|i| start + i).ok_or(-23)?;
    let fields: Vec<&str> = uri[start..at].split(sep).collect();
    // prefix, user, password, ip, port, protocol: exactly six.
    if fields.len() > 6 {
        return Err(-24);
    }
    if fields.len() < 6 {
        return Err(-26);
    }
    let (user, pass, ip, port, proto) = (fields[1], fields[2], fields[3], fields[4], fields[5]);
    if ip.is_empty() {
        return Err(-2);
    }
    if !pass.is_empty() && user.is_empty() {
        return Err(-3);
    }
    let second = uri[at..].find([';', '>']).map_or(uri.len(), |i| at + i);
    let mut out = String::from(&uri[..start]);
    if !user.is_empty() {
        out.push_str(user);
        if !pass.is_empty() {
            out.push(':');
            out.push_str(pass);
        }
        out.push('@');
    }
    out.push_str(ip);
    if !port.is_empty() {
        out.push(':');
        out.push_str(port);
    }
    if !proto.is_empty() {
        out.push_str(";transport=");
        out.push_str(proto);
    }
    out.push_str(&uri[second..]);
    Ok(out)
}

/// The URIs of the first Contact header as `(start, end)` message offsets.
fn first_contact_uris(ctx: &Ctx<'_>) -> Option<Vec<(usize, usize)>> {
    let m = ctx.msg;
    let h = m.headers().find(|h| h.name == HeaderName::Contact)?;
    let base = m.as_bytes().as_ptr() as usize;
    let (hs, he) = (
        h.value.as_ptr() as usize - base,
        h.value.as_ptr() as usize - base + h.value.len(),
    );
    let cs = m.contacts().ok()?;
    Some(
        cs.list
            .iter()
            .filter_map(|c| {
                let u = c.addr.uri().as_str();
                let s = (u.as_ptr() as usize).checked_sub(base)?;
                (hs <= s && s + u.len() <= he).then_some((s, s + u.len()))
            })
            .collect(),
    )
}

fn uri_text(ctx: &Ctx<'_>, (s, e): (usize, usize)) -> String {
    String::from_utf8_lossy(&ctx.msg.as_bytes()[s..e]).into_owned()
}

/// `encode_contact(prefix, public_ip)`: every URI of the first Contact header; -1 without one.
pub(super) fn encode_contact(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (prefix, public) = (arg_str(args, 0).into_owned(), arg_str(args, 1).into_owned());
    let sep = ctx.state::<Options>().contact_sep;
    let Some(uris) = first_contact_uris(ctx) else {
        return Ok(-1);
    };
    if uris.is_empty() {
        return Ok(-4);
    }
    for r in uris {
        match encode_uri(&uri_text(ctx, r), &prefix, &public, sep) {
            Ok(new) => ctx.edits.replace_range(r.0, r.1, new.as_bytes()),
            Err(e) => return Ok(e),
        }
    }
    Ok(1)
}

/// `decode_contact()`: the Request-URI.
pub(super) fn decode_contact(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let sep = ctx.state::<Options>().contact_sep;
    let ruri = ctx.ruri_str().to_string();
    match decode_uri(&ruri, sep) {
        Ok(new) => {
            ctx.ruri = Some(new);
            Ok(1)
        }
        Err(e) => Ok(e),
    }
}

/// `decode_contact_header()`: every URI of the first Contact header; -1 without one.
pub(super) fn decode_contact_header(
    ctx: &mut Ctx<'_>,
    _: &[ArgValue<'_>],
) -> Result<i64, HostError> {
    let sep = ctx.state::<Options>().contact_sep;
    let Some(uris) = first_contact_uris(ctx) else {
        return Ok(-1);
    };
    if uris.is_empty() {
        return Ok(-4);
    }
    for r in uris {
        match decode_uri(&uri_text(ctx, r), sep) {
            Ok(new) => ctx.edits.replace_range(r.0, r.1, new.as_bytes()),
            Err(e) => return Ok(e),
        }
    }
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let e = encode_uri(
            "sip:alice@127.0.0.1:23061;transport=udp",
            "pre",
            "192.0.2.1",
            '*',
        )
        .unwrap();
        assert_eq!(e, "sip:pre*alice**127.0.0.1*23061*udp@192.0.2.1");
        assert_eq!(
            decode_uri(&e, '*').unwrap(),
            "sip:alice@127.0.0.1:23061;transport=udp"
        );
        assert_eq!(decode_uri("sip:bob@example.com", '*'), Err(-26));
        assert_eq!(decode_uri("sip:p*u*x**5060*@h", '*'), Err(-2));
        assert_eq!(decode_uri("sip:p**x*1.2.3.4**@h;lr", '*'), Err(-3));
        assert_eq!(
            decode_uri("sip:p***1.2.3.4**@h;lr", '*').unwrap(),
            "sip:1.2.3.4;lr"
        );
    }
}
