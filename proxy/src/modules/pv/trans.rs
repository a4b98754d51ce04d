//! pv's transformations (`$(ru{uri.user})`, `{s.substr,1,3}`), following Kamailio 5.6's pv
//! module; observed behaviour in `docs/semantics.md` (T1..). The compiler resolves each
//! `{class.op}` to its function in [`TRANSFORMS`], so nothing is looked up by name at run
//! time. The VM never passes a null input (it reads as null, T2) and turns an error into a
//! null value (T1). URIs, name-addrs and parameter lists go through `sipvm_sip`'s parsers.

use sipvm_lang::registry::{TransDecl, TransFn};
use sipvm_sip::{NameAddr, ParamIter, Uri};
use sipvm_vm::value::parse_int;
use sipvm_vm::Value;

type R = Result<Value, String>;

const fn t(class: &'static str, op: &'static str, min: u8, max: u8, f: TransFn) -> TransDecl {
    TransDecl {
        class,
        op,
        min_args: min,
        max_args: max,
        f,
    }
}

/// Every transformation sipvm implements, declared by the pv module.
#[rustfmt::skip]
pub const TRANSFORMS: &[TransDecl] = &[
    t("s", "len", 0, 0, |v, _| Ok(Value::Int(v.to_str().len() as i64))),
    t("s", "int", 0, 0, |v, _| Ok(Value::Int(parse_int(&v.to_str()).ok_or("not an integer")?))),
    t("s", "substr", 2, 2, substr),
    t("s", "select", 2, 2, select),
    t("s", "tolower", 0, 0, |v, _| Ok(s(&v.to_str().to_ascii_lowercase()))),
    t("s", "toupper", 0, 0, |v, _| Ok(s(&v.to_str().to_ascii_uppercase()))),
    t("s", "strip", 1, 1, |v, a| strip(v, a, true)),
    t("s", "striptail", 1, 1, |v, a| strip(v, a, false)),
    t("s", "stripto", 1, 1, stripto),
    t("s", "prefixes", 0, 1, prefixes),
    t("s", "encode.hexa", 0, 0, encode_hexa),
    t("s", "decode.hexa", 0, 0, decode_hexa),
    t("s", "trim", 0, 0, |v, _| Ok(s(v.to_str().trim_matches(is_ws)))),
    t("s", "rtrim", 0, 0, |v, _| Ok(s(v.to_str().trim_end_matches(is_ws)))),
    t("s", "ltrim", 0, 0, |v, _| Ok(s(v.to_str().trim_start_matches(is_ws)))),
    t("s", "rm", 1, 1, |v, a| replace(v, &str_arg(a, 0)?, "")),
    t("s", "replace", 2, 2, |v, a| replace(v, &str_arg(a, 0)?, &str_arg(a, 1)?)),
    t("uri", "user", 0, 0, |v, a| uri(v, a, UriPart::User)),
    t("uri", "host", 0, 0, |v, a| uri(v, a, UriPart::Host)),
    t("uri", "passwd", 0, 0, |v, a| uri(v, a, UriPart::Passwd)),
    t("uri", "port", 0, 0, |v, a| uri(v, a, UriPart::Port)),
    t("uri", "params", 0, 0, |v, a| uri(v, a, UriPart::Params)),
    t("uri", "param", 1, 1, |v, a| uri(v, a, UriPart::ParamArg)),
    t("uri", "headers", 0, 0, |v, a| uri(v, a, UriPart::Headers)),
    t("uri", "transport", 0, 0, |v, a| uri(v, a, UriPart::Param("transport"))),
    t("uri", "ttl", 0, 0, |v, a| uri(v, a, UriPart::Param("ttl"))),
    t("uri", "uparam", 0, 0, |v, a| uri(v, a, UriPart::Param("user"))),
    t("uri", "maddr", 0, 0, |v, a| uri(v, a, UriPart::Param("maddr"))),
    t("uri", "method", 0, 0, |v, a| uri(v, a, UriPart::Param("method"))),
    t("uri", "lr", 0, 0, |v, a| uri(v, a, UriPart::Param("lr"))),
    t("uri", "r2", 0, 0, |v, a| uri(v, a, UriPart::Param("r2"))),
    t("uri", "scheme", 0, 0, |v, a| uri(v, a, UriPart::Scheme)),
    t("param", "value", 1, 2, param_value),
    t("param", "valueat", 1, 2, |v, a| param_at(v, a, false)),
    t("param", "name", 1, 2, |v, a| param_at(v, a, true)),
    t("param", "in", 1, 2, param_in),
    t("param", "count", 0, 1, |v, a| Ok(Value::Int(params(&v.to_str(), a, 0)?.len() as i64))),
    t("nameaddr", "name", 0, 0, |v, _| nameaddr(v, NaPart::Name)),
    t("nameaddr", "uri", 0, 0, |v, _| nameaddr(v, NaPart::Uri)),
    t("nameaddr", "len", 0, 0, |v, _| nameaddr(v, NaPart::Len)),
    t("tobody", "uri", 0, 0, |v, _| tobody(v, ToPart::Uri)),
    t("tobody", "display", 0, 0, |v, _| tobody(v, ToPart::Display)),
    t("tobody", "tag", 0, 0, |v, _| tobody(v, ToPart::Tag)),
    t("tobody", "user", 0, 0, |v, _| tobody(v, ToPart::User)),
    t("tobody", "host", 0, 0, |v, _| tobody(v, ToPart::Host)),
    t("tobody", "params", 0, 0, |v, _| tobody(v, ToPart::Params)),
];

fn s(x: &str) -> Value {
    Value::str(x)
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn int_arg(args: &[Value], i: usize) -> Result<i64, String> {
    let a = args
        .get(i)
        .ok_or_else(|| format!("missing argument {}", i + 1))?;
    a.try_int()
        .ok_or_else(|| format!("argument {} is not an integer", i + 1))
}

fn str_arg(args: &[Value], i: usize) -> Result<String, String> {
    args.get(i)
        .map(|a| a.to_str().into_owned())
        .ok_or_else(|| format!("missing argument {}", i + 1))
}

// ---- s.* ----

fn substr(v: &Value, args: &[Value]) -> R {
    let x = v.to_str();
    let len = x.len() as i64;
    let (mut i, j) = (int_arg(args, 0)?, int_arg(args, 1)?);
    if j < 0 {
        return Err("substr negative length".into());
    }
    if i < 0 {
        if -i > len {
            return Err("substr out of range".into());
        }
        i += len;
    }
    if i >= len {
        return Err("substr out of range".into());
    }
    let end = if j == 0 || i + j >= len { len } else { i + j };
    Ok(s(x
        .get(i as usize..end as usize)
        .ok_or("substr splits a character")?))
}

fn select(v: &Value, args: &[Value]) -> R {
    let x = v.to_str();
    let i = int_arg(args, 0)?;
    let sep = str_arg(args, 1)?;
    let sep = sep.chars().next().ok_or("empty separator")?;
    let parts: Vec<&str> = x.split(sep).collect();
    let k = if i < 0 { parts.len() as i64 + i } else { i };
    // Out of range gives "" (T3).
    Ok(s(usize::try_from(k)
        .ok()
        .and_then(|k| parts.get(k))
        .unwrap_or(&"")))
}

/// `s.strip` (from the front) and `s.striptail`; more than the length gives "" (T3).
fn strip(v: &Value, args: &[Value], front: bool) -> R {
    let x = v.to_str();
    let n = int_arg(args, 0)?.clamp(0, x.len() as i64) as usize;
    let r = if front {
        x.get(n..)
    } else {
        x.get(..x.len() - n)
    };
    Ok(s(r.ok_or("strip splits a character")?))
}

fn stripto(v: &Value, args: &[Value]) -> R {
    let x = v.to_str();
    let c = str_arg(args, 0)?;
    // Not found gives "" (T3).
    Ok(match x.find(&*c) {
        Some(p) if !c.is_empty() => s(&x[p..]),
        _ => s(""),
    })
}

fn prefixes(v: &Value, args: &[Value]) -> R {
    let x = v.to_str();
    let len = x.len() as i64;
    let n = if args.is_empty() {
        len
    } else {
        int_arg(args, 0)?.min(len)
    };
    let mut out = String::new();
    for (k, _) in x
        .char_indices()
        .skip(1)
        .chain([(x.len(), ' ')])
        .take(n.max(0) as usize)
    {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(&x[..k]);
    }
    Ok(s(&out))
}

fn encode_hexa(v: &Value, _: &[Value]) -> R {
    use std::fmt::Write;
    let x = v.to_str();
    let mut out = String::with_capacity(x.len() * 2);
    for b in x.bytes() {
        let _ = write!(out, "{b:02x}");
    }
    Ok(s(&out))
}

fn decode_hexa(v: &Value, _: &[Value]) -> R {
    let x = v.to_str();
    let b = x.as_bytes();
    if b.len() & 1 == 1 {
        return Err("odd hexa length".into());
    }
    let bytes = b
        .chunks(2)
        .map(|c| {
            std::str::from_utf8(c)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or("invalid hexa")?;
    Ok(s(
        &String::from_utf8(bytes).map_err(|_| "decoded bytes are not UTF-8")?
    ))
}

/// `s.rm` and `s.replace`; an empty pattern leaves the input as it is.
fn replace(v: &Value, from: &str, to: &str) -> R {
    let x = v.to_str();
    Ok(match from.is_empty() {
        true => s(&x),
        false => s(&x.replace(from, to)),
    })
}

// ---- uri.* ----

#[derive(Clone, Copy)]
enum UriPart {
    User,
    Host,
    Passwd,
    Port,
    Params,
    /// The parameter named by argument 1.
    ParamArg,
    Param(&'static str),
    Headers,
    Scheme,
}

fn uri(v: &Value, args: &[Value], part: UriPart) -> R {
    let x = v.to_str();
    let u = Uri::parse(x.trim_matches(is_ws)).map_err(|e| e.to_string())?;
    // An absent part or parameter, or a parameter without value, gives "" (T3).
    let param = |name: &str| u.param(name).flatten().unwrap_or("");
    Ok(s(match part {
        UriPart::User => u.user().unwrap_or(""),
        UriPart::Host => u.host(),
        UriPart::Passwd => u.password().unwrap_or(""),
        UriPart::Port => u.port_str(),
        UriPart::Params => u.params().raw(),
        UriPart::ParamArg => param(&str_arg(args, 0)?),
        UriPart::Param(name) => param(name),
        UriPart::Headers => u.headers().unwrap_or(""),
        UriPart::Scheme => u.scheme_str(),
    }))
}

// ---- param.* ----

/// The separator given as argument `i` (`;` when absent); one ASCII character.
fn sep_arg(args: &[Value], i: usize) -> Result<u8, String> {
    let Some(v) = args.get(i) else {
        return Ok(b';');
    };
    match v.to_str().as_bytes().first() {
        Some(&b) if b.is_ascii() => Ok(b),
        Some(_) => Err("separator is not an ASCII character".into()),
        None => Err("empty separator".into()),
    }
}

/// The list's `(name, value)` pairs, separator from argument `sep_at`, quotes removed from
/// values.
fn params<'a>(
    x: &'a str,
    args: &[Value],
    sep_at: usize,
) -> Result<Vec<(&'a str, Option<&'a str>)>, String> {
    let unquote = |v: &'a str| {
        v.strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v)
    };
    Ok(ParamIter::new(x, sep_arg(args, sep_at)?)
        .map(|(n, v)| (n, v.map(unquote)))
        .collect())
}

fn param_value(v: &Value, args: &[Value]) -> R {
    let x = v.to_str();
    let name = str_arg(args, 0)?;
    let ps = params(&x, args, 1)?;
    let p = ps.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name));
    Ok(s(p.and_then(|(_, v)| *v).unwrap_or("")))
}

/// `param.valueat` / `param.name` (`name`): the parameter at an index, negative from the
/// end; out of range gives "" (T3).
fn param_at(v: &Value, args: &[Value], name: bool) -> R {
    let x = v.to_str();
    let ps = params(&x, args, 1)?;
    let i = int_arg(args, 0)?;
    let k = if i < 0 { ps.len() as i64 + i } else { i };
    let p = usize::try_from(k).ok().and_then(|k| ps.get(k));
    Ok(s(match (p, name) {
        (Some((n, _)), true) => n,
        (Some((_, v)), false) => v.unwrap_or(""),
        (None, _) => "",
    }))
}

fn param_in(v: &Value, args: &[Value]) -> R {
    let x = v.to_str();
    let name = str_arg(args, 0)?;
    let ps = params(&x, args, 1)?;
    Ok(Value::Int(
        ps.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) as i64,
    ))
}

// ---- nameaddr.* and tobody.* ----

#[derive(Clone, Copy)]
enum NaPart {
    Name,
    Uri,
    Len,
}

fn nameaddr(v: &Value, part: NaPart) -> R {
    let x = v.to_str();
    let na = NameAddr::parse(&x).map_err(|e| e.to_string())?;
    // Without `<` the whole element is the URI, header parameters included (T6).
    let uri = match na.bracketed() {
        true => na.uri().as_str(),
        false => na.as_str(),
    };
    let len = match na.bracketed() {
        true => na.addr().len(),
        false => na.as_str().len(),
    };
    Ok(match part {
        NaPart::Name => s(na.before_uri()),
        NaPart::Uri => s(uri),
        NaPart::Len => Value::Int(len as i64),
    })
}

#[derive(Clone, Copy)]
enum ToPart {
    Uri,
    Display,
    Tag,
    User,
    Host,
    Params,
}

fn tobody(v: &Value, part: ToPart) -> R {
    let x = v.to_str();
    let na = NameAddr::parse(&x).map_err(|e| e.to_string())?;
    Ok(s(match part {
        ToPart::Uri => na.uri().as_str(),
        ToPart::Display => na.display().unwrap_or(""),
        ToPart::Tag => na.tag().unwrap_or(""),
        ToPart::User => na.uri().user().unwrap_or(""),
        ToPart::Host => na.uri().host(),
        ToPart::Params => na.params().raw(),
    }))
}
