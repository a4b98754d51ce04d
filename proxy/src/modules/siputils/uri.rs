//! siputils' Request-URI parameter functions and URI rewriting into pseudo-variables.

use super::checks::truth;
use crate::host::natives::{arg_str, static_key};
use crate::host::Ctx;
use crate::sip::{ParamIter, Scheme, Uri};
use sipvm_vm::{ArgValue, Host, HostError, Value};

/// Kamailio's `params` of a parsed URI: with `user=phone` on a sip/sips URI (the core's
/// `phone2tel`, on by default) the URI counts as a tel URI and its parameters are those of
/// the user part (`sip:+1;a=b@h;user=phone` has `a=b`); otherwise the URI's own.
fn kam_params<'a>(u: &Uri<'a>) -> &'a str {
    let phone = matches!(u.scheme(), Scheme::Sip | Scheme::Sips)
        && u.param("user")
            .flatten()
            .is_some_and(|v| v.eq_ignore_ascii_case("phone"));
    if phone {
        return u
            .user()
            .and_then(|s| s.split_once(';'))
            .map_or("", |(_, p)| p);
    }
    u.params().raw()
}

/// The first parameter called `name` (compared as `cmp` says) of `raw`.
fn find_param<'a>(raw: &'a str, name: &str, icase: bool) -> Option<Option<&'a str>> {
    ParamIter::new(raw, b';')
        .find(|(n, _)| {
            if icase {
                n.eq_ignore_ascii_case(name)
            } else {
                *n == name
            }
        })
        .map(|(_, v)| v)
}

/// `uri_param(name[, value])`: the first parameter `name` of the Request-URI (case-sensitive)
/// has exactly `value`, or, without `value`, has none.
pub(super) fn uri_param(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let ruri = ctx.ruri_str().to_string();
    let Ok(u) = Uri::parse(&ruri) else {
        return Ok(-1);
    };
    let Some(v) = find_param(kam_params(&u), &name, false) else {
        return Ok(-1);
    };
    let v = v.unwrap_or("");
    Ok(truth(match args.get(1) {
        Some(_) => v == arg_str(args, 1),
        None => v.is_empty(),
    }))
}

/// `uri_param_any(name)`: the Request-URI has a parameter `name` (ignoring case), with or
/// without a value.
pub(super) fn uri_param_any(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let ruri = ctx.ruri_str().to_string();
    let Ok(u) = Uri::parse(&ruri) else {
        return Ok(-1);
    };
    Ok(truth(find_param(u.params().raw(), &name, true).is_some()))
}

/// `uri_param_rm(name)`: removes the first parameter `name` (ignoring case) from the
/// Request-URI; 1 also when there is none.
pub(super) fn uri_param_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let ruri = ctx.ruri_str().to_string();
    let Ok(u) = Uri::parse(&ruri) else {
        return Ok(-1);
    };
    let raw = u.params().raw();
    if raw.is_empty() {
        return Ok(1);
    }
    // `raw` is a slice of `ruri`: the parameter's `;name[=value]` is cut out of it.
    let base = raw.as_ptr() as usize - ruri.as_ptr() as usize;
    let mut at = 0;
    for piece in raw.split(';') {
        let n = piece.split('=').next().unwrap_or("").trim();
        if n.eq_ignore_ascii_case(&name) {
            let start = base + at - 1;
            let end = base + at + piece.len();
            ctx.ruri = Some(format!("{}{}", &ruri[..start], &ruri[end..]));
            return Ok(1);
        }
        at += piece.len() + 1;
    }
    Ok(1)
}

/// `add_uri_param(param)`: appends `;param` to the Request-URI (before its headers, if any).
pub(super) fn add_uri_param(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let p = arg_str(args, 0);
    if p.is_empty() {
        return Ok(1);
    }
    let ruri = ctx.ruri_str().to_string();
    let Ok(u) = Uri::parse(&ruri) else {
        return Ok(-1);
    };
    let new = match u.headers() {
        Some(h) => {
            let q = ruri.len() - h.len() - 1;
            format!("{};{p}{}", &ruri[..q], &ruri[q..])
        }
        None => format!("{ruri};{p}"),
    };
    ctx.ruri = Some(new);
    Ok(1)
}

/// Writes `v` to the pseudo-variable of argument `i`.
fn set_arg_pv(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
    i: usize,
    v: &str,
) -> Result<(), HostError> {
    let Some(ArgValue::Pv(pv)) = args.get(i) else {
        return Err(HostError(format!(
            "argument {} is not a pseudo-variable",
            i + 1
        )));
    };
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    ctx.set_pv(&prog, key, Value::Str(v.into()))
}

fn get_arg_pv(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], i: usize) -> Result<Value, HostError> {
    let Some(ArgValue::Pv(pv)) = args.get(i) else {
        return Err(HostError(format!(
            "argument {} is not a pseudo-variable",
            i + 1
        )));
    };
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    ctx.get_pv(&prog, key)
}

/// `get_uri_param(name, pv)`: the value of the Request-URI's parameter `name`
/// (case-sensitive) into `pv`; -1 when absent.
pub(super) fn get_uri_param(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0).into_owned();
    let ruri = ctx.ruri_str().to_string();
    let Ok(u) = Uri::parse(&ruri) else {
        return Ok(-1);
    };
    match find_param(kam_params(&u), &name, false) {
        Some(v) => {
            set_arg_pv(ctx, args, 1, v.unwrap_or(""))?;
            Ok(1)
        }
        None => Ok(-1),
    }
}

/// `tel2sip(uri, host, pv)`: `tel:+1-555.1234;p=X` becomes `sip:+15551234;p=x@host;user=phone`
/// in `pv` (visual separators dropped before the first `;`, all lower case); 2 when `uri` is
/// not a tel URI.
pub(super) fn tel2sip(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let uri = arg_str(args, 0).into_owned();
    let host = arg_str(args, 1).into_owned();
    if uri.len() < 4 || !uri[..4].eq_ignore_ascii_case("tel:") {
        return Ok(2);
    }
    let mut out = String::from("sip:");
    let mut in_params = false;
    for c in uri[4..].chars() {
        in_params |= c == ';';
        if in_params || !matches!(c, '-' | '.' | '(' | ')') {
            out.push(c.to_ascii_lowercase());
        }
    }
    out.push('@');
    out.push_str(&host);
    out.push_str(";user=phone");
    set_arg_pv(ctx, args, 2, &out)?;
    Ok(1)
}

/// `set_uri_user(pv, user)`: replaces (adds, or with an empty `user` removes) the user part of
/// the URI held in `pv`.
pub(super) fn set_uri_user(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Value::Str(uri) = get_arg_pv(ctx, args, 0)? else {
        return Ok(-1);
    };
    if uri.is_empty() {
        return Ok(-1);
    }
    let user = arg_str(args, 1).into_owned();
    let Some(colon) = uri.find(':') else {
        return Ok(-1);
    };
    let new = match uri.find('@') {
        None if user.is_empty() => return Ok(1),
        None => format!("{}{user}@{}", &uri[..=colon], &uri[colon + 1..]),
        Some(at) if user.is_empty() => format!("{}{}", &uri[..=colon], &uri[at + 1..]),
        Some(at) => format!("{}{user}{}", &uri[..=colon], &uri[at..]),
    };
    set_arg_pv(ctx, args, 0, &new)?;
    Ok(1)
}

/// `set_uri_host(pv, host)`: replaces the host of the URI held in `pv` (an empty `host` is an
/// error, as in Kamailio).
pub(super) fn set_uri_host(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Value::Str(uri) = get_arg_pv(ctx, args, 0)? else {
        return Ok(-1);
    };
    let host = arg_str(args, 1).into_owned();
    if uri.is_empty() || host.is_empty() {
        return Ok(-1);
    }
    let Some(colon) = uri.find(':') else {
        return Ok(-1);
    };
    let start = uri.find('@').map_or(colon + 1, |a| a + 1);
    let rest = &uri[start..];
    let end = if rest.starts_with('[') {
        rest.find(']').map_or(rest.len(), |i| i + 1)
    } else {
        rest.find([':', ';', '?', '>']).unwrap_or(rest.len())
    };
    let new = format!("{}{host}{}", &uri[..start], &rest[end..]);
    set_arg_pv(ctx, args, 0, &new)?;
    Ok(1)
}
