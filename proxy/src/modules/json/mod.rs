//! `json`: Kamailio 5.6's json module (json-c based): `json_get_field` gives a member as
//! json-c prints it (`"x\/y"`, `{ "k": [ 1, 2 ] }`), `json_get_string` a string member
//! unquoted. Its `{json.parse}` transformation and the `json_escape_char` parameter it reads
//! are not implemented.

use sipvm_lang::registry::ArgKind::{Fmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "json",
    functions: &[
        FnDecl { name: "json_get_field", args: &[Fmt, Fmt, Pv], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "json_get_string", args: &[Fmt, Fmt, Pv], min_args: 3, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "json_escape_char", ty: ParamType::Str },
    ],
    pvs: &[],
    transforms: &[],
};

use crate::host::natives::{arg_str, set_out};
use crate::host::{Ctx, Impl, Module};
use serde_json::Value as Json;
use sipvm_vm::{ArgValue, HostError, Value};
use std::sync::Arc;

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// json-c's `json_object_to_json_string` (its "spaced" style).
pub fn to_json_c(v: &Json) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

fn write(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => string(out, s),
        Json::Array(a) if a.is_empty() => out.push_str("[ ]"),
        Json::Array(a) => {
            out.push_str("[ ");
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(out, x);
            }
            out.push_str(" ]");
        }
        Json::Object(m) if m.is_empty() => out.push_str("{ }"),
        Json::Object(m) => {
            out.push_str("{ ");
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(out, k);
                out.push_str(": ");
                write(out, x);
            }
            out.push_str(" }");
        }
    }
}

fn get_field(
    ctx: &mut Ctx<'_>,
    args: &[ArgValue<'_>],
    raw_strings: bool,
) -> Result<i64, HostError> {
    let (text, field) = (arg_str(args, 0), arg_str(args, 1));
    // Nesting is bounded as in the jansson module.
    let Ok(j) = crate::modules::jansson::doc::parse_any(&text) else {
        tracing::error!("json: empty or invalid JSON");
        return Ok(-1);
    };
    let Some(v) = j.as_object().and_then(|m| m.get(&*field)) else {
        return Ok(-1);
    };
    let s = match v {
        Json::String(s) if raw_strings => s.clone(),
        v => to_json_c(v),
    };
    set_out(ctx, args, 2, Value::Str(Arc::from(s)))?;
    Ok(1)
}

/// `json_get_field(json, field, dst)`: the member as JSON text; -1 when missing or bad JSON.
fn json_get_field(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    get_field(ctx, args, false)
}

/// `json_get_string(json, field, dst)`: like `json_get_field`, a string without quotes.
fn json_get_string(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    get_field(ctx, args, true)
}

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "json_get_field",
        f: json_get_field,
    },
    Impl {
        name: "json_get_string",
        f: json_get_string,
    },
];

pub static MODULE: Module = Module {
    natives: IMPLS,
    ..Module::decl(&DECL)
};
