//! The two passes of topology hiding over raw messages, as Kamailio 5.6's topoh makes them:
//! `received` (before parsing: decode what we encoded, leave a direction cookie) and `sent`
//! (last thing before the wire: read and drop the cookie, encode).
//!
//! The cookie is three letters: direction (`d`ownstream, `u`pstream), kind (`i`nitial,
//! in-`c`ialog, `l`ocal in-dialog) and where it sits (`h`: a `TH` header, `v`: a `TH` Via
//! parameter). A received request gets both; the header travels in what the script forwards,
//! the Via parameter in the Via a reply copies.

use super::mask::Mask;
use crate::sip::{Edits, HeaderPos, Method, Msg, Uri};
use bytes::Bytes;

/// Decoded parameters and the prefixes built from them (Kamailio's `mod_init`).
#[derive(Clone, Debug)]
pub struct Topoh {
    pub mask: Mask,
    pub ip: String,
    pub uparam_name: String,
    pub uparam_prefix: String,
    pub vparam_name: String,
    pub vparam_prefix: String,
    pub callid_prefix: String,
    pub mask_callid: bool,
    pub uri_prefix_checks: bool,
    /// `SIP/2.0/UDP <ip>;<vparam_name>=<vparam_prefix>`
    via_prefix: Vec<u8>,
    /// `sip:<ip>;<uparam_name>=<uparam_prefix>`
    uri_prefix: Vec<u8>,
}

const COOKIE: &str = "TH";

/// Whether `host[:port]` is this server (Kamailio's `check_self`).
pub type IsSelf<'a> = &'a dyn Fn(&str, Option<u16>) -> bool;

impl Topoh {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: &str,
        ip: &str,
        uparam_name: &str,
        uparam_prefix: &str,
        vparam_name: &str,
        vparam_prefix: &str,
        callid_prefix: &str,
        mask_callid: bool,
        uri_prefix_checks: bool,
    ) -> Result<Topoh, String> {
        if key.is_empty() {
            return Err("topoh: mask_key must not be empty".into());
        }
        if ip.is_empty() {
            return Err("topoh: mask IP parameter is invalid".into());
        }
        if Uri::parse(&format!("sip:{ip}")).is_err() {
            return Err(format!("topoh: mask uri is invalid: sip:{ip}"));
        }
        Ok(Topoh {
            mask: Mask::new(key.as_bytes()),
            via_prefix: format!("SIP/2.0/UDP {ip};{vparam_name}={vparam_prefix}").into_bytes(),
            uri_prefix: format!("sip:{ip};{uparam_name}={uparam_prefix}").into_bytes(),
            ip: ip.into(),
            uparam_name: uparam_name.into(),
            uparam_prefix: uparam_prefix.into(),
            vparam_name: vparam_name.into(),
            vparam_prefix: vparam_prefix.into(),
            callid_prefix: callid_prefix.into(),
            mask_callid,
            uri_prefix_checks,
        })
    }

    /// The mask address names this server (Kamailio's `th_mask_addr_myself`).
    fn mask_is_self(&self, is_self: IsSelf<'_>) -> bool {
        let u = format!("sip:{}", self.ip);
        Uri::parse(&u).is_ok_and(|u| is_self(u.host(), u.port()))
    }
}

/// Offset of `s` (a slice of `msg`'s buffer) in it.
fn off(msg: &Msg, s: &str) -> Option<usize> {
    let base = msg.as_bytes().as_ptr() as usize;
    let p = s.as_ptr() as usize;
    (p >= base && p + s.len() <= base + msg.len()).then(|| p - base)
}

fn replace(msg: &Msg, ed: &mut Edits, s: &str, with: &[u8]) -> Option<()> {
    let a = off(msg, s)?;
    ed.replace_range(a, a + s.len(), with);
    Some(())
}

/// Kamailio's `th_prepare_msg` and `th_skip_msg`: only well-formed SIP with From, To, Via,
/// Call-ID and CSeq, and never REGISTER or PUBLISH.
fn prepare(data: &Bytes) -> Option<Msg> {
    let msg = Msg::parse(data.clone()).ok()?;
    msg.from().ok()?;
    msg.to().ok()?;
    msg.via().ok()?;
    msg.call_id().ok()?;
    let m = Method::from_bytes(msg.cseq().ok()?.method.as_bytes());
    if matches!(m, Method::Register | Method::Publish) {
        return None;
    }
    Some(msg)
}

fn cseq_method(msg: &Msg) -> Method {
    msg.cseq()
        .map(|c| Method::from_bytes(c.method.as_bytes()))
        .unwrap_or(Method::Other)
}

fn to_tagged(msg: &Msg) -> bool {
    msg.to()
        .ok()
        .and_then(|t| t.tag())
        .is_some_and(|t| !t.is_empty())
}

fn build(msg: &Msg, ed: &Edits) -> Option<Bytes> {
    let mut out = Vec::with_capacity(msg.len() + 256);
    msg.serialize(ed, &mut out).ok()?;
    Some(Bytes::from(out))
}

/// The value of URI parameter `name` of `uri` (Kamailio's `th_get_uri_param_value`).
fn uri_param<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    Uri::parse(uri).ok()?.param(name).flatten()
}

impl Topoh {
    /// A message as received: decoded and marked with the cookie; `None` leaves it as it is.
    pub fn received(&self, data: &Bytes, is_self: IsSelf<'_>) -> Option<Bytes> {
        let msg = prepare(data)?;
        let mut ed = Edits::new();
        let cookie: String;
        if msg.is_request() {
            if to_tagged(&msg) {
                let direction = self.route_direction(&msg)?;
                cookie = if direction == 0 { "dc" } else { "uc" }.into();
                // Kamailio goes on whatever each step answers.
                let _ = self.unmask_ruri(&msg, &mut ed);
                let _ = self.unmask_route(&msg, &mut ed);
                let _ = self.unmask_refer_to(&msg, &mut ed);
                if direction == 1 {
                    let _ = self.unmask_callid(&msg, &mut ed);
                }
            } else {
                cookie = "di".into();
            }
        } else {
            let vias = msg.via().ok()?;
            if vias.len() < 2 && cseq_method(&msg) != Method::Cancel {
                return None;
            }
            let mut c = String::from("xx");
            let _ = self.unmask_via(&msg, &mut ed, &mut c);
            let _ = self.flip_record_route(&msg, &mut ed, false, is_self);
            if c.starts_with('u') {
                cookie = "dc".into();
            } else {
                cookie = "uc".into();
                let _ = self.unmask_callid(&msg, &mut ed);
            }
        }
        // The header goes after the last header, the Via parameter right after host[:port].
        ed.add_header_raw(
            HeaderPos::End,
            format!("{COOKIE}: {cookie}h\r\n").as_bytes(),
        );
        let via1 = msg.via().ok()?[0].as_str();
        let at = off(&msg, via1)? + via_params_at(via1);
        ed.insert_at(at, format!(";{COOKIE}={cookie}v").as_bytes());
        build(&msg, &ed)
    }

    /// A message about to be sent: cookie dropped, topology encoded; `None` leaves it as it is.
    pub fn sent(&self, data: &Bytes, is_self: IsSelf<'_>) -> Option<Bytes> {
        let msg = prepare(data)?;
        let mut ed = Edits::new();
        let cookie = get_cookie(&msg);
        let cb = cookie.as_bytes();
        if cb.first() != Some(&b'x') {
            del_cookie(&msg, &mut ed);
        }
        let c0 = cb.first().copied().unwrap_or(b'x');
        if msg.is_request() {
            let direction = u8::from(c0 == b'u');
            let dialog = to_tagged(&msg);
            let local = if msg.via().ok()?.len() < 2 {
                if direction == 0 && cb.get(1) == Some(&b'l') {
                    2
                } else {
                    1
                }
            } else {
                u8::from(c0 != b'd' && c0 != b'u')
            };
            if local != 0 {
                if matches!(cseq_method(&msg), Method::Ack | Method::Cancel) || local == 2 {
                    let _ = self.mask_callid(&msg, &mut ed);
                    return build(&msg, &ed);
                }
                return None;
            }
            let _ = self.mask_via(&msg, &mut ed);
            let _ = self.mask_contact(&msg, &mut ed);
            let _ = self.mask_record_route(&msg, &mut ed);
            if dialog {
                if direction == 0 {
                    let _ = self.mask_callid(&msg, &mut ed);
                }
            } else {
                let _ = self.update_replaces(&msg, &mut ed);
                let _ = self.mask_callid(&msg, &mut ed);
            }
        } else {
            match cb.last() {
                Some(b'x') | None => return None,
                Some(b'v') => {
                    if c0 == b'u' {
                        let _ = self.mask_callid(&msg, &mut ed);
                    }
                }
                _ => {
                    let _ = self.flip_record_route(&msg, &mut ed, true, is_self);
                    let _ = self.mask_contact(&msg, &mut ed);
                    if c0 == b'd' {
                        let _ = self.mask_callid(&msg, &mut ed);
                    }
                }
            }
        }
        build(&msg, &ed)
    }

    /// 0 downstream, 1 upstream: upstream when the first Route's `ftag` is not the From tag.
    fn route_direction(&self, msg: &Msg) -> Option<u8> {
        let ftag = msg.from().ok()?.tag().filter(|t| !t.is_empty())?;
        let routes = msg.route().ok()?;
        let Some(first) = routes.first() else {
            return Some(0);
        };
        match first.uri().param("ftag").flatten() {
            Some(v) if v == ftag => Some(0),
            Some(_) => Some(1),
            None => Some(0),
        }
    }

    fn unmask_ruri(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        let uri = msg.ruri_str();
        if self.uri_prefix_checks && !starts_nocase(uri, &self.uri_prefix) {
            return Some(());
        }
        let v = uri_param(uri, &self.uparam_name).filter(|v| !v.is_empty())?;
        let out = self.mask.decode(v.as_bytes(), self.uparam_prefix.len())?;
        replace(msg, ed, uri, &out)
    }

    fn unmask_route(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        for r in msg.route().ok()?.iter().skip(1) {
            let uri = r.uri().as_str();
            if self.uri_prefix_checks && !starts_nocase(uri, &self.uri_prefix) {
                continue;
            }
            let Some(v) = uri_param(uri, &self.uparam_name).filter(|v| !v.is_empty()) else {
                continue;
            };
            let out = self.mask.decode(v.as_bytes(), self.uparam_prefix.len())?;
            replace(msg, ed, uri, &out)?;
        }
        Some(())
    }

    fn unmask_refer_to(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        if cseq_method(msg) != Method::Refer {
            return Some(());
        }
        let h = msg.headers().find(|h| {
            h.name_str.eq_ignore_ascii_case(b"Refer-To") || h.name_str.eq_ignore_ascii_case(b"r")
        })?;
        let value = std::str::from_utf8(h.value).ok()?;
        let na = crate::sip::NameAddr::parse(value).ok()?;
        let uri = na.uri().as_str();
        if self.uri_prefix_checks && !starts_nocase(uri, &self.uri_prefix) {
            return Some(());
        }
        let v = uri_param(uri, &self.uparam_name).filter(|v| !v.is_empty())?;
        let out = self.mask.decode(v.as_bytes(), self.uparam_prefix.len())?;
        // The URI's headers (`?Replaces=...`) stay.
        let plain = &uri[..uri.find('?').unwrap_or(uri.len())];
        let at = off(msg, value)? + (plain.as_ptr() as usize - value.as_ptr() as usize);
        ed.replace_range(at, at + plain.len(), &out);
        Some(())
    }

    fn unmask_callid(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        if !self.mask_callid {
            return Some(());
        }
        let cid = msg.call_id().ok()?;
        if !starts_nocase(cid, self.callid_prefix.as_bytes()) {
            return Some(());
        }
        let out = self.mask.decode(cid.as_bytes(), self.callid_prefix.len())?;
        replace(msg, ed, cid, &out)
    }

    fn mask_callid(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        if !self.mask_callid {
            return Some(());
        }
        let cid = msg.call_id().ok()?;
        let out = self
            .mask
            .encode(cid.as_bytes(), self.callid_prefix.as_bytes());
        replace(msg, ed, cid, &out)
    }

    /// Every Via but ours becomes one Via naming the mask address, the rest in its branch.
    fn mask_via(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        for v in msg.via().ok()?.iter().skip(1) {
            let s = v.as_str();
            let out = self.mask.encode(s.as_bytes(), &self.via_prefix);
            replace(msg, ed, s, &out)?;
        }
        Some(())
    }

    fn unmask_via(&self, msg: &Msg, ed: &mut Edits, cookie: &mut String) -> Option<()> {
        for (i, v) in msg.via().ok()?.iter().enumerate().skip(1) {
            if self.uri_prefix_checks && !v.host().eq_ignore_ascii_case(&self.ip) {
                continue;
            }
            let vp = v.params().get(&self.vparam_name).flatten()?;
            let pre = &self.vparam_prefix;
            if !pre.is_empty() && (vp.len() <= pre.len() || !vp.starts_with(pre.as_str())) {
                continue;
            }
            let out = self.mask.decode(vp.as_bytes(), pre.len())?;
            if i == 1 {
                *cookie = decoded_via_cookie(&out)?;
            }
            replace(msg, ed, v.as_str(), &out)?;
        }
        Some(())
    }

    /// The first Contact's URI, bracketed if it was not.
    fn mask_contact(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        let c = msg.contacts().ok()?;
        if c.star {
            return None;
        }
        let first = c.list.first()?;
        let uri = first.addr.uri().as_str();
        let mut out = self.mask.encode(uri.as_bytes(), &self.uri_prefix);
        let a = off(msg, uri)?;
        if a == 0 || msg.as_bytes()[a - 1] != b'<' {
            out.insert(0, b'<');
            out.push(b'>');
        }
        ed.replace_range(a, a + uri.len(), &out);
        Some(())
    }

    /// Every Record-Route but the first (ours).
    fn mask_record_route(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        for r in msg.record_route().ok()?.iter().skip(1) {
            let uri = r.uri().as_str();
            let out = self.mask.encode(uri.as_bytes(), &self.uri_prefix);
            replace(msg, ed, uri, &out)?;
        }
        Some(())
    }

    /// 2: our encoding (its parameter value in `Some`), 0: leave (ours or, for the mask
    /// address, not encoded; `true` with `;r2=on`), 1: someone else's, to encode.
    fn uri_type<'a>(&self, uri: &'a str, is_self: IsSelf<'_>) -> (u8, bool, Option<&'a str>) {
        let Ok(u) = Uri::parse(uri) else {
            return (u8::MAX, false, None);
        };
        if u.host().eq_ignore_ascii_case(&self.ip) {
            if let Some(v) = u.param(&self.uparam_name) {
                return (2, false, Some(v.unwrap_or("")));
            }
            if !self.mask_is_self(is_self) {
                return (0, false, None);
            }
        }
        if is_self(u.host(), u.port()) {
            let r2 = matches!(u.param("r2"), Some(Some(v)) if v.eq_ignore_ascii_case("on"));
            return (0, r2, None);
        }
        (1, false, None)
    }

    /// Replies: on the way out (`send`) encode the entries before ours (two when double
    /// Record-Route), on the way in decode ours.
    fn flip_record_route(
        &self,
        msg: &Msg,
        ed: &mut Edits,
        send: bool,
        is_self: IsSelf<'_>,
    ) -> Option<()> {
        let mut act = if send { 2 } else { 0 };
        for r in msg.record_route().ok()? {
            let uri = r.uri().as_str();
            let (mut t, r2, val) = self.uri_type(uri, is_self);
            if t == 0 && send {
                if !r2 {
                    return Some(());
                }
                act -= 1;
                if act == 0 {
                    return Some(());
                }
                t = 1;
            }
            let out = match t {
                1 if send && act != 0 => Some(self.mask.encode(uri.as_bytes(), &self.uri_prefix)),
                2 if !send => Some(
                    self.mask
                        .decode(val.unwrap_or("").as_bytes(), self.uparam_prefix.len())?,
                ),
                _ => None,
            };
            if let Some(out) = out {
                replace(msg, ed, uri, &out)?;
            }
        }
        Some(())
    }

    /// An initial INVITE's Replaces: its Call-ID encoded, or decoded if it was.
    fn update_replaces(&self, msg: &Msg, ed: &mut Edits) -> Option<()> {
        if !self.mask_callid || cseq_method(msg) != Method::Invite {
            return Some(());
        }
        let h = msg
            .headers()
            .find(|h| h.name_str.eq_ignore_ascii_case(b"Replaces"))?;
        let v = std::str::from_utf8(h.value).ok()?.trim();
        let cid = &v[..v.find(';').unwrap_or(v.len())];
        let pre = self.callid_prefix.as_bytes();
        let out = if cid.len() > pre.len() && cid.as_bytes().starts_with(pre) {
            self.mask.decode(cid.as_bytes(), pre.len())?
        } else {
            self.mask.encode(cid.as_bytes(), pre)
        };
        replace(msg, ed, cid, &out)
    }
}

fn starts_nocase(s: &str, pre: &[u8]) -> bool {
    s.len() >= pre.len() && s.as_bytes()[..pre.len()].eq_ignore_ascii_case(pre)
}

/// Where a Via's parameters start (its first `;`), else its end.
fn via_params_at(via: &str) -> usize {
    via.find(';').unwrap_or(via.len())
}

/// The `TH` parameter of a decoded Via.
fn decoded_via_cookie(via: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(via).ok()?;
    let params = &s[s.find(';')? + 1..];
    crate::sip::ParamIter::new(params, b';')
        .find(|(n, _)| n.eq_ignore_ascii_case(COOKIE))
        .and_then(|(_, v)| v)
        .map(str::to_string)
}

/// The `TH` header's value, else the top Via's `TH` parameter, else `xxx`.
fn get_cookie(msg: &Msg) -> String {
    if let Some(h) = msg
        .headers()
        .find(|h| h.name_str.eq_ignore_ascii_case(COOKIE.as_bytes()))
    {
        return String::from_utf8_lossy(h.value).into_owned();
    }
    if let Some(v) = msg.via().ok().and_then(|v| v.first()) {
        if let Some(Some(c)) = v.params().get(COOKIE) {
            return c.to_string();
        }
    }
    "xxx".into()
}

/// Drops the `TH` header and, in a reply, the top Via's `TH` parameter.
fn del_cookie(msg: &Msg, ed: &mut Edits) {
    if let Some(h) = msg
        .headers()
        .find(|h| h.name_str.eq_ignore_ascii_case(COOKIE.as_bytes()))
    {
        ed.remove_header(h.index);
    }
    if msg.is_request() {
        return;
    }
    let Some(v) = msg.via().ok().and_then(|v| v.first()) else {
        return;
    };
    for (n, val) in v.params().iter() {
        if !n.eq_ignore_ascii_case(COOKIE) {
            continue;
        }
        let Some(a) = off(msg, n) else {
            return;
        };
        let end = match val {
            Some(val) => off(msg, val).map_or(a + n.len(), |o| o + val.len()),
            None => a + n.len(),
        };
        // With the `;` before the name, as Kamailio deletes it.
        ed.replace_range(a.saturating_sub(1), end, b"");
        return;
    }
}
