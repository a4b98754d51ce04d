//! kamcmd's way of printing a reply, applied to a JSON-RPC `result`.
//!
//! - A string or number is printed bare, one per line; null (a void reply) prints nothing.
//! - A top-level array is a sequence of replies, each printed as if it stood alone.
//! - An object prints as `{`, its members as `name: value` one tab deeper, then `}`.
//! - A member whose value is an object prints `name: {`, its members one tab deeper, `}`.
//! - A member whose value is an array prints `name: {`, its items one tab deeper, `}`; an item
//!   that is an object of one member holding an object or array (`{"SET": {..}}`) is that
//!   member (kamcmd shows binrpc's named array items so), as is one of one scalar member
//!   (`{"AoR": "alice"}` prints `AoR: alice`); any other object is an anonymous `{` .. `}`
//!   block, a scalar is a bare line.
//! - A null member prints `<null string>`; a non-integer number prints with six decimals.
//! - A fault prints `error: CODE - message`.

use crate::{RpcError, Value};

/// The text kamcmd would print for `result`.
pub fn result(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for i in items {
                top(&mut out, i);
            }
        }
        v => top(&mut out, v),
    }
    out
}

/// The text kamcmd prints for a fault.
pub fn fault(e: &RpcError) -> String {
    format!("error: {} - {}\n", e.code, e.message)
}

fn top(out: &mut String, v: &Value) {
    match v {
        Value::Object(_) => block(out, v, 0),
        Value::Array(items) => {
            for i in items {
                top(out, i);
            }
        }
        v => {
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
}

/// `{`, the members or items at `depth + 1`, `}` — all at `depth`.
fn block(out: &mut String, v: &Value, depth: usize) {
    indent(out, depth);
    out.push_str("{\n");
    body(out, v, depth + 1);
    indent(out, depth);
    out.push_str("}\n");
}

/// The inside of a block: an object's members or an array's items, at `depth`.
fn body(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                member(out, k, v, depth);
            }
        }
        Value::Array(items) => {
            for i in items {
                item(out, i, depth);
            }
        }
        v => {
            indent(out, depth);
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
}

fn member(out: &mut String, name: &str, v: &Value, depth: usize) {
    indent(out, depth);
    out.push_str(name);
    match v {
        Value::Object(_) | Value::Array(_) => {
            out.push_str(": {\n");
            body(out, v, depth + 1);
            indent(out, depth);
            out.push_str("}\n");
        }
        v => {
            out.push_str(": ");
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
}

fn item(out: &mut String, v: &Value, depth: usize) {
    match v {
        // A one-member object is a named value binrpc put in the array (`struct_add` on an
        // array, as `ul.dump brief`'s `AoR: alice`): kamcmd prints it as that member.
        Value::Object(o) if o.len() == 1 => {
            let (k, inner) = o.iter().next().expect("one member");
            member(out, k, inner, depth);
        }
        Value::Object(_) | Value::Array(_) => block(out, v, depth),
        v => {
            indent(out, depth);
            out.push_str(&scalar(v));
            out.push('\n');
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "<null string>".to_string(),
        Value::String(s) => s.clone(),
        // binrpc doubles: kamcmd prints them with "%f" (`Q: 0.500000`).
        Value::Number(n) if n.is_f64() => format!("{:.6}", n.as_f64().unwrap_or(0.0)),
        v => v.to_string(),
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push('\t');
    }
}
