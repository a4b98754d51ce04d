//! Typed header values: name-addr lists (From, To, Contact, Route, Record-Route), CSeq,
//! Call-ID, Max-Forwards, Content-Type, option-tag lists, Expires and Date. Each parser takes
//! the header's value (LWS and folding included) and borrows from it.

use std::borrow::Cow;

use super::name::HeaderName;
use super::params::{header_params, header_params_with, Params};
use super::scan::{find, is_lws, is_token, parse_u64, parse_u64_saturating, unquote, Cur};
use super::uri::Uri;

/// Reading a header failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("{0} header missing")]
    Missing(HeaderName),
    #[error("bad {name} header: {why}")]
    Syntax { name: HeaderName, why: &'static str },
}

impl HeaderError {
    pub fn name(&self) -> HeaderName {
        match *self {
            HeaderError::Missing(n) | HeaderError::Syntax { name: n, .. } => n,
        }
    }
}

pub(crate) type PResult<T> = Result<T, &'static str>;

/// `display-name <uri>;params`, `<uri>;params` or a bare `uri;params`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    raw: &'a str,
    display: Option<&'a str>,
    uri: Uri<'a>,
    bracketed: bool,
    params: Params<'a>,
    tag: Option<&'a str>,
}

impl<'a> NameAddr<'a> {
    /// The whole element as written (trimmed).
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// The display name as written: a quoted string with its quotes, or tokens.
    pub fn display(&self) -> Option<&'a str> {
        self.display
    }
    /// The display name without quotes and escapes.
    pub fn display_unquoted(&self) -> Option<Cow<'a, str>> {
        self.display.map(unquote)
    }
    pub fn uri(&self) -> &Uri<'a> {
        &self.uri
    }
    /// Whether the URI was in `<...>`.
    pub fn bracketed(&self) -> bool {
        self.bracketed
    }
    /// The header parameters (after the URI).
    pub fn params(&self) -> Params<'a> {
        self.params
    }
    pub fn tag(&self) -> Option<&'a str> {
        self.tag
    }

    /// Parses one name-addr or addr-spec standing alone, as in a From or To value.
    pub fn parse(s: &'a str) -> Result<NameAddr<'a>, NameAddrError> {
        single_name_addr(s).map_err(NameAddrError)
    }

    /// Where the URI starts in [`Self::as_str`] (both borrow the same input).
    fn uri_offset(&self) -> usize {
        self.uri.as_str().as_ptr() as usize - self.raw.as_ptr() as usize
    }

    /// What precedes `<`, as written: the display name and the LWS after it (`""` when the
    /// URI is bare).
    pub fn before_uri(&self) -> &'a str {
        match self.bracketed {
            true => &self.raw[..self.uri_offset() - 1],
            false => "",
        }
    }

    /// The element without its header parameters: through `>`, or the bare URI.
    pub fn addr(&self) -> &'a str {
        let end = self.uri_offset() + self.uri.as_str().len() + usize::from(self.bracketed);
        &self.raw[..end]
    }
}

/// A name-addr given on its own did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad name-addr: {0}")]
pub struct NameAddrError(pub &'static str);

/// Parses one name-addr or addr-spec at the cursor. `bare_ok`: an addr-spec without `<>`
/// is allowed (From, To, Contact, not Route). A bare URI ends at `;`, `,` or LWS and may not
/// contain `?` (RFC 3261 §20.10: such URIs must be enclosed in `<>`).
pub(crate) fn name_addr<'a>(cur: &mut Cur<'a>, bare_ok: bool) -> PResult<NameAddr<'a>> {
    cur.lws();
    let start = cur.pos;
    let b = cur.bytes();
    let mut display = None;
    let uri_str;
    let bracketed;
    // Display name: a quoted string, or a token sequence followed by '<'.
    let mut is_name_addr = false;
    if cur.peek() == Some(b'"') {
        let q = cur.quoted().ok_or("unbalanced quotes in display name")?;
        display = Some(q);
        cur.lws();
        is_name_addr = true;
    } else {
        let mut p = cur.pos;
        while p < b.len() && (is_token(b[p]) || is_lws(b[p])) {
            p += 1;
        }
        if b.get(p) == Some(&b'<') {
            let d = cur
                .slice(start, p)
                .trim_end_matches([' ', '\t', '\r', '\n']);
            if !d.is_empty() {
                display = Some(d);
            }
            cur.pos = p;
            is_name_addr = true;
        }
    }
    if is_name_addr {
        if !cur.eat(b'<') {
            return Err("expected '<'");
        }
        let us = cur.pos;
        let n = find(&b[us..], b'>').ok_or("missing '>'")?;
        cur.pos = us + n + 1;
        uri_str = cur.slice(us, us + n);
        bracketed = true;
    } else {
        if !bare_ok {
            return Err("expected '<'");
        }
        let us = cur.pos;
        let u = cur.take_while(|c| !is_lws(c) && c != b';' && c != b',');
        if u.contains('?') {
            return Err("URI with '?' outside '<>'");
        }
        let _ = us;
        uri_str = u;
        bracketed = false;
    }
    if uri_str.is_empty() {
        return Err("empty URI");
    }
    let uri = Uri::parse(uri_str).map_err(|e| e.0)?;
    let mut tag = None;
    let mut bad_tag = false;
    let params = header_params_with(cur, |n, v| {
        if tag.is_none() && !bad_tag && n.eq_ignore_ascii_case("tag") {
            match v {
                Some(t) => tag = Some(t),
                None => bad_tag = true,
            }
        }
        Ok(())
    })
    .map_err(|_| "bad parameter")?;
    if bad_tag {
        return Err("tag without value");
    }
    Ok(NameAddr {
        raw: cur.slice(start, cur.pos),
        display,
        uri,
        bracketed,
        params,
        tag,
    })
}

/// Parses a comma-separated list over several header values, `f` parsing one element.
pub(crate) fn list<'a, T>(
    values: impl Iterator<Item = &'a str>,
    mut f: impl FnMut(&mut Cur<'a>) -> PResult<T>,
) -> PResult<Vec<T>> {
    let mut out = Vec::new();
    for v in values {
        let mut cur = Cur::new(v);
        loop {
            cur.lws();
            if cur.at_end() {
                return Err("empty list element");
            }
            out.push(f(&mut cur)?);
            cur.lws();
            if cur.eat(b',') {
                continue;
            }
            if !cur.at_end() {
                return Err("junk after value");
            }
            break;
        }
    }
    Ok(out)
}

/// A single name-addr header (From, To): exactly one element, nothing after it.
pub(crate) fn single_name_addr(v: &str) -> PResult<NameAddr<'_>> {
    let mut cur = Cur::new(v);
    let na = name_addr(&mut cur, true)?;
    cur.lws();
    if !cur.at_end() {
        return Err("junk after value");
    }
    Ok(na)
}

/// One Contact element: a name-addr with `q` and `expires` read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContactAddr<'a> {
    pub addr: NameAddr<'a>,
    /// q in thousandths (`q=0.33` is 330).
    pub q: Option<u16>,
    /// delta-seconds, saturated at 2^32-1.
    pub expires: Option<u32>,
}

/// Every Contact of a message: `*`, or the elements of all Contact headers in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contacts<'a> {
    pub star: bool,
    pub list: Vec<ContactAddr<'a>>,
}

pub(crate) fn contacts<'a>(values: &[&'a str]) -> PResult<Contacts<'a>> {
    if values.len() == 1 && values[0].trim_matches([' ', '\t', '\r', '\n']) == "*" {
        return Ok(Contacts {
            star: true,
            list: Vec::new(),
        });
    }
    let list = list(values.iter().copied(), |cur| {
        if cur.peek() == Some(b'*') {
            return Err("'*' mixed with other contacts");
        }
        let addr = name_addr(cur, true)?;
        let q = match addr.params.get("q") {
            None => None,
            Some(v) => Some(qvalue(v.unwrap_or("")).ok_or("bad q")?),
        };
        let expires = match addr.params.get("expires") {
            None => None,
            Some(v) => Some(
                parse_u64_saturating(v.unwrap_or("").as_bytes(), u32::MAX.into())
                    .ok_or("bad expires")? as u32,
            ),
        };
        Ok(ContactAddr { addr, q, expires })
    })?;
    Ok(Contacts { star: false, list })
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn qvalue(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if b.is_empty()
        || !(int == "0" || int == "1")
        || frac.len() > 3
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut v: u16 = if int == "1" { 1000 } else { 0 };
    let mut scale = 100;
    for c in frac.bytes() {
        v += u16::from(c - b'0') * scale;
        scale /= 10;
    }
    (v <= 1000).then_some(v)
}

/// Route / Record-Route elements: name-addrs only.
pub(crate) fn routes<'a>(values: &[&'a str]) -> PResult<Vec<NameAddr<'a>>> {
    list(values.iter().copied(), |cur| name_addr(cur, false))
}

/// `CSeq: 1*DIGIT LWS Method`, the number at most 2^31-1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    pub seq: u32,
    pub method: &'a str,
}

pub(crate) fn cseq(v: &str) -> PResult<CSeq<'_>> {
    let mut cur = Cur::new(v);
    cur.lws();
    let n = cur.take_while(|c| c.is_ascii_digit());
    let seq = parse_u64(n.as_bytes(), (1 << 31) - 1).ok_or("bad sequence number")? as u32;
    if !cur.lws() {
        return Err("expected LWS after the number");
    }
    let method = cur.token();
    if method.is_empty() {
        return Err("missing method");
    }
    cur.lws();
    if !cur.at_end() {
        return Err("junk after method");
    }
    Ok(CSeq { seq, method })
}

/// Call-ID: one word without LWS. Any visible character is tolerated (RFC 3261's `word`
/// alphabet is narrower; real Call-IDs carry `=` and `/` and Kamailio takes them).
pub(crate) fn call_id(v: &str) -> PResult<&str> {
    let t = v.trim_matches([' ', '\t', '\r', '\n']);
    if t.is_empty() {
        return Err("empty");
    }
    if t.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("white space or control character");
    }
    Ok(t)
}

/// Max-Forwards: 1*DIGIT, value 0-255 (leading zeros allowed).
/// Max-Forwards: 1*DIGIT. Kamailio reads it as an unsigned short (maxfwd caps larger values
/// at `max_limit`), so up to 65535 is accepted, not only RFC 3261's usual 0-255.
pub(crate) fn max_forwards(v: &str) -> PResult<u16> {
    let t = v.trim_matches([' ', '\t', '\r', '\n']);
    parse_u64(t.as_bytes(), u16::MAX.into())
        .map(|v| v as u16)
        .ok_or("not a number 0-65535")
}

/// Content-Length: 1*DIGIT (checked when the message is framed).
pub(crate) fn content_length(v: &[u8]) -> Option<u32> {
    parse_u64(v, u32::MAX.into()).map(|v| v as u32)
}

/// Expires: delta-seconds, saturated at 2^32-1.
pub(crate) fn expires(v: &str) -> PResult<u32> {
    let t = v.trim_matches([' ', '\t', '\r', '\n']);
    parse_u64_saturating(t.as_bytes(), u32::MAX.into())
        .map(|v| v as u32)
        .ok_or("not a number")
}

/// `Content-Type: type/subtype;params`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentType<'a> {
    pub mtype: &'a str,
    pub subtype: &'a str,
    pub params: Params<'a>,
}

impl ContentType<'_> {
    /// Case-insensitive `type/subtype` comparison.
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }
}

pub(crate) fn content_type(v: &str) -> PResult<ContentType<'_>> {
    let mut cur = Cur::new(v);
    cur.lws();
    let mtype = cur.token();
    cur.lws();
    if mtype.is_empty() || !cur.eat(b'/') {
        return Err("expected type/subtype");
    }
    cur.lws();
    let subtype = cur.token();
    if subtype.is_empty() {
        return Err("expected subtype");
    }
    let params = header_params(&mut cur).map_err(|_| "bad parameter")?;
    cur.lws();
    if !cur.at_end() {
        return Err("junk after value");
    }
    Ok(ContentType {
        mtype,
        subtype,
        params,
    })
}

/// Option tags of Require / Proxy-Require / Supported across all their headers.
pub(crate) fn tokens<'a>(values: &[&'a str], allow_empty: bool) -> PResult<Vec<&'a str>> {
    if allow_empty
        && values
            .iter()
            .all(|v| v.trim_matches([' ', '\t', '\r', '\n']).is_empty())
    {
        return Ok(Vec::new());
    }
    list(values.iter().copied(), |cur| {
        let t = cur.token();
        if t.is_empty() {
            Err("expected an option tag")
        } else {
            Ok(t)
        }
    })
}

/// `Date: rfc1123-date` (`Sat, 13 Nov 2010 23:29:00 GMT`), strictly: GMT only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date<'a> {
    pub raw: &'a str,
    /// Seconds since the Unix epoch.
    pub unix: i64,
}

pub(crate) fn date(v: &str) -> PResult<Date<'_>> {
    const WK: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = v.trim_matches([' ', '\t', '\r', '\n']);
    let b = t.as_bytes();
    // "Www, DD Mmm YYYY HH:MM:SS GMT" is exactly 29 bytes.
    if b.len() != 29 || !b.is_ascii() {
        return Err("not an RFC 1123 date");
    }
    let num = |r: std::ops::Range<usize>| parse_u64(&b[r], 9999).ok_or("bad number");
    if !WK.contains(&&t[0..3]) || &t[3..5] != ", " || b[7] != b' ' || b[11] != b' ' || b[16] != b' '
    {
        return Err("not an RFC 1123 date");
    }
    if b[19] != b':' || b[22] != b':' || &t[25..] != " GMT" {
        return Err("not an RFC 1123 date in GMT");
    }
    let day = num(5..7)?;
    let mon = MON
        .iter()
        .position(|m| *m == &t[8..11])
        .ok_or("bad month")? as u64
        + 1;
    let year = num(12..16)?;
    let (h, m, s) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return Err("bad date");
    }
    let days = days_from_civil(year as i64, mon as i64, day as i64);
    Ok(Date {
        raw: t,
        unix: days * 86400 + (h * 3600 + m * 60 + s) as i64,
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}
