//! JSON as Kamailio's jsonrpcs prints it with `pretty_format=1` (its default): srjson's
//! formatted output, members one per line indented with tabs, `"key":<TAB>value`, arrays on
//! one line separated by `, `, no newline at the end.

use serde_json::Value;
use std::fmt::Write as _;

/// `v` formatted as Kamailio's jsonrpcs formats a reply.
pub fn pretty(v: &Value) -> String {
    let mut out = String::new();
    value(&mut out, v, 0);
    out
}

fn tabs(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('\t', n));
}

fn value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Object(m) => {
            let d = depth + 1;
            out.push_str("{\n");
            let n = m.len();
            for (i, (k, x)) in m.iter().enumerate() {
                tabs(out, d);
                string(out, k);
                out.push_str(":\t");
                value(out, x, d);
                if i + 1 < n {
                    out.push(',');
                }
                out.push('\n');
            }
            tabs(out, d - 1);
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(out, x, depth + 1);
            }
            out.push(']');
        }
        Value::String(s) => string(out, s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// cJSON's escaping: quote, backslash and control characters; other bytes as they are.
fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Bytes Kamailio 5.6.3 sent for core.psx-like and htable.dump replies (pretty_format 1).
    #[test]
    fn prints_as_kamailio() {
        let v = json!({"jsonrpc": "2.0", "result": [{"IDX": 0, "DSC": "main"}, {"IDX": 1, "DSC": "t"}], "id": 1});
        assert_eq!(
            pretty(&v),
            "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"result\":\t[{\n\t\t\t\"IDX\":\t0,\n\t\t\t\"DSC\":\t\"main\"\n\t\t}, {\n\t\t\t\"IDX\":\t1,\n\t\t\t\"DSC\":\t\"t\"\n\t\t}],\n\t\"id\":\t1\n}"
        );
        let v = json!({"jsonrpc": "2.0", "result": [], "id": 1});
        assert_eq!(
            pretty(&v),
            "{\n\t\"jsonrpc\":\t\"2.0\",\n\t\"result\":\t[],\n\t\"id\":\t1\n}"
        );
        let v = json!({"a": {"b": {"c": "x"}}});
        assert_eq!(
            pretty(&v),
            "{\n\t\"a\":\t{\n\t\t\"b\":\t{\n\t\t\t\"c\":\t\"x\"\n\t\t}\n\t}\n}"
        );
        assert_eq!(pretty(&json!(["a\"b\n"])), "[\"a\\\"b\\n\"]");
    }
}
