//! `jansson`: Kamailio 5.6's jansson module: JSON documents read and built by path
//! (`jansson_get`, `jansson_set`, `jansson_append`, `jansson_array_size`, `jansson_get_field`)
//! and converted to and from xavps (`jansson_xdecode`, `jansson_xencode`). The module has no
//! parameters. Values come out as libjansson and the module give them: objects and arrays as
//! compact JSON, booleans as 1/0, reals with `%.15g`, integers past 32 bits as text.

pub mod doc;
pub mod path;

use sipvm_lang::registry::ArgKind::{Fmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "jansson",
    functions: &[
        FnDecl { name: "jansson_get", args: &[Fmt, Fmt, Pv], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "jansson_array_size", args: &[Fmt, Fmt, Pv], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "jansson_set", args: &[Fmt, Fmt, Fmt, Pv], min_args: 4, routes: RouteMask::ANY },
        FnDecl { name: "jansson_append", args: &[Fmt, Fmt, Fmt, Pv], min_args: 4, routes: RouteMask::ANY },
        FnDecl { name: "jansson_xdecode", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "jansson_xencode", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "jansson_get_field", args: &[Fmt, Fmt, Pv], min_args: 3, routes: RouteMask::ANY },
    ],
    params: &[],
    pvs: &[],
    transforms: &[],
};

use crate::host::natives::{arg_pv_value, arg_str, set_out};
use crate::host::{Ctx, Impl, Module};
use crate::modules::pv::xavp::{self, XVal, Xavp, Xavps};
use serde_json::Value as Json;
use sipvm_vm::{ArgValue, HostError, Value};
use std::sync::Arc;

type R = Result<i64, HostError>;

/// A JSON value as the script sees it (Kamailio's `jansson_to_val`).
pub fn to_value(v: &Json) -> Value {
    match v {
        Json::Object(_) | Json::Array(_) => Value::Str(Arc::from(doc::dump(v, true))),
        Json::String(s) => Value::Str(Arc::from(s.as_str())),
        Json::Bool(b) => Value::Int(*b as i64),
        Json::Null => Value::Null,
        Json::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Value::Int(i),
            Some(i) => Value::Str(Arc::from(i.to_string())),
            None => Value::Str(Arc::from(doc::fmt_g(n.as_f64().unwrap_or(0.0), 15))),
        },
    }
}

fn to_xval(v: &Json) -> XVal {
    match to_value(v) {
        Value::Int(i) => XVal::Int(i),
        Value::Null => XVal::Null,
        Value::Str(s) => XVal::Str(s),
    }
}

fn parse_logged(text: &str) -> Option<Json> {
    match doc::parse(text) {
        Ok(j) => Some(j),
        Err(e) => {
            tracing::error!("failed to parse json: {text}: {e}");
            None
        }
    }
}

/// `jansson_get(path, json, dst)`: 1 and `dst` set, or -1 (bad JSON, nothing at the path).
fn jansson_get(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    get_into(ctx, args, &arg_str(args, 0), &arg_str(args, 1))
}

/// `jansson_get_field(json, path, dst)`: `jansson_get` with the first two swapped.
fn jansson_get_field(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    get_into(ctx, args, &arg_str(args, 1), &arg_str(args, 0))
}

fn get_into(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], p: &str, src: &str) -> R {
    let Some(j) = parse_logged(src) else {
        return Ok(-1);
    };
    let Some(v) = path::get(&j, p) else {
        return Ok(-1);
    };
    set_out(ctx, args, 2, to_value(v))?;
    Ok(1)
}

/// `jansson_array_size(path, json, dst)`: the length of the array at `path`.
fn jansson_array_size(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let Some(j) = parse_logged(&arg_str(args, 1)) else {
        return Ok(-1);
    };
    let p = arg_str(args, 0);
    let n = match path::get(&j, &p) {
        Some(Json::Array(a)) => a.len(),
        Some(_) => {
            tracing::error!("value at {p} is not an array");
            return Ok(-1);
        }
        None => {
            tracing::error!("failed to find {p} in json");
            return Ok(-1);
        }
    };
    set_out(ctx, args, 2, Value::Int(n as i64))?;
    Ok(1)
}

/// The value to set, made from `type` and its text; None (logged) when it does not parse.
fn typed(ty: &str, text: &str) -> Option<Json> {
    let v = match ty {
        "object" | "obj" => doc::parse_any(text).ok().filter(Json::is_object),
        "array" => doc::parse_any(text).ok().filter(Json::is_array),
        "string" | "str" => Some(Json::String(text.to_string())),
        // strtoll/strtod must use the whole text; an empty one reads as 0.
        "integer" | "int" if text.is_empty() => Some(Json::from(0)),
        "integer" | "int" => {
            let t = text.trim_start();
            t.strip_prefix('+')
                .unwrap_or(t)
                .parse::<i64>()
                .ok()
                .map(Json::from)
        }
        "real" if text.is_empty() => serde_json::Number::from_f64(0.0).map(Json::Number),
        "real" => text
            .trim_start()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number),
        "true" => Some(Json::Bool(true)),
        "false" => Some(Json::Bool(false)),
        "null" => Some(Json::Null),
        _ => {
            tracing::error!("jansson: unrecognized input type {ty}");
            return None;
        }
    };
    if v.is_none() {
        tracing::error!("jansson: parsing failed for \"{text}\" as {ty}");
    }
    v
}

fn set_or_append(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], append: bool) -> R {
    let (ty, p, text) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2));
    let current = match arg_pv_value(ctx, args, 3) {
        Ok(Value::Str(s)) => s.to_string(),
        _ => "{}".to_string(),
    };
    let Some(value) = typed(&ty, &text) else {
        return Ok(-1);
    };
    let Some(mut j) = parse_logged(&current) else {
        return Ok(-1);
    };
    if let Err(e) = path::set(&mut j, &p, value, append) {
        tracing::error!("jansson: {e} (path {p})");
        return Ok(-1);
    }
    set_out(ctx, args, 3, to_value(&j))?;
    Ok(1)
}

/// `jansson_set(type, path, value, result)`: `result` (a JSON document, `{}` when it holds
/// none) with `value` put at `path`.
fn jansson_set(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    set_or_append(ctx, args, false)
}

/// `jansson_append(type, path, value, result)`: adds to the array, or merges into the
/// object, at `path`.
fn jansson_append(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    set_or_append(ctx, args, true)
}

/// One object as a root xavp `name` (its members as children, each prepended as
/// `xavp_add_value` does); anything but an object gives a root with no children.
fn object_root(name: &str, v: &Json) -> Xavp {
    let mut kids = Vec::new();
    if let Json::Object(m) = v {
        for (k, x) in m {
            kids.insert(0, Xavp::new(k, to_xval(x)));
        }
    }
    Xavp::new(name, XVal::List(kids))
}

/// `jansson_xdecode(json, xname)`: an object becomes one root `xname`, an array one root
/// per element (prepended in turn).
fn jansson_xdecode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let (text, name) = (arg_str(args, 0), arg_str(args, 1));
    let Some(j) = parse_logged(&text) else {
        return Ok(-1);
    };
    let roots: Vec<Xavp> = match &j {
        Json::Array(a) => a.iter().map(|v| object_root(&name, v)).collect(),
        v => vec![object_root(&name, v)],
    };
    let l = &mut ctx.slots.entry::<Xavps>().xavp;
    if let Err(e) = xavp::room(l, xavp::items(&roots)) {
        tracing::error!("jansson_xdecode: {e}");
        return Ok(-1);
    }
    for r in roots {
        l.insert(0, r);
    }
    Ok(1)
}

/// `jansson_xencode(xname, dst)`: the children of the first root `xname` as a JSON object
/// (jansson's default dump, `{"a": 1, "b": "x"}`); -1 when it holds no list.
fn jansson_xencode(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let name = arg_str(args, 0).into_owned();
    let obj = {
        let l = &ctx.slots.entry::<Xavps>().xavp;
        let Some(XVal::List(kids)) = xavp::get(l, false, &name, 0).map(|x| &x.val) else {
            return Ok(-1);
        };
        let mut m = serde_json::Map::new();
        for k in kids {
            let v = match &k.val {
                XVal::Null => Json::Null,
                XVal::Int(i) => Json::from(*i),
                XVal::Str(s) => Json::String(s.to_string()),
                XVal::List(_) => Json::String("<<xavp>>".into()),
            };
            m.insert(k.name.to_string(), v);
        }
        Json::Object(m)
    };
    set_out(ctx, args, 1, Value::Str(Arc::from(doc::dump(&obj, false))))?;
    Ok(1)
}

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "jansson_get",
        f: jansson_get,
    },
    Impl {
        name: "jansson_get_field",
        f: jansson_get_field,
    },
    Impl {
        name: "jansson_array_size",
        f: jansson_array_size,
    },
    Impl {
        name: "jansson_set",
        f: jansson_set,
    },
    Impl {
        name: "jansson_append",
        f: jansson_append,
    },
    Impl {
        name: "jansson_xdecode",
        f: jansson_xdecode,
    },
    Impl {
        name: "jansson_xencode",
        f: jansson_xencode,
    },
];

pub static MODULE: Module = Module {
    natives: IMPLS,
    ..Module::decl(&DECL)
};
