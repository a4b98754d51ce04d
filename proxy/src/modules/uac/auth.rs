//! Digest authentication as the uac module does it (RFC 2617 MD5, `qop=auth`): reading a
//! WWW-/Proxy-Authenticate challenge, computing the response with Kamailio's fixed
//! `nc=00000001` and its cnonce (the decimal of core's `get_hash1_raw` of the nonce), and
//! writing the Authorization header byte for byte as Kamailio does. `uac_auth()` adds it to
//! the next branch of a failure route.

use super::{Credential, Uac};
use crate::host::natives::arg_int;
use crate::host::Ctx;
use crate::modules::tm::state::TmCtx;
use crate::sip::{HeaderName, HeaderPos, Msg};
use md5::{Digest, Md5};
use sipvm_vm::{ArgValue, HostError, RouteKind, Value};

/// The parts of a challenge uac uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    /// Bytes as sent (a nonce need not be UTF-8; the hash and the header use it as is).
    pub nonce: Vec<u8>,
    pub opaque: Option<Vec<u8>>,
    /// The `qop` value as sent (`auth,auth-int`).
    pub qop: Option<String>,
    /// The qop value starts with `auth` (Kamailio's QOP_AUTH).
    pub qop_auth: bool,
}

fn is_space(c: u8) -> bool {
    c.is_ascii_whitespace()
}

/// Kamailio's `parse_authenticate_body`: `Digest` then `name=value` pairs; realm, nonce,
/// domain and opaque must be quoted; an algorithm other than a three-letter one is refused,
/// a stale other than true/false too.
pub fn parse_challenge(body: &[u8]) -> Result<Challenge, &'static str> {
    let mut p = 0;
    let end = body.len();
    while p < end && is_space(body[p]) {
        p += 1;
    }
    if p + 6 >= end || !body[p..p + 6].eq_ignore_ascii_case(b"Digest") {
        return Err("parse error: no Digest");
    }
    p += 6;
    if !is_space(body[p]) {
        return Err("parse error after Digest");
    }
    while p < end && is_space(body[p]) {
        p += 1;
    }
    if p == end {
        return Err("parse error: empty challenge");
    }
    let mut c = Challenge::default();
    let (mut realm, mut nonce) = (None, None);
    while p < end {
        let ns = p;
        while p < end && !is_space(body[p]) && body[p] != b'=' {
            p += 1;
        }
        if p == end {
            return Err("parse error: no '='");
        }
        let name = body[ns..p].to_ascii_lowercase();
        while p < end && is_space(body[p]) {
            p += 1;
        }
        if p == end || body[p] != b'=' {
            return Err("parse error: no '='");
        }
        p += 1;
        while p < end && is_space(body[p]) {
            p += 1;
        }
        let must_quote = matches!(&name[..], b"realm" | b"nonce" | b"domain" | b"opaque");
        if p + 1 >= end || (must_quote && body[p] != b'"') {
            return Err("parse error: bad value");
        }
        let quoted = body[p] == b'"';
        let val;
        if quoted {
            p += 1;
            let vs = p;
            while p < end && body[p] != b'"' {
                p += 1;
            }
            if p == end {
                return Err("unterminated quoted value");
            }
            val = &body[vs..p];
            p += 1;
        } else {
            let vs = p;
            while p < end && !is_space(body[p]) && body[p] != b',' {
                p += 1;
            }
            val = &body[vs..p];
        }
        while p < end && is_space(body[p]) {
            p += 1;
        }
        if p < end && body[p] == b',' {
            p += 1;
            while p < end && is_space(body[p]) {
                p += 1;
            }
        }
        let v = String::from_utf8_lossy(val).into_owned();
        match &name[..] {
            b"qop" => {
                c.qop_auth = val.starts_with(b"auth");
                c.qop = Some(v).filter(|v| !v.is_empty());
            }
            b"realm" => realm = Some(v),
            b"nonce" => nonce = Some(val.to_vec()),
            b"opaque" => c.opaque = Some(val.to_vec()).filter(|v| !v.is_empty()),
            b"algorithm" if val.len() != 3 => return Err("unsupported algorithm"),
            b"stale"
                if !val.eq_ignore_ascii_case(b"true") && !val.eq_ignore_ascii_case(b"false") =>
            {
                return Err("unsupported stale value")
            }
            _ => {}
        }
    }
    match (realm, nonce) {
        (Some(r), Some(n)) if !r.is_empty() && !n.is_empty() => {
            c.realm = r;
            c.nonce = n;
            Ok(c)
        }
        _ => Err("realm or nonce missing"),
    }
}

/// Core's `get_hash1_raw` (hashes.h), bytes read as C's signed `char`.
pub fn hash1_raw(s: &[u8]) -> u32 {
    let ch = |b: u8| b as i8 as i32 as u32;
    let mut h: u32 = 0;
    let mut chunks = s.chunks_exact(4);
    for c in &mut chunks {
        let v = (ch(c[0]) << 24)
            .wrapping_add(ch(c[1]) << 16)
            .wrapping_add(ch(c[2]) << 8)
            .wrapping_add(ch(c[3]));
        h = h.wrapping_add(v ^ (v >> 3));
    }
    let r = chunks.remainder();
    let v = match r.len() {
        3 => (ch(r[0]) << 16)
            .wrapping_add(ch(r[1]) << 8)
            .wrapping_add(ch(r[2])),
        2 => (ch(r[0]) << 8).wrapping_add(ch(r[1])),
        1 => ch(r[0]),
        _ => 0,
    };
    h = h.wrapping_add(v ^ (v >> 3));
    h.wrapping_add(h >> 11)
        .wrapping_add((h >> 13).wrapping_add(h >> 23))
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn md5_hex(parts: &[&[u8]]) -> String {
    let mut m = Md5::new();
    for p in parts {
        m.update(p);
    }
    hex(&m.finalize())
}

/// The Authorization (401) or Proxy-Authorization (407) header line, CRLF included, for
/// `method uri` answering `ch` with `crd`. `ha1`: the password is already H(A1).
pub fn authorization(
    code: u16,
    method: &str,
    uri: &str,
    crd: &Credential,
    ch: &Challenge,
    ha1: bool,
) -> Vec<u8> {
    let h1 = if ha1 {
        crd.passwd.chars().take(32).collect()
    } else {
        md5_hex(&[
            crd.user.as_bytes(),
            b":",
            crd.realm.as_bytes(),
            b":",
            crd.passwd.as_bytes(),
        ])
    };
    let h2 = md5_hex(&[method.as_bytes(), b":", uri.as_bytes()]);
    let cnonce = hash1_raw(&ch.nonce).to_string();
    const NC: &str = "00000001";
    let response = match &ch.qop {
        Some(q) => {
            let q1 = q.split(',').next().unwrap_or("");
            md5_hex(&[
                h1.as_bytes(),
                b":",
                &ch.nonce,
                b":",
                NC.as_bytes(),
                b":",
                cnonce.as_bytes(),
                b":",
                q1.as_bytes(),
                b":",
                h2.as_bytes(),
            ])
        }
        None => md5_hex(&[h1.as_bytes(), b":", &ch.nonce, b":", h2.as_bytes()]),
    };
    let name = if code == 401 {
        "Authorization"
    } else {
        "Proxy-Authorization"
    };
    let mut s = format!(
        "{name}: Digest username=\"{}\", realm=\"{}\", nonce=\"",
        crd.user, crd.realm
    )
    .into_bytes();
    s.extend_from_slice(&ch.nonce);
    s.extend_from_slice(format!("\", uri=\"{uri}\"").as_bytes());
    if let Some(o) = &ch.opaque {
        s.extend_from_slice(b", opaque=\"");
        s.extend_from_slice(o);
        s.push(b'"');
    }
    if ch.qop_auth {
        s.extend_from_slice(format!(", qop=auth, nc={NC}, cnonce=\"{cnonce}\"").as_bytes());
    }
    s.extend_from_slice(format!(", response=\"{response}\", algorithm=MD5\r\n").as_bytes());
    s
}

/// The challenge header of a 401/407 reply.
pub fn challenge_of(reply: &Msg, code: u16) -> Result<Challenge, &'static str> {
    let name = match code {
        401 => HeaderName::WwwAuthenticate,
        407 => HeaderName::ProxyAuthenticate,
        _ => return Err("reply is not an auth request"),
    };
    let v = reply
        .header_values(name)
        .next()
        .ok_or("reply has no auth hdr")?;
    parse_challenge(v)
}

fn avp(ctx: &Ctx<'_>, name: &str) -> Option<String> {
    ctx.avps
        .iter()
        .rev()
        .find(|(a, _)| &**a == name)
        .map(|(_, v)| v.clone())
        .filter(|v| !matches!(v, Value::Null))
        .map(|v| v.to_str().into_owned())
}

/// The credential for `realm`: the AVPs first (an empty realm AVP matches any realm), then
/// the `credential` list.
fn credential(ctx: &Ctx<'_>, uac: &Uac, realm: &str) -> Option<Credential> {
    if let Some((r, u, p)) = &uac.cfg.auth_avps {
        let ar = avp(ctx, r).unwrap_or_default();
        if ar.is_empty() || ar == realm {
            let user = avp(ctx, u).filter(|x| !x.is_empty());
            let passwd = avp(ctx, p).filter(|x| !x.is_empty());
            if let (Some(user), Some(passwd)) = (user, passwd) {
                return Some(Credential {
                    user,
                    realm: realm.to_string(),
                    passwd,
                });
            }
        }
    }
    uac.cfg
        .credentials
        .iter()
        .find(|c| c.realm == realm)
        .cloned()
}

fn auth_mode(ctx: &mut Ctx<'_>, mode: i64) -> Result<i64, HostError> {
    let failure = ctx
        .slots
        .get::<TmCtx>()
        .is_some_and(|t| t.route == Some(RouteKind::Failure));
    let picked = match ctx.slots.get_mut::<TmCtx>() {
        Some(t) if failure => t.with(|t| {
            let (i, code) = t.picked?;
            let b = t.branches.get(i)?;
            Some((code, b.uri.clone(), b.reply.clone(), b.timed_out))
        }),
        _ => None,
    };
    let Some(Some((code, uri, reply, timed_out))) = picked else {
        tracing::error!("uac_auth: no current transaction found");
        return Ok(-1);
    };
    let Some(reply) = reply.filter(|_| !timed_out) else {
        tracing::error!("uac_auth: cannot process a FAKED reply");
        return Ok(-1);
    };
    let Ok(reply) = Msg::parse(reply) else {
        return Ok(-1);
    };
    let ch = match challenge_of(&reply, code) {
        Ok(c) => c,
        Err(why) => {
            tracing::error!("uac_auth: {why}");
            return Ok(-1);
        }
    };
    let uac = ctx.state::<Uac>();
    let Some(crd) = credential(ctx, uac, &ch.realm) else {
        tracing::info!("no credential for realm \"{}\"", ch.realm);
        return Ok(-1);
    };
    let method = ctx.msg.method_str().to_string();
    let line = authorization(code, &method, &uri, &crd, &ch, mode & 1 != 0);
    ctx.ruri = Some(uri);
    ctx.edits.add_header_raw(HeaderPos::End, &line);
    Ok(1)
}

/// `uac_auth([mode])`: in a failure route, answers the picked 401/407 on the next branch.
pub fn uac_auth(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let mode = if args.is_empty() {
        0
    } else {
        arg_int(args, 0)?
    };
    auth_mode(ctx, mode)
}

pub fn uac_auth_mode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    auth_mode(ctx, arg_int(args, 0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_kamailio() {
        let c = parse_challenge(
            b"Digest realm=\"sip.example\", nonce=\"abc123\", qop=\"auth,auth-int\", opaque=\"op\", algorithm=MD5",
        )
        .unwrap();
        assert_eq!(c.realm, "sip.example");
        assert_eq!(c.nonce, b"abc123");
        assert_eq!(c.qop.as_deref(), Some("auth,auth-int"));
        assert!(c.qop_auth);
        assert_eq!(c.opaque.as_deref(), Some(&b"op"[..]));
        assert!(parse_challenge(b"Basic realm=\"x\"").is_err());
        assert!(parse_challenge(b"Digest realm=x, nonce=\"n\"").is_err());
        assert!(parse_challenge(b"Digest realm=\"x\", nonce=\"n\", algorithm=SHA-256").is_err());
        assert!(parse_challenge(b"Digest realm=\"x\"").is_err());
    }

    #[test]
    fn rfc2617_example_response() {
        // RFC 2617 §3.5 (qop=auth; cnonce is Kamailio's own, so only the no-qop form and the
        // header layout are checked against fixed values).
        let crd = Credential {
            user: "Mufasa".into(),
            realm: "testrealm@host.com".into(),
            passwd: "Circle Of Life".into(),
        };
        let ch = Challenge {
            realm: "testrealm@host.com".into(),
            nonce: b"dcd98b7102dd2f0e8b11d0f600bfb0c093".to_vec(),
            opaque: Some(b"5ccc069c403ebaf9f0171e9517f40e41".to_vec()),
            qop: None,
            qop_auth: false,
        };
        let h = authorization(401, "GET", "/dir/index.html", &crd, &ch, false);
        // md5(md5(A1):nonce:md5(A2)) computed independently.
        let h1 = md5_hex(&[b"Mufasa:testrealm@host.com:Circle Of Life"]);
        let h2 = md5_hex(&[b"GET:/dir/index.html"]);
        let r = md5_hex(&[h1.as_bytes(), b":", &ch.nonce, b":", h2.as_bytes()]);
        let h = String::from_utf8(h).unwrap();
        assert_eq!(
            h,
            format!("Authorization: Digest username=\"Mufasa\", realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", response=\"{r}\", algorithm=MD5\r\n")
        );
    }

    #[test]
    fn ha1_mode_uses_the_password_as_h_a1() {
        let ch = parse_challenge(b"Digest realm=\"r\", nonce=\"n\", qop=\"auth\"").unwrap();
        let plain = Credential {
            user: "u".into(),
            realm: "r".into(),
            passwd: "p".into(),
        };
        let ha1 = Credential {
            passwd: md5_hex(&[b"u:r:p"]),
            ..plain.clone()
        };
        assert_eq!(
            authorization(401, "REGISTER", "sip:r", &plain, &ch, false),
            authorization(401, "REGISTER", "sip:r", &ha1, &ch, true)
        );
    }

    #[test]
    fn hash1_raw_is_cores() {
        // Worked by hand from hashes.h: "abcd" -> v=0x61626364, h=v^(v>>3), no tail (v=0).
        let v: u32 = 0x61626364;
        let h = v ^ (v >> 3);
        let want = h
            .wrapping_add(h >> 11)
            .wrapping_add((h >> 13).wrapping_add(h >> 23));
        assert_eq!(hash1_raw(b"abcd"), want);
    }
}

#[cfg(test)]
mod golden {
    use super::*;

    /// Latin-1: the golden file keeps each byte of the captured message as one char.
    fn bytes(s: &str) -> Vec<u8> {
        s.chars().map(|c| c as u32 as u8).collect()
    }

    /// The headers Kamailio 5.6.3's uac_auth wrote (tests/golden_uac/auth.json).
    #[test]
    fn authorization_matches_kamailio() {
        let g: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/golden_uac/auth.json")).unwrap();
        let crd = Credential {
            user: "alice".into(),
            realm: "sipvm.test".into(),
            passwd: "secret".into(),
        };
        for (case, code) in [("qop", 401), ("noqop", 407)] {
            let chal = bytes(g[case]["challenge"].as_str().unwrap());
            let body = &chal[chal.iter().position(|c| *c == b':').unwrap() + 1..];
            let ch = parse_challenge(body).unwrap();
            let line = authorization(code, "MESSAGE", "sip:bob@127.0.0.1:25071", &crd, &ch, false);
            let retry = bytes(g[case]["retry"].as_str().unwrap());
            let want = retry
                .split(|c| *c == b'\n')
                .find(|l| l.windows(14).any(|w| w == b"uthorization: "))
                .unwrap();
            assert_eq!(
                String::from_utf8_lossy(&line).trim_end(),
                String::from_utf8_lossy(want).trim_end(),
                "{case}"
            );
            assert_eq!(&line[..line.len() - 1], want, "{case}: bytes");
        }
    }
}
