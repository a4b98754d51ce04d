//! pv's xavp functions (Kamailio 5.6.3 pv.c and pv_xavp.c): printing, removing, child
//! setters, explode/implode, copy; and `typeof`/`not_empty`. Return codes are Kamailio's,
//! including its "removed nothing is still 1" for the `*_rm` functions.

use super::xavp::{self, Kind, XVal, Xavp, Xavps};
use crate::host::natives::{arg_int, arg_str, set_out};
use crate::host::Ctx;
use sipvm_vm::{ArgValue, HostError, Value};
use std::sync::Arc;

type R = Result<i64, HostError>;

fn lists<'c>(ctx: &'c mut Ctx<'_>) -> &'c mut Xavps {
    ctx.slots.entry::<Xavps>()
}

fn print(ctx: &mut Ctx<'_>, kind: Kind) -> R {
    let l = lists(ctx).list(kind);
    for line in xavp::print_lines(kind, l) {
        tracing::info!(target: "xavp", "{line}");
    }
    Ok(1)
}

pub fn pv_xavp_print(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> R {
    print(ctx, Kind::Xavp)
}

pub fn pv_xavu_print(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> R {
    print(ctx, Kind::Xavu)
}

pub fn pv_xavi_print(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> R {
    print(ctx, Kind::Xavi)
}

/// `xavp_rm(name)`: the first root item of that name goes; 1 either way.
fn rm_root(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], kind: Kind) -> R {
    let name = arg_str(args, 0);
    xavp::rm(lists(ctx).list(kind), kind.ci(), &name, 0);
    Ok(1)
}

pub fn xavp_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    rm_root(ctx, args, Kind::Xavp)
}

pub fn xavi_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    rm_root(ctx, args, Kind::Xavi)
}

/// `xavp_child_rm(rname, cname)`: the first child `cname` of the first root `rname`; 1.
fn rm_child(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], kind: Kind) -> R {
    let (r, c) = (arg_str(args, 0), arg_str(args, 1));
    if let Some(sub) = xavp::children_mut(lists(ctx).list(kind), kind.ci(), &r) {
        xavp::rm(sub, kind.ci(), &c, 0);
    }
    Ok(1)
}

pub fn xavp_child_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    rm_child(ctx, args, Kind::Xavp)
}

pub fn xavi_child_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    rm_child(ctx, args, Kind::Xavi)
}

fn child_set(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], kind: Kind, val: XVal) -> R {
    let (r, c) = (arg_str(args, 0), arg_str(args, 1));
    let l = lists(ctx).list(kind);
    if let Err(e) = xavp::room(l, 2) {
        tracing::error!("xavp child set: {e}");
        return Ok(-1);
    }
    xavp::set_child(l, kind.ci(), &r, &c, val);
    Ok(1)
}

/// `xavp_child_seti(rname, cname, ival)`: sets the child, replacing one of that name, in the
/// first root `rname` (made when missing or not holding a list).
pub fn xavp_child_seti(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let n = arg_int(args, 2)?;
    child_set(ctx, args, Kind::Xavp, XVal::Int(n as i32 as i64))
}

pub fn xavp_child_sets(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let v = XVal::Str(Arc::from(&*arg_str(args, 2)));
    child_set(ctx, args, Kind::Xavp, v)
}

pub fn xavi_child_seti(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let n = arg_int(args, 2)?;
    child_set(ctx, args, Kind::Xavi, XVal::Int(n as i32 as i64))
}

pub fn xavi_child_sets(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let v = XVal::Str(Arc::from(&*arg_str(args, 2)));
    child_set(ctx, args, Kind::Xavi, v)
}

/// `name=value;...` as Kamailio's parse_params reads it: None for text that is no
/// parameter list; a value keeps no quotes; a trailing `;` is allowed.
fn params(text: &str) -> Option<Vec<(String, String)>> {
    let t = text.strip_suffix(';').unwrap_or(text);
    let mut out = Vec::new();
    for (n, v) in crate::sip::ParamIter::new(t, b';') {
        if n.is_empty() {
            return None;
        }
        let v = v.unwrap_or("");
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        out.push((n.to_string(), v.to_string()));
    }
    (!out.is_empty()).then_some(out)
}

/// `xavp_params_explode(params, xname)`: a new root `xname` whose children are the
/// parameters, in their order.
pub fn xavp_params_explode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let (p, x) = (arg_str(args, 0), arg_str(args, 1));
    if p.is_empty() || x.is_empty() {
        return Ok(-1);
    }
    let Some(ps) = params(&p) else {
        return Ok(-1);
    };
    let l = &mut lists(ctx).xavp;
    if xavp::room(l, ps.len() + 1).is_err() {
        return Ok(-1);
    }
    let kids: Vec<Xavp> = ps
        .into_iter()
        .map(|(n, v)| Xavp::new(&n, XVal::Str(Arc::from(v))))
        .collect();
    l.insert(0, Xavp::new(&x, XVal::List(kids)));
    Ok(1)
}

/// `xavu_params_explode(params, xname)`: `$xavu(xname)` set to the parameters, one child
/// per name (a repeated name keeps its last value).
pub fn xavu_params_explode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let (p, x) = (arg_str(args, 0), arg_str(args, 1));
    if p.is_empty() || x.is_empty() {
        return Ok(-1);
    }
    let Some(ps) = params(&p) else {
        return Ok(-1);
    };
    let mut kids = Vec::new();
    for (n, v) in ps {
        super::xpv::set_u(&mut kids, &n, XVal::Str(Arc::from(v))).map_err(HostError)?;
    }
    let l = &mut lists(ctx).xavu;
    if xavp::room(l, kids.len() + 1).is_err() {
        return Ok(-1);
    }
    super::xpv::set_u(l, &x, XVal::List(kids)).map_err(HostError)?;
    Ok(1)
}

fn implode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], kind: Kind) -> R {
    let x = arg_str(args, 0).into_owned();
    if x.is_empty() {
        return Ok(-1);
    }
    let s = xavp::serialize_fields(lists(ctx).list(kind), false, &x).unwrap_or_default();
    if s.is_empty() {
        return Ok(-1);
    }
    set_out(ctx, args, 1, Value::Str(Arc::from(s)))?;
    Ok(1)
}

/// `xavp_params_implode(xname, pv)`: the children of the first `xname` as `name=value;`.
pub fn xavp_params_implode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    implode(ctx, args, Kind::Xavp)
}

pub fn xavu_params_implode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    implode(ctx, args, Kind::Xavu)
}

/// `xavp_slist_explode(list, seps, mode, xname)`: a new root `xname` whose children `v` are
/// the tokens in order (any character of `seps` separates; mode `t...` trims each token;
/// empty tokens are skipped).
pub fn xavp_slist_explode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let (list, seps, mode, x) = (
        arg_str(args, 0),
        arg_str(args, 1),
        arg_str(args, 2),
        arg_str(args, 3),
    );
    if list.is_empty() || seps.is_empty() || x.is_empty() {
        return Ok(-1);
    }
    let trim = mode.starts_with('t');
    let kids: Vec<Xavp> = list
        .split(|c| seps.contains(c))
        .map(|t| {
            if trim {
                t.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
            } else {
                t
            }
        })
        .filter(|t| !t.is_empty())
        .map(|t| Xavp::new("v", XVal::Str(Arc::from(t))))
        .collect();
    let l = &mut lists(ctx).xavp;
    if xavp::room(l, kids.len() + 1).is_err() {
        return Ok(-1);
    }
    l.insert(0, Xavp::new(&x, XVal::List(kids)));
    Ok(1)
}

/// `xavp_copy(src, src_idx, dst[, dst_idx])`: a copy of `src[src_idx]` (its direct,
/// non-list children) named `dst`, at the head when no `dst` exists, else after the last
/// one; with `dst_idx` it replaces `dst[dst_idx]`.
pub fn xavp_copy(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let (src, dst) = (arg_str(args, 0).into_owned(), arg_str(args, 2).into_owned());
    let si = arg_int(args, 1)?;
    let di = if args.len() > 3 {
        Some(arg_int(args, 3)?)
    } else {
        None
    };
    let l = &mut lists(ctx).xavp;
    let Some(s) = xavp::get(l, false, &src, si) else {
        tracing::error!("xavp_copy: cannot find source xavp [{src}]");
        return Ok(-1);
    };
    let val = match &s.val {
        XVal::List(c) => {
            let kids: Vec<Xavp> = c
                .iter()
                .filter(|k| !matches!(k.val, XVal::List(_)))
                .cloned()
                .collect();
            if kids.is_empty() {
                tracing::error!("xavp_copy: error cloning xavp");
                return Ok(-1);
            }
            XVal::List(kids)
        }
        v => v.clone(),
    };
    let new = Xavp::new(&dst, val);
    if xavp::room(l, xavp::items(std::slice::from_ref(&new))).is_err() {
        return Ok(-1);
    }
    match di {
        Some(di) => {
            let Some(at) = xavp::pos(l, false, &dst, di) else {
                tracing::error!("xavp_copy: cannot find destination xavp [{dst}]");
                return Ok(-1);
            };
            l[at] = new;
        }
        None => match l.iter().rposition(|x| *x.name == *dst) {
            Some(last) => l.insert(last + 1, new),
            None => l.insert(0, new),
        },
    }
    Ok(1)
}
