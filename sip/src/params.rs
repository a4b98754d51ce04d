//! `;name=value` parameter lists, validated once and kept as a raw slice; looked up by
//! scanning (parameter lists are short, so this beats building a map).

use super::scan::{find, is, is_lws, is_token, Cur, HNV, PARAM, UNRESERVED};

/// A validated parameter list: the text after the first `;` (header parameters may contain
/// LWS around `;` and `=`; URI parameters never do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params<'a> {
    raw: &'a str,
}

impl<'a> Params<'a> {
    /// The raw text after the first `;` (empty if there were no parameters).
    pub fn raw(&self) -> &'a str {
        self.raw
    }
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
    /// Every parameter as `(name, value)`; a value keeps its quotes if it was quoted.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter::new(self.raw, b';')
    }
    /// `None` if absent; `Some(None)` for a parameter without value (`;lr`).
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Iterator over a [`Params`], or over any `name[=value]` list.
#[derive(Clone)]
pub struct ParamIter<'a> {
    rest: &'a str,
    sep: u8,
}

impl<'a> ParamIter<'a> {
    /// Iterates `raw` as written, unvalidated, split on `sep` outside quoted strings (`;`
    /// for SIP parameters; the `{param.*}` transformations also take `&` and others).
    pub fn new(raw: &'a str, sep: u8) -> Self {
        ParamIter { rest: raw, sep }
    }
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a str, Option<&'a str>);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            // Split on the first separator outside a quoted string.
            let b = self.rest.as_bytes();
            let mut i = 0;
            let mut inq = false;
            while i < b.len() {
                match b[i] {
                    b'\\' if inq => i += 1,
                    b'"' => inq = !inq,
                    c if c == self.sep && !inq => break,
                    _ => {}
                }
                i += 1;
            }
            let i = i.min(b.len());
            let piece = &self.rest[..i];
            self.rest = self.rest.get(i + 1..).unwrap_or("");
            let piece = piece.trim_matches(|c: char| c.is_ascii() && is_lws(c as u8));
            if piece.is_empty() {
                continue;
            }
            return Some(match find(piece.as_bytes(), b'=') {
                Some(eq) => (
                    piece[..eq].trim_end_matches(|c: char| c.is_ascii() && is_lws(c as u8)),
                    Some(
                        piece[eq + 1..]
                            .trim_start_matches(|c: char| c.is_ascii() && is_lws(c as u8)),
                    ),
                ),
                None => (piece, None),
            });
        }
    }
}

#[inline]
fn gen_value_char(b: u8) -> bool {
    // token / host (IPv4, IPv6 reference, and the unbracketed IPv6 `received` RFC 5118
    // §4.5 tolerates) — so also ':', '[' and ']'.
    is_token(b) || matches!(b, b':' | b'[' | b']')
}

/// Parses `*( LWS ";" LWS name [ LWS "=" LWS value ] )` at the cursor, stopping before
/// anything that is not a `;` (a `,`, a `>`, or the end). An empty name (`;;`) or an empty
/// value after `=` is an error.
pub(crate) fn header_params<'a>(cur: &mut Cur<'a>) -> Result<Params<'a>, ()> {
    header_params_with(cur, |_, _| Ok(()))
}

/// [`header_params`], calling `on(name, value)` for each parameter as it is read (so that
/// callers pick out `tag` or `branch` without scanning the list again).
pub(crate) fn header_params_with<'a>(
    cur: &mut Cur<'a>,
    mut on: impl FnMut(&'a str, Option<&'a str>) -> Result<(), ()>,
) -> Result<Params<'a>, ()> {
    let save = cur.pos;
    cur.lws();
    if cur.peek() != Some(b';') {
        cur.pos = save;
        return Ok(Params::default());
    }
    cur.pos += 1;
    let start = cur.pos;
    let mut end;
    loop {
        cur.lws();
        let name = cur.token();
        if name.is_empty() {
            return Err(());
        }
        end = cur.pos;
        let before = cur.pos;
        cur.lws();
        let mut value = None;
        if cur.eat(b'=') {
            cur.lws();
            let vs = cur.pos;
            if cur.peek() == Some(b'"') {
                cur.quoted().ok_or(())?;
            } else if cur.take_while(gen_value_char).is_empty() {
                return Err(());
            }
            value = Some(cur.slice(vs, cur.pos));
            end = cur.pos;
        } else {
            cur.pos = before;
        }
        on(name, value)?;
        let before = cur.pos;
        cur.lws();
        if !cur.eat(b';') {
            cur.pos = before;
            break;
        }
    }
    Ok(Params {
        raw: cur.slice(start, end),
    })
}

/// Counts the leading characters of `b` in `class` or unreserved, `%HH` escapes included.
/// Returns `None` on a malformed escape.
pub(crate) fn span_escaped(b: &[u8], class: u8) -> Option<usize> {
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if is(c, class | UNRESERVED) {
            i += 1;
        } else if c == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return None;
            }
            i += 3;
        } else {
            break;
        }
    }
    Some(i)
}

/// Validates URI parameters `name[=value](;name[=value])*` (the text after the first `;`).
pub(crate) fn uri_params(s: &str) -> Result<Params<'_>, ()> {
    for p in s.split(';') {
        let (n, v) = match find(p.as_bytes(), b'=') {
            Some(eq) => (&p[..eq], Some(&p[eq + 1..])),
            None => (p, None),
        };
        let nb = n.as_bytes();
        if nb.is_empty() || span_escaped(nb, PARAM) != Some(nb.len()) {
            return Err(());
        }
        if let Some(v) = v {
            let vb = v.as_bytes();
            if vb.is_empty() || span_escaped(vb, PARAM) != Some(vb.len()) {
                return Err(());
            }
        }
    }
    Ok(Params { raw: s })
}

/// Validates URI headers `hname=hvalue(&hname=hvalue)*` (the text after `?`).
pub(crate) fn uri_headers(s: &str) -> Result<(), ()> {
    for h in s.split('&') {
        let (n, v) = h.split_once('=').ok_or(())?;
        let nb = n.as_bytes();
        if nb.is_empty() || span_escaped(nb, HNV) != Some(nb.len()) {
            return Err(());
        }
        if span_escaped(v.as_bytes(), HNV) != Some(v.len()) {
            return Err(());
        }
    }
    Ok(())
}
