//! avpops' parameter syntax, read at each call (sipvm's arguments are literal strings; the
//! texts are short): AVP names, pseudo-variables named in the text, flags, operator values,
//! and the sed-like substitutions of `avp_subst`.
//!
//! AVPs are the message's `ctx.avps` (the core's `$avp` storage: the newest value of a name
//! last), so what avpops does is seen by `$avp(...)` and carried by tm like any AVP. Names are
//! kept as written inside `$avp(...)`, as the core's `$avp` keeps them.

use crate::host::Ctx;
use sipvm_vm::{PvIdx, PvKey, Value};
use std::sync::Arc;

/// What a parameter names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// `$avp(name)`, or `$(avp(name)[n])` with an index counted from the newest.
    Avp { name: String, index: Option<i64> },
    /// Any other pseudo-variable: `$rd`, `$hdr(From)`.
    Pv {
        class: String,
        inner: Option<String>,
    },
}

/// `$class`, `$class(inner)` or `$(class(inner)[i])` at the start of `s`; what follows.
pub fn operand(s: &str) -> Result<(Operand, &str), String> {
    let body = s
        .strip_prefix('$')
        .ok_or_else(|| format!("expected a pseudo-variable in \"{s}\""))?;
    let (inner_text, rest, index) = if let Some(b) = body.strip_prefix('(') {
        // `$(avp(x)[2])`
        let close = matching(b, 0).ok_or_else(|| format!("unclosed ( in \"{s}\""))?;
        let whole = &b[..close];
        let (pv, idx) = match whole.rfind('[') {
            Some(i) if whole.ends_with(']') => (&whole[..i], Some(&whole[i + 1..whole.len() - 1])),
            _ => (whole, None),
        };
        let index = match idx {
            None => None,
            // `[*]` (all): where avpops takes an index it then looks at the newest value.
            Some("*") => Some(0),
            Some(t) => Some(
                t.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("index \"{t}\" is not a number in \"{s}\""))?,
            ),
        };
        (pv, &b[close + 1..], index)
    } else {
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(body.len());
        let end = if body[end..].starts_with('(') {
            end + 1
                + matching(&body[end + 1..], 0).ok_or_else(|| format!("unclosed ( in \"{s}\""))?
                + 1
        } else {
            end
        };
        (&body[..end], &body[end..], None)
    };
    let (class, inner) = match inner_text.find('(') {
        Some(i) if inner_text.ends_with(')') => (
            &inner_text[..i],
            Some(inner_text[i + 1..inner_text.len() - 1].to_string()),
        ),
        _ => (inner_text, None),
    };
    if class.is_empty() {
        return Err(format!("no pseudo-variable name in \"{s}\""));
    }
    let op = match (class, inner) {
        // Kamailio takes `$avp($var(x))`; sipvm's natives cannot read `$var`.
        ("avp", Some(name)) if name.starts_with('$') => {
            return Err(format!(
                "AVP names from pseudo-variables are not supported by sipvm yet, in \"{s}\""
            ))
        }
        ("avp", Some(name)) => Operand::Avp { name, index },
        ("xavp" | "xavi" | "xavu", _) => {
            return Err(format!(
                "avpops on {class} is not supported by sipvm yet, in \"{s}\""
            ))
        }
        ("avp", None) => return Err(format!("$avp needs a name in \"{s}\"")),
        (c, inner) => {
            if index.is_some() {
                return Err(format!("indexes are supported on $avp only, in \"{s}\""));
            }
            Operand::Pv {
                class: c.to_string(),
                inner,
            }
        }
    };
    Ok((op, rest))
}

/// The index of the `)` closing an already-open `(` in `s`.
fn matching(s: &str, from: usize) -> Option<usize> {
    let mut depth = 1;
    for (i, c) in s[from..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(from + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A whole parameter that must be one `$avp(name)`.
pub fn avp_name(s: &str) -> Result<String, String> {
    match operand(s)? {
        (Operand::Avp { name, .. }, "") => Ok(name),
        (Operand::Avp { .. }, rest) => Err(format!("unexpected \"{rest}\" after the AVP")),
        _ => Err(format!("bad attribute name <{s}>: expected $avp(name)")),
    }
}

/// `text` split at its first `/` (Kamailio's `strchr(s, '/')`).
pub fn split_flags(text: &str) -> (&str, Option<&str>) {
    match text.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    }
}

/// The values of AVP `name`, newest first, with their positions in `ctx.avps`.
pub fn values(ctx: &Ctx<'_>, name: &str) -> Vec<(usize, Value)> {
    ctx.avps
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, (n, _))| &**n == name)
        .map(|(i, (_, v))| (i, v.clone()))
        .collect()
}

/// Adds a value to AVP `name` (it becomes the newest).
pub fn add(ctx: &mut Ctx<'_>, name: &str, v: Value) {
    ctx.avps.push((Arc::from(name), v));
}

/// Removes the AVPs at `positions` of `ctx.avps`.
pub fn remove(ctx: &mut Ctx<'_>, positions: &[usize]) {
    let mut i = 0;
    ctx.avps.retain(|_| {
        let keep = !positions.contains(&i);
        i += 1;
        keep
    });
}

/// The pseudo-variable class `class` as the registry binds it: the first module that
/// implements a getter for it. `$var`, `$xavp` and the `$T_req(...)`-like classes are not
/// reachable from a native.
fn class_id(class: &str, shared: &crate::host::Shared) -> Option<u16> {
    shared
        .registry
        .pv_classes()
        .find(|(id, _, p)| {
            p.name == class
                && p.form != sipvm_lang::registry::PvForm::OfMessage
                && shared.pv_get(*id).is_some()
        })
        .map(|(id, _, _)| id)
}

/// Reads a pseudo-variable named in a parameter.
pub fn read(ctx: &mut Ctx<'_>, op: &Operand) -> Result<Value, String> {
    match op {
        Operand::Avp { name, index } => {
            let vals = values(ctx, name);
            let i = index.unwrap_or(0);
            let i = if i < 0 { vals.len() as i64 + i } else { i };
            Ok(usize::try_from(i)
                .ok()
                .and_then(|i| vals.get(i))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null))
        }
        Operand::Pv { class, inner } => {
            let id = class_id(class, ctx.shared).ok_or_else(|| {
                format!("${class} cannot be read by avpops in sipvm (only $avp and the message's pseudo-variables)")
            })?;
            let get = ctx.shared.pv_get(id).ok_or("no getter")?;
            let key = PvKey {
                pv: PvIdx(0),
                name: inner.as_deref(),
                index: None,
            };
            get(ctx, key).map_err(|e| e.0)
        }
    }
}

/// Writes a pseudo-variable by class name (`$rU`, `$rd`): avp_pushto's destinations.
pub fn write(ctx: &mut Ctx<'_>, class: &str, v: Value) -> Result<(), String> {
    let id = ctx
        .shared
        .registry
        .pv_classes()
        .find(|(id, _, p)| p.name == class && ctx.shared.pv_set(*id).is_some())
        .map(|(id, _, _)| id)
        .ok_or_else(|| format!("${class} cannot be set"))?;
    let set = ctx.shared.pv_set(id).ok_or("no setter")?;
    let key = PvKey {
        pv: PvIdx(0),
        name: None,
        index: None,
    };
    set(ctx, key, v).map_err(|e| e.0)
}

/// A fixed value: `i:N` (decimal or `0x` hex), `s:text`, or text.
pub fn fixed(s: &str) -> Result<Value, String> {
    if let Some(n) = s.strip_prefix("i:").or_else(|| s.strip_prefix("I:")) {
        let n = n.trim();
        let v = match n.strip_prefix("0x").or_else(|| n.strip_prefix("0X")) {
            Some(h) => i64::from_str_radix(h, 16).ok(),
            None => n.parse::<i64>().ok(),
        };
        return v
            .map(Value::Int)
            .ok_or_else(|| format!("value \"{n}\" is not an integer"));
    }
    let t = s
        .strip_prefix("s:")
        .or_else(|| s.strip_prefix("S:"))
        .unwrap_or(s);
    Ok(Value::Str(Arc::from(t)))
}

/// The value part of `op/value/flags`: a pseudo-variable or a fixed value, and the flags.
pub enum OpValue {
    Pv(Operand),
    Fixed(Value),
}

/// `op/value[/flags]`: the operator (2 or 3 letters, checked by the caller), the value and
/// the flag letters.
pub fn op_value(s: &str) -> Result<(String, OpValue, String), String> {
    let (op, rest) = s
        .split_once('/')
        .filter(|(op, _)| op.len() == 2 || op.len() == 3)
        .ok_or_else(|| format!("parse error in <{s}>"))?;
    if rest.is_empty() {
        return Err(format!("parse error in <{s}>: no value"));
    }
    let (val, flags) = if rest.starts_with('$') {
        let (o, after) = operand(rest)?;
        (OpValue::Pv(o), after)
    } else {
        let end = rest.find('/').unwrap_or(rest.len());
        (OpValue::Fixed(fixed(&rest[..end])?), &rest[end..])
    };
    let flags = match flags {
        "" => "",
        f => f
            .strip_prefix('/')
            .filter(|f| !f.is_empty())
            .ok_or_else(|| format!("parse error in <{s}>: flags"))?,
    };
    Ok((op.to_ascii_lowercase(), val, flags.to_string()))
}

/// fnmatch(3) without flags but case folding: `*`, `?`, `[...]` (with `!`/`^` and ranges),
/// `\` escaping the next character.
pub fn fnmatch(pat: &[u8], s: &[u8], fold: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if fold {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        let step = if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' => Some(p + 1),
                b'[' => class(pat, p, s[i], fold),
                b'\\' if p + 1 < pat.len() => eq(pat[p + 1], s[i]).then_some(p + 2),
                c => eq(c, s[i]).then_some(p + 1),
            }
        } else {
            None
        };
        match step {
            Some(np) => {
                p = np;
                i += 1;
            }
            None => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// A `[...]` class at `pat[p]` against `c`: the index after it when it matches.
fn class(pat: &[u8], p: usize, c: u8, fold: bool) -> Option<usize> {
    let mut j = p + 1;
    let neg = matches!(pat.get(j), Some(b'!' | b'^'));
    if neg {
        j += 1;
    }
    let c = if fold { c.to_ascii_lowercase() } else { c };
    let mut hit = false;
    let mut first = true;
    while j < pat.len() && (first || pat[j] != b']') {
        first = false;
        let lo = if fold {
            pat[j].to_ascii_lowercase()
        } else {
            pat[j]
        };
        if j + 2 < pat.len() && pat[j + 1] == b'-' && pat[j + 2] != b']' {
            let hi = if fold {
                pat[j + 2].to_ascii_lowercase()
            } else {
                pat[j + 2]
            };
            hit |= lo <= c && c <= hi;
            j += 3;
        } else {
            hit |= lo == c;
            j += 1;
        }
    }
    // No closing bracket: `[` is an ordinary character.
    if j >= pat.len() {
        return (c == b'[').then_some(p + 1);
    }
    (hit != neg).then_some(j + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands() {
        let (o, r) = operand("$avp(i:678)/g").unwrap();
        assert_eq!(
            o,
            Operand::Avp {
                name: "i:678".into(),
                index: None
            }
        );
        assert_eq!(r, "/g");
        let (o, r) = operand("$(avp(x)[2])").unwrap();
        assert_eq!(
            o,
            Operand::Avp {
                name: "x".into(),
                index: Some(2)
            }
        );
        assert_eq!(r, "");
        let (o, r) = operand("$hdr(From)/x").unwrap();
        assert_eq!(
            o,
            Operand::Pv {
                class: "hdr".into(),
                inner: Some("From".into())
            }
        );
        assert_eq!(r, "/x");
        let (o, r) = operand("$rd").unwrap();
        assert_eq!(
            o,
            Operand::Pv {
                class: "rd".into(),
                inner: None
            }
        );
        assert_eq!(r, "");
        assert!(operand("avp(x)").is_err());
        assert!(operand("$avp(x").is_err());
    }

    #[test]
    fn op_values() {
        let (op, v, f) = op_value("lt/i:0x10/g").unwrap();
        assert_eq!((op.as_str(), f.as_str()), ("lt", "g"));
        assert!(matches!(v, OpValue::Fixed(Value::Int(16))));
        let (_, v, f) = op_value("re/sip:.*@bar.net").unwrap();
        assert!(matches!(v, OpValue::Fixed(Value::Str(s)) if &*s == "sip:.*@bar.net"));
        assert_eq!(f, "");
        let (_, v, f) = op_value("eq/$td/I").unwrap();
        assert!(matches!(v, OpValue::Pv(Operand::Pv { .. })));
        assert_eq!(f, "I");
        assert!(op_value("equal/1").is_err());
        assert!(op_value("eq/").is_err());
        assert!(op_value("eq/i:x").is_err());
    }

    #[test]
    fn fnmatch_as_libc() {
        assert!(fnmatch(b"*@bar.net", b"sip:a@bar.net", false));
        assert!(!fnmatch(b"*@bar.net", b"sip:a@BAR.net", false));
        assert!(fnmatch(b"*@bar.net", b"sip:a@BAR.net", true));
        assert!(fnmatch(b"a?c", b"abc", false));
        assert!(fnmatch(b"[a-c]x[!y]", b"bxz", false));
        assert!(!fnmatch(b"[a-c]x[!y]", b"bxy", false));
        assert!(fnmatch(b"", b"", false));
        assert!(!fnmatch(b"a", b"", false));
        assert!(fnmatch(b"a*b*c", b"aXXbYYc", false));
    }
}
