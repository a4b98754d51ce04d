//! Byte classes and a small cursor shared by the header and URI parsers.
//!
//! Every class test is one table lookup; nothing here allocates.

/// RFC 3261 `token` characters: alphanum and `-.!%*_+`'~`.
pub(crate) const TOKEN: u8 = 1;
/// `unreserved`: alphanum and mark `-_.!~*'()`.
pub(crate) const UNRESERVED: u8 = 2;
/// Characters allowed unescaped in a SIP URI user part besides unreserved: `&=+$,;?/`.
pub(crate) const USER: u8 = 4;
/// Characters allowed unescaped in a password besides unreserved: `&=+$,`.
pub(crate) const PASSWORD: u8 = 8;
/// `param-unreserved`: `[]/:&+$` (URI parameters, besides unreserved).
pub(crate) const PARAM: u8 = 16;
/// `hnv-unreserved`: `[]/?:+$` (URI headers, besides unreserved).
pub(crate) const HNV: u8 = 32;
/// `reserved`: `;/?:@&=+$,` (opaque parts of absolute URIs, besides unreserved).
pub(crate) const RESERVED: u8 = 64;
/// Host name characters: alphanum, `-`, `.`, and `_` (tolerated as Kamailio does).
pub(crate) const HOST: u8 = 128;

const fn build() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let alnum = b.is_ascii_alphanumeric();
        let mut v = 0u8;
        if alnum
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            )
        {
            v |= TOKEN;
        }
        if alnum
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            )
        {
            v |= UNRESERVED;
        }
        if matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/') {
            v |= USER;
        }
        if matches!(b, b'&' | b'=' | b'+' | b'$' | b',') {
            v |= PASSWORD;
        }
        if matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$') {
            v |= PARAM;
        }
        if matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$') {
            v |= HNV;
        }
        if matches!(
            b,
            b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b','
        ) {
            v |= RESERVED;
        }
        if alnum || matches!(b, b'-' | b'.' | b'_') {
            v |= HOST;
        }
        t[c] = v;
        c += 1;
    }
    t
}

pub(crate) static CLASS: [u8; 256] = build();

#[inline]
pub(crate) fn is(b: u8, class: u8) -> bool {
    CLASS[b as usize] & class != 0
}

#[inline]
pub(crate) fn is_token(b: u8) -> bool {
    is(b, TOKEN)
}

/// Linear white space inside a header value: folding has already been checked when the
/// header was cut, so a CR or LF inside a value is always part of `LWS`.
#[inline]
pub(crate) fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

#[inline]
pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses an unsigned decimal of 1+ digits; `None` on an empty string, a non-digit or an
/// overflow past `max`. Leading zeros are allowed (`0068` is 68).
pub(crate) fn parse_u64(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if v > max {
            return None;
        }
    }
    Some(v)
}

/// Like [`parse_u64`] but saturating at `max` instead of failing (delta-seconds).
pub(crate) fn parse_u64_saturating(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(parse_u64(s, max).unwrap_or(max))
}

/// A cursor over a `&str` that only ever stops on ASCII bytes, so every slice it hands out
/// is on a char boundary.
#[derive(Clone, Copy)]
pub(crate) struct Cur<'a> {
    pub s: &'a str,
    pub pos: usize,
}

impl<'a> Cur<'a> {
    pub fn new(s: &'a str) -> Self {
        Cur { s, pos: 0 }
    }
    #[inline]
    pub fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }
    #[inline]
    pub fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    #[inline]
    pub fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// Skips LWS; returns whether any was skipped.
    #[inline]
    pub fn lws(&mut self) -> bool {
        let start = self.pos;
        let b = self.bytes();
        while self.pos < b.len() && is_lws(b[self.pos]) {
            self.pos += 1;
        }
        self.pos > start
    }
    /// Consumes bytes while `f` holds; returns the consumed slice (maybe empty).
    #[inline]
    pub fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let b = self.bytes();
        while self.pos < b.len() && f(b[self.pos]) {
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }
    #[inline]
    pub fn token(&mut self) -> &'a str {
        self.take_while(is_token)
    }
    /// A slice of the source; empty if the bounds are not char boundaries (they always are
    /// when the cursor only stopped on ASCII, but input is hostile).
    #[inline]
    pub fn slice(&self, a: usize, b: usize) -> &'a str {
        self.s.get(a..b).unwrap_or("")
    }
    pub fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    /// A quoted string starting at the cursor (which must be on `"`): returns it with its
    /// quotes. qdtext is LWS, %x21, %x23-5B, %x5D-7E or UTF-8 non-ASCII; quoted-pair is `\`
    /// followed by any ASCII byte but CR and LF.
    pub fn quoted(&mut self) -> Option<&'a str> {
        let start = self.pos;
        if !self.eat(b'"') {
            return None;
        }
        let b = self.bytes();
        while self.pos < b.len() {
            match b[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return Some(self.slice(start, self.pos));
                }
                b'\\' => {
                    let n = *b.get(self.pos + 1)?;
                    if n >= 0x80 || n == b'\r' || n == b'\n' {
                        return None;
                    }
                    self.pos += 2;
                }
                b' ' | b'\t' | b'\r' | b'\n' | 0x21..=0x7e | 0x80..=0xff => self.pos += 1,
                _ => return None,
            }
        }
        None
    }
}

/// Removes the quotes and quoted-pair escapes of a quoted string (or returns a token
/// sequence unchanged).
pub(crate) fn unquote(s: &str) -> std::borrow::Cow<'_, str> {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return std::borrow::Cow::Borrowed(s);
    };
    if !inner.contains('\\') {
        return std::borrow::Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Position of `c` in `b`: a plain loop for short inputs (URIs, parameters), where
/// `memchr`'s setup costs more than it saves.
#[inline]
pub(crate) fn find(b: &[u8], c: u8) -> Option<usize> {
    if b.len() < 48 {
        b.iter().position(|&x| x == c)
    } else {
        memchr::memchr(c, b)
    }
}
