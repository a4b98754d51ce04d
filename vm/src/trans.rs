//! Transformations (`$(ru{uri.user})`, `{s.substr,1,3}`) as pure string functions, following
//! Kamailio 5.6's pv module. Observed behaviour is in `docs/semantics.md` (T1..).

use crate::program::TransStep;
use crate::value::{parse_int, Value};
use std::sync::Arc;

/// How many arguments a transformation takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransSig {
    pub min_args: u8,
    pub max_args: u8,
}

const fn sig(min_args: u8, max_args: u8) -> TransSig {
    TransSig { min_args, max_args }
}

/// The known transformations: (class, op, signature).
const TABLE: &[(&str, &str, TransSig)] = &[
    ("s", "len", sig(0, 0)),
    ("s", "int", sig(0, 0)),
    ("s", "substr", sig(2, 2)),
    ("s", "select", sig(2, 2)),
    ("s", "tolower", sig(0, 0)),
    ("s", "toupper", sig(0, 0)),
    ("s", "strip", sig(1, 1)),
    ("s", "striptail", sig(1, 1)),
    ("s", "stripto", sig(1, 1)),
    ("s", "prefixes", sig(0, 1)),
    ("s", "encode.hexa", sig(0, 0)),
    ("s", "decode.hexa", sig(0, 0)),
    ("s", "trim", sig(0, 0)),
    ("s", "rtrim", sig(0, 0)),
    ("s", "ltrim", sig(0, 0)),
    ("s", "rm", sig(1, 1)),
    ("s", "replace", sig(2, 2)),
    ("uri", "user", sig(0, 0)),
    ("uri", "host", sig(0, 0)),
    ("uri", "passwd", sig(0, 0)),
    ("uri", "port", sig(0, 0)),
    ("uri", "params", sig(0, 0)),
    ("uri", "param", sig(1, 1)),
    ("uri", "headers", sig(0, 0)),
    ("uri", "transport", sig(0, 0)),
    ("uri", "ttl", sig(0, 0)),
    ("uri", "uparam", sig(0, 0)),
    ("uri", "maddr", sig(0, 0)),
    ("uri", "method", sig(0, 0)),
    ("uri", "lr", sig(0, 0)),
    ("uri", "r2", sig(0, 0)),
    ("uri", "scheme", sig(0, 0)),
    ("param", "value", sig(1, 2)),
    ("param", "valueat", sig(1, 2)),
    ("param", "name", sig(1, 2)),
    ("param", "in", sig(1, 2)),
    ("param", "count", sig(0, 1)),
    ("nameaddr", "name", sig(0, 0)),
    ("nameaddr", "uri", sig(0, 0)),
    ("nameaddr", "len", sig(0, 0)),
    ("tobody", "uri", sig(0, 0)),
    ("tobody", "display", sig(0, 0)),
    ("tobody", "tag", sig(0, 0)),
    ("tobody", "user", sig(0, 0)),
    ("tobody", "host", sig(0, 0)),
    ("tobody", "params", sig(0, 0)),
];

/// The signature of `{class.op}`, or `None` when sipvm does not know it.
pub fn lookup(class: &str, op: &str) -> Option<TransSig> {
    TABLE
        .iter()
        .find(|(c, o, _)| *c == class && *o == op)
        .map(|(_, _, s)| *s)
}

/// Every known transformation as `class.op`, for listings and hints.
pub fn names() -> impl Iterator<Item = String> {
    TABLE.iter().map(|(c, o, _)| format!("{c}.{o}"))
}

fn s(x: &str) -> Value {
    Value::Str(Arc::from(x))
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

/// Apply one step. A null input, a failed conversion or an out-of-range argument is an error;
/// the VM then reads the pseudo-variable as null, as Kamailio does (T1).
pub fn apply(step: &TransStep, v: &Value, args: &[Value]) -> Result<Value, String> {
    if v.is_null() {
        return Err("transformation of a null value".into());
    }
    let x = v.to_str();
    match &*step.class {
        "s" => string(&step.op, &x, args),
        "uri" => uri_op(&step.op, &x, args),
        "param" => param_op(&step.op, &x, args),
        "nameaddr" | "tobody" => nameaddr_op(&step.class, &step.op, &x),
        c => Err(format!("unknown transformation class {c}")),
    }
}

fn string(op: &str, x: &str, args: &[Value]) -> Result<Value, String> {
    let len = x.len() as i64;
    Ok(match op {
        "len" => Value::Int(len),
        "int" => Value::Int(parse_int(x).ok_or("not an integer")?),
        "substr" => {
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
            s(x.get(i as usize..end as usize)
                .ok_or("substr splits a character")?)
        }
        "select" => {
            let i = int_arg(args, 0)?;
            let sep = str_arg(args, 1)?;
            let sep = sep.chars().next().ok_or("empty separator")?;
            let parts: Vec<&str> = x.split(sep).collect();
            let k = if i < 0 { parts.len() as i64 + i } else { i };
            // Out of range gives "" (T3).
            s(usize::try_from(k)
                .ok()
                .and_then(|k| parts.get(k))
                .unwrap_or(&""))
        }
        "tolower" => s(&x.to_ascii_lowercase()),
        "toupper" => s(&x.to_ascii_uppercase()),
        "strip" | "striptail" => {
            let n = int_arg(args, 0)?.clamp(0, len) as usize;
            let r = if op == "strip" {
                x.get(n..)
            } else {
                x.get(..x.len() - n)
            };
            s(r.ok_or("strip splits a character")?)
        }
        "stripto" => {
            let c = str_arg(args, 0)?;
            // Not found gives "" (T3).
            match x.find(&*c) {
                Some(p) if !c.is_empty() => s(&x[p..]),
                _ => s(""),
            }
        }
        "prefixes" => {
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
            s(&out)
        }
        "encode.hexa" => {
            let mut out = String::with_capacity(x.len() * 2);
            for b in x.bytes() {
                out.push_str(&format!("{b:02x}"));
            }
            s(&out)
        }
        "decode.hexa" => {
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
            s(&String::from_utf8(bytes).map_err(|_| "decoded bytes are not UTF-8")?)
        }
        "trim" => s(x.trim_matches(is_ws)),
        "rtrim" => s(x.trim_end_matches(is_ws)),
        "ltrim" => s(x.trim_start_matches(is_ws)),
        "rm" => {
            let a = str_arg(args, 0)?;
            if a.is_empty() {
                s(x)
            } else {
                s(&x.replace(&*a, ""))
            }
        }
        "replace" => {
            let (a, b) = (str_arg(args, 0)?, str_arg(args, 1)?);
            if a.is_empty() {
                s(x)
            } else {
                s(&x.replace(&*a, &b))
            }
        }
        o => return Err(format!("unknown transformation s.{o}")),
    })
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A SIP URI split into its parts (borrowed from the input).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UriParts<'a> {
    pub scheme: &'a str,
    pub user: &'a str,
    pub passwd: &'a str,
    pub host: &'a str,
    pub port: &'a str,
    pub params: &'a str,
    pub headers: &'a str,
}

/// Split `scheme:user:passwd@host:port;params?headers`.
pub fn parse_uri(x: &str) -> Option<UriParts<'_>> {
    let x = x.trim();
    let colon = x.find(':')?;
    let scheme = &x[..colon];
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let rest = &x[colon + 1..];
    let (rest, headers) = rest.split_once('?').unwrap_or((rest, ""));
    let (userinfo, hostpart) = match rest.rfind('@') {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => ("", rest),
    };
    let (user, passwd) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (hostport, params) = hostpart.split_once(';').unwrap_or((hostpart, ""));
    let (host, port) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        let port = hostport[end + 1..].strip_prefix(':').unwrap_or("");
        (&hostport[..=end], port)
    } else {
        hostport.split_once(':').unwrap_or((hostport, ""))
    };
    if host.is_empty() && !scheme.eq_ignore_ascii_case("tel") {
        return None;
    }
    Some(UriParts {
        scheme,
        user,
        passwd,
        host,
        port,
        params,
        headers,
    })
}

/// `name=value` pairs separated by `sep`, whitespace trimmed, quotes removed from values.
fn params(x: &str, sep: char) -> Vec<(&str, Option<&str>)> {
    x.split(sep)
        .map(|p| p.trim_matches(is_ws))
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => {
                let v = v.trim_matches(is_ws);
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                (n.trim_matches(is_ws), Some(v))
            }
            None => (p, None),
        })
        .collect()
}

fn param_value<'a>(x: &'a str, name: &str) -> &'a str {
    params(x, ';')
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v)
        .unwrap_or("")
}

fn uri_op(op: &str, x: &str, args: &[Value]) -> Result<Value, String> {
    let u = parse_uri(x).ok_or("invalid URI")?;
    Ok(s(match op {
        "user" => u.user,
        "host" => u.host,
        "passwd" => u.passwd,
        "port" => u.port,
        "params" => u.params,
        "param" => param_value(u.params, &str_arg(args, 0)?),
        "headers" => u.headers,
        "transport" | "ttl" | "maddr" | "method" | "lr" | "r2" => param_value(u.params, op),
        "uparam" => param_value(u.params, "user"),
        "scheme" => u.scheme,
        o => return Err(format!("unknown transformation uri.{o}")),
    }))
}

fn sep_arg(args: &[Value], i: usize) -> Result<char, String> {
    match args.get(i) {
        None => Ok(';'),
        Some(v) => v
            .to_str()
            .chars()
            .next()
            .ok_or_else(|| "empty separator".into()),
    }
}

fn param_op(op: &str, x: &str, args: &[Value]) -> Result<Value, String> {
    if op == "count" {
        return Ok(Value::Int(params(x, sep_arg(args, 0)?).len() as i64));
    }
    let ps = params(x, sep_arg(args, 1)?);
    // An index out of range gives "" (T3).
    let at = |args: &[Value]| -> Result<Option<(&str, Option<&str>)>, String> {
        let i = int_arg(args, 0)?;
        let k = if i < 0 { ps.len() as i64 + i } else { i };
        Ok(usize::try_from(k).ok().and_then(|k| ps.get(k)).copied())
    };
    Ok(match op {
        "value" => {
            let name = str_arg(args, 0)?;
            let p = ps.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name));
            s(p.and_then(|(_, v)| *v).unwrap_or(""))
        }
        "valueat" => s(at(args)?.and_then(|p| p.1).unwrap_or("")),
        "name" => s(at(args)?.map(|p| p.0).unwrap_or("")),
        "in" => {
            let name = str_arg(args, 0)?;
            Value::Int(ps.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) as i64)
        }
        o => return Err(format!("unknown transformation param.{o}")),
    })
}

/// A name-addr split: (text before `<`, URI, length through `>`, header params after it).
fn split_nameaddr(x: &str) -> Result<(&str, &str, usize, &str), String> {
    let x = x.trim_start_matches(is_ws);
    match x.find('<') {
        Some(lt) => {
            let gt = lt + x[lt..].find('>').ok_or("missing '>'")?;
            let after = x[gt + 1..].trim_start_matches(is_ws);
            let params = after.strip_prefix(';').unwrap_or("");
            Ok((&x[..lt], &x[lt + 1..gt], gt + 1, params.trim_matches(is_ws)))
        }
        None => {
            let (uri, params) = x.split_once(';').unwrap_or((x, ""));
            Ok(("", uri.trim_end_matches(is_ws), x.len(), params))
        }
    }
}

fn nameaddr_op(class: &str, op: &str, x: &str) -> Result<Value, String> {
    let (name, uri, len, hparams) = split_nameaddr(x)?;
    if class == "nameaddr" {
        // nameaddr.* looks at the whole string as URI when there is no `<` (T6).
        let uri_all = if x.contains('<') {
            uri
        } else {
            x.trim_matches(is_ws)
        };
        return Ok(match op {
            "name" => s(name),
            "uri" => s(uri_all),
            "len" => Value::Int(len as i64),
            o => return Err(format!("unknown transformation nameaddr.{o}")),
        });
    }
    let u = || parse_uri(uri).ok_or_else(|| "invalid URI".to_string());
    Ok(s(match op {
        "uri" => uri,
        "display" => name.trim_matches(is_ws),
        "tag" => param_value(hparams, "tag"),
        "user" => u()?.user,
        "host" => u()?.host,
        "params" => hparams,
        o => return Err(format!("unknown transformation tobody.{o}")),
    }))
}
