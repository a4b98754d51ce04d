//! The jansson module's paths (`a.b[0].c`, `[1].x`): reading follows Kamailio's
//! `json_path_get`, writing its `json_path_set` (missing objects on the way are made when the
//! next step is a `.`; an array index must exist; `append` adds to an array or merges an
//! object).

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Idx(usize),
}

/// C's `strtol(s, &end, 0)` that must use the whole text (hex `0x..`, octal `0..`); an empty
/// text is 0. A negative index, cast to `size_t` by Kamailio, never exists: None.
fn index(s: &str) -> Result<Option<usize>, ()> {
    let t = s.trim_start();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = if t.is_empty() {
        Some(0)
    } else if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(u64::from_str_radix(h, 16).map_err(|_| ())?)
    } else if t.len() > 1 && t.starts_with('0') {
        Some(u64::from_str_radix(&t[1..], 8).map_err(|_| ())?)
    } else {
        Some(t.parse::<u64>().map_err(|_| ())?)
    };
    Ok(match (neg, n) {
        (true, Some(0)) => Some(0),
        (true, _) => None,
        (false, n) => n.and_then(|n| usize::try_from(n).ok()),
    })
}

fn step<'v>(v: &'v Value, s: &Step) -> Option<&'v Value> {
    match s {
        Step::Key(k) => v.as_object()?.get(k),
        Step::Idx(i) => v.as_array()?.get(*i),
    }
}

fn at_mut<'v>(mut v: &'v mut Value, steps: &[Step]) -> Option<&'v mut Value> {
    for s in steps {
        v = match s {
            Step::Key(k) => v.as_object_mut()?.get_mut(k)?,
            Step::Idx(i) => v.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(v)
}

/// The next position at or after `from` of a byte in `set`.
fn find(b: &[u8], from: usize, set: &[u8]) -> Option<usize> {
    b[from..]
        .iter()
        .position(|c| set.contains(c))
        .map(|p| from + p)
}

const DELIMS: &[u8] = b".[";
const CLOSE: &[u8] = b"]";

/// The value at `path`, or None.
pub fn get<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    let b = path.as_bytes();
    let mut expect = DELIMS;
    let mut token = Some(0usize);
    if b.first() == Some(&b'[') {
        expect = CLOSE;
        token = Some(1);
    }
    let mut peek = Some(token.unwrap_or(0));
    let mut cur = Some(doc);
    while let (Some(p), Some(c)) = (peek, cur) {
        if p >= b.len() {
            break;
        }
        let (end, delim) = match find(b, p, expect) {
            Some(q) => {
                if token.is_none() && q != p {
                    return None;
                }
                peek = Some(q + 1);
                (q, Some(b[q]))
            }
            None if expect != DELIMS || token.is_none() => return None,
            None => {
                peek = None;
                (b.len(), None)
            }
        };
        if expect == DELIMS {
            if let Some(t) = token {
                cur = step(c, &Step::Key(path[t..end].to_string()));
            }
            expect = if delim == Some(b'[') { CLOSE } else { DELIMS };
            token = peek;
        } else {
            let t = token?;
            let i = index(&path[t..end]).ok()?;
            cur = i.and_then(|i| step(c, &Step::Idx(i)));
            token = None;
            expect = DELIMS;
        }
    }
    cur
}

/// Sets (or with `append`, adds) `value` at `path` in `doc`; Err with Kamailio's reason.
pub fn set(doc: &mut Value, path: &str, value: Value, append: bool) -> Result<(), String> {
    let b = path.as_bytes();
    let mut expect = DELIMS;
    let mut token = Some(0usize);
    if b.first() == Some(&b'[') {
        expect = CLOSE;
        token = Some(1);
    }
    let mut peek = Some(token.unwrap_or(0));
    let mut cur: Vec<Step> = Vec::new();
    let mut parent: Option<Vec<Step>> = None;
    let mut saved: Option<usize> = None;
    let mut tail_end = b.len();
    while let Some(p) = peek {
        if p >= b.len() {
            break;
        }
        let (end, delim) = match find(b, p, expect) {
            Some(q) => {
                if token.is_none() && q != p {
                    return Err(format!("unexpected trailing chars in JSON path at pos {p}"));
                }
                peek = Some(q + 1);
                (q, b[q])
            }
            None if expect == DELIMS => {
                tail_end = b.len();
                break;
            }
            None => return Err(format!("missing ']' at pos {p}")),
        };
        if expect == DELIMS {
            if let Some(t) = token {
                let key = &path[t..end];
                if key.is_empty() {
                    return Err(format!("empty token at pos {end}"));
                }
                let mut next = cur.clone();
                next.push(Step::Key(key.to_string()));
                let here = at_mut(doc, &cur).ok_or("invalid JSON path")?;
                if step(here, &Step::Key(key.to_string())).is_none() {
                    let Some(obj) = here.as_object_mut() else {
                        return Err(format!("object expected at pos {end}"));
                    };
                    if delim != b'.' {
                        return Err(format!("new array is not allowed at pos {end}"));
                    }
                    obj.insert(key.to_string(), Value::Object(Default::default()));
                }
                parent = Some(std::mem::replace(&mut cur, next));
            }
            expect = if delim == b'[' { CLOSE } else { DELIMS };
            token = peek;
        } else {
            let here = at_mut(doc, &cur).ok_or("invalid JSON path")?;
            let Some(arr) = here.as_array() else {
                return Err(format!("array expected at pos {end}"));
            };
            let t = token.unwrap_or(end);
            let i =
                index(&path[t..end]).map_err(|_| format!("invalid array index at pos {end}"))?;
            let Some(i) = i.filter(|i| *i < arr.len()) else {
                return Err(format!("array index out of bound at pos {end}"));
            };
            let mut next = cur.clone();
            next.push(Step::Idx(i));
            parent = Some(std::mem::replace(&mut cur, next));
            saved = Some(i);
            token = None;
            expect = DELIMS;
        }
    }
    let tail = token.map(|t| &path[t.min(tail_end)..tail_end]);
    let here = at_mut(doc, &cur).ok_or("invalid JSON path")?;
    let add = |target: &mut Value, value: Value| -> Result<(), String> {
        match (target, value) {
            (Value::Array(a), v) => {
                a.push(v);
                Ok(())
            }
            (Value::Object(o), Value::Object(v)) => {
                for (k, x) in v {
                    o.insert(k, x);
                }
                Ok(())
            }
            _ => Err("JSON array or object expected".into()),
        }
    };
    match tail {
        Some(t) if append && !t.is_empty() => {
            let target = here
                .as_object_mut()
                .and_then(|o| o.get_mut(t))
                .ok_or("JSON array or object expected")?;
            add(target, value)
        }
        Some(_) if append => add(here, value),
        Some(t) if !t.is_empty() => match here.as_object_mut() {
            Some(o) => {
                o.insert(t.to_string(), value);
                Ok(())
            }
            None => Err("JSON object expected".into()),
        },
        _ => {
            let (Some(i), Some(p)) = (saved, parent) else {
                return Err("invalid JSON path".into());
            };
            match at_mut(doc, &p).and_then(Value::as_array_mut) {
                Some(a) if i < a.len() => {
                    a[i] = value;
                    Ok(())
                }
                _ => Err("invalid JSON path".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads() {
        let d = json!({"a": {"b": [10, {"c": "x"}]}, "": 1});
        assert_eq!(get(&d, "a.b[0]"), Some(&json!(10)));
        assert_eq!(get(&d, "a.b[1].c"), Some(&json!("x")));
        assert_eq!(get(&d, "a.b[0x1].c"), Some(&json!("x")));
        assert_eq!(get(&d, "a.b[2]"), None);
        assert_eq!(get(&d, "a.b[-1]"), None);
        assert_eq!(get(&d, "a.b[x]"), None);
        assert_eq!(get(&d, "a.b[0]x"), None);
        assert_eq!(get(&d, "a.b[0"), None);
        assert_eq!(get(&d, "a."), Some(&d["a"]));
        assert_eq!(get(&d, ""), Some(&d));
        assert_eq!(get(&json!([1, [2, 3]]), "[1][1]"), Some(&json!(3)));
    }

    #[test]
    fn writes() {
        let mut d = json!({});
        set(&mut d, "a.b.c", json!(1), false).unwrap();
        set(&mut d, "x", json!("s"), false).unwrap();
        assert_eq!(d, json!({"a": {"b": {"c": 1}}, "x": "s"}));
        assert!(set(&mut d, "n[0]", json!(1), false).is_err());
        set(&mut d, "l", json!([1]), false).unwrap();
        set(&mut d, "l[0]", json!(2), false).unwrap();
        set(&mut d, "l", json!(3), true).unwrap();
        assert_eq!(d["l"], json!([2, 3]));
        assert!(set(&mut d, "l[5]", json!(1), false).is_err());
        set(&mut d, "a", json!({"z": 0}), true).unwrap();
        assert_eq!(d["a"], json!({"b": {"c": 1}, "z": 0}));
        assert!(set(&mut d, "x", json!(1), true).is_err());
        assert!(set(&mut d, "x.y", json!(1), false).is_err());
    }
}
