//! JSON as libjansson reads and writes it for Kamailio's jansson module: a document must be an
//! object or an array, a repeated key is an error (`JSON_REJECT_DUPLICATES`), integers are
//! 64-bit, members keep their order; dumps are compact or jansson's default (`", "` and
//! `": "`), reals with `%.17g` and a `.0` when they would read as integers.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Nesting deeper than this is refused (a stranger's document cannot exhaust the stack).
const MAX_DEPTH: usize = 128;

struct Strict(usize);

impl<'de> de::DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        // jansson's integers are long long.
        i64::try_from(n)
            .map(|n| Value::Number(n.into()))
            .map_err(|_| E::custom("too big integer"))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| E::custom("real number overflow"))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        if s.contains('\0') {
            return Err(E::custom("\\u0000 is not allowed without JSON_ALLOW_NUL"));
        }
        Ok(Value::String(s.to_string()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        if self.0 >= MAX_DEPTH {
            return Err(de::Error::custom("too deeply nested"));
        }
        let mut v = Vec::new();
        while let Some(x) = a.next_element_seed(Strict(self.0 + 1))? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        if self.0 >= MAX_DEPTH {
            return Err(de::Error::custom("too deeply nested"));
        }
        let mut m = Map::new();
        while let Some(k) = a.next_key::<String>()? {
            if m.contains_key(&k) {
                return Err(de::Error::custom(format!("duplicate object key '{k}'")));
            }
            let v = a.next_value_seed(Strict(self.0 + 1))?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }
}

/// Any JSON value, with jansson's rules for keys, integers and NULs.
pub fn parse_any(text: &str) -> Result<Value, String> {
    let mut d = serde_json::Deserializer::from_str(text);
    let v = de::DeserializeSeed::deserialize(Strict(0), &mut d).map_err(|e| e.to_string())?;
    d.end().map_err(|e| e.to_string())?;
    Ok(v)
}

/// A document as `json_loads` takes it: an object or an array.
pub fn parse(text: &str) -> Result<Value, String> {
    let v = parse_any(text)?;
    if v.is_object() || v.is_array() {
        Ok(v)
    } else {
        Err("'[' or '{' expected".into())
    }
}

/// C's `%.{prec}g`.
pub fn fmt_g(x: f64, prec: usize) -> String {
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "nan".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let p = prec.max(1);
    let e = format!("{:.*e}", p - 1, x);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if exp < -4 || exp >= p as i32 {
        let m = strip(mant.to_string());
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip(format!("{:.*}", decimals, x))
    }
}

/// How jansson dumps a real: `%.17g`, made to look like a real.
fn real(x: f64) -> String {
    let s = fmt_g(x, 17);
    if s.contains(['.', 'e', 'n', 'i']) {
        s
    } else {
        format!("{s}.0")
    }
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
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

/// `json_dumps(v, JSON_COMPACT)` (`compact`) or `json_dumps(v, 0)`.
pub fn dump(v: &Value, compact: bool) -> String {
    let mut out = String::new();
    write(&mut out, v, compact);
    out
}

fn write(out: &mut String, v: &Value, compact: bool) {
    let (comma, colon) = if compact { (",", ":") } else { (", ", ": ") };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => out.push_str(&i.to_string()),
            None => out.push_str(&real(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => string(out, s),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                write(out, x, compact);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(comma);
                }
                string(out, k);
                out.push_str(colon);
                write(out, x, compact);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_as_jansson_takes_them() {
        assert!(parse("{\"a\":1}").is_ok());
        assert!(parse("5").is_err());
        assert!(parse("{\"a\":1,\"a\":2}").is_err());
        assert!(parse("{\"a\":18446744073709551615}").is_err());
        assert!(parse("[1] x").is_err());
        assert!(parse(&"[".repeat(200)).is_err());
    }

    #[test]
    fn dumps() {
        let v = parse("{\"b\":[1,2.5,true,null],\"a\":\"x/\\\"y\",\"r\":1e3}").unwrap();
        assert_eq!(
            dump(&v, true),
            "{\"b\":[1,2.5,true,null],\"a\":\"x/\\\"y\",\"r\":1000.0}"
        );
        assert_eq!(
            dump(&v, false),
            "{\"b\": [1, 2.5, true, null], \"a\": \"x/\\\"y\", \"r\": 1000.0}"
        );
    }

    #[test]
    fn percent_g() {
        assert_eq!(fmt_g(0.1, 15), "0.1");
        assert_eq!(fmt_g(0.1, 17), "0.10000000000000001");
        assert_eq!(fmt_g(1e20, 15), "1e+20");
        assert_eq!(fmt_g(123456.0, 15), "123456");
        assert_eq!(fmt_g(0.0001, 15), "0.0001");
        assert_eq!(fmt_g(0.00001, 15), "1e-05");
        assert_eq!(fmt_g(-2.5, 15), "-2.5");
    }
}
