//! `$xavp(name[i]=>child[j])`, `$xavi(...)` and `$xavu(name=>child)`: Kamailio's name syntax
//! and the reads and assignments of pv_xavp.c, including its index arithmetic (a negative
//! index counts from the end when reading, and from one past it when assigning or deleting).

use super::xavp::{self, Kind, XVal, Xavp, Xavps};
use crate::host::Ctx;
use sipvm_vm::{HostError, PvKey, Value};
use std::sync::Arc;

/// An index inside the name: `[2]`, `[-1]` or `[*]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idx {
    At(i64),
    All,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part<'a> {
    pub name: &'a str,
    pub idx: Option<Idx>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XName<'a> {
    pub root: Part<'a>,
    pub child: Option<Part<'a>>,
}

fn ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// One `name[index]`; the rest of the text after it.
fn part(s: &str) -> Result<(Part<'_>, &str), String> {
    let s = s.trim_start_matches(ws);
    if s.is_empty() {
        return Err("empty name".into());
    }
    let end = s.find(|c| ws(c) || c == '=' || c == '[').unwrap_or(s.len());
    let (name, rest) = s.split_at(end);
    let rest = rest.trim_start_matches(ws);
    let Some(inner) = rest.strip_prefix('[') else {
        return Ok((Part { name, idx: None }, rest));
    };
    let mut depth = 0usize;
    let close = inner
        .char_indices()
        .find(|&(_, c)| match c {
            '[' => {
                depth += 1;
                false
            }
            ']' if depth == 0 => true,
            ']' => {
                depth -= 1;
                false
            }
            _ => false,
        })
        .map(|(i, _)| i)
        .ok_or("no closing ]")?;
    let text = inner[..close].trim();
    if text.is_empty() {
        return Err("empty index".into());
    }
    let idx = if text == "*" {
        Idx::All
    } else {
        Idx::At(
            text.parse::<i64>()
                .map_err(|_| format!("invalid index [{text}]"))?,
        )
    };
    Ok((
        Part {
            name,
            idx: Some(idx),
        },
        &inner[close + 1..],
    ))
}

/// `$xavp`/`$xavi` names: `root[i]` with an optional `=>child[j]`.
pub fn parse(s: &str) -> Result<XName<'_>, String> {
    let (root, rest) = part(s)?;
    let Some(rest) = rest.strip_prefix('=') else {
        return Ok(XName { root, child: None });
    };
    let rest = rest.strip_prefix('>').ok_or("expected =>")?;
    let (child, _) = part(rest)?;
    Ok(XName {
        root,
        child: Some(child),
    })
}

/// `$xavu` names: `root` or `root=>child`, no indexes.
pub fn parse_u(s: &str) -> Result<XName<'_>, String> {
    let s = s.trim();
    let mk = |name| Part { name, idx: None };
    let Some(i) = s.find('=') else {
        return Ok(XName {
            root: mk(s),
            child: None,
        });
    };
    if i + 2 >= s.len() || s.as_bytes()[i + 1] != b'>' {
        return Err("expected =>child".into());
    }
    Ok(XName {
        root: mk(&s[..i]),
        child: Some(mk(&s[i + 2..])),
    })
}

/// The index to read with: absent or `[*]` is the first; negative counts from the end.
fn read_idx(l: &[Xavp], ci: bool, p: &Part<'_>) -> i64 {
    match p.idx {
        Some(Idx::At(i)) if i < 0 => xavp::count(l, ci, p.name) + i,
        Some(Idx::At(i)) => i,
        _ => 0,
    }
}

/// The index to assign or delete with: Kamailio adds one more to a negative index here.
fn write_idx(l: &[Xavp], ci: bool, name: &str, i: i64) -> i64 {
    if i < 0 {
        xavp::count(l, ci, name) + i + 1
    } else {
        i
    }
}

/// Reads `$xavp`/`$xavi`: the item's value, or with `child[*]` every value of that child
/// from the indexed one on, joined with ", ".
pub fn read(l: &[Xavp], ci: bool, n: &XName<'_>) -> Value {
    let Some(x) = xavp::get(l, ci, n.root.name, read_idx(l, ci, &n.root)) else {
        return Value::Null;
    };
    let Some(c) = &n.child else {
        return xavp::value(x);
    };
    let XVal::List(sub) = &x.val else {
        return Value::Null;
    };
    let Some(p) = xavp::pos(sub, ci, c.name, read_idx(sub, ci, c)) else {
        return Value::Null;
    };
    if c.idx != Some(Idx::All) {
        return xavp::value(&sub[p]);
    }
    let all: Vec<String> = sub[p..]
        .iter()
        .filter(|x| xavp::name_eq(ci, &x.name, c.name))
        .map(|x| match xavp::value(x) {
            Value::Null => "<null>".to_string(),
            v => v.to_str().into_owned(),
        })
        .collect();
    Value::Str(Arc::from(all.join(", ")))
}

/// Removes per a `$null` assignment to child `c` of the root item `x`.
fn rm_child(x: &mut Xavp, ci: bool, c: &Part<'_>) {
    let XVal::List(sub) = &mut x.val else {
        return;
    };
    match c.idx {
        Some(Idx::All) => {
            xavp::rm(sub, ci, c.name, -1);
        }
        Some(Idx::At(i)) => {
            let i = write_idx(sub, ci, c.name, i);
            if i >= 0 {
                xavp::rm(sub, ci, c.name, i);
            }
        }
        None => {
            xavp::rm(sub, ci, c.name, 0);
        }
    }
}

/// `$null` assigned to `$xavp`/`$xavi`.
fn delete(l: &mut Vec<Xavp>, ci: bool, n: &XName<'_>) {
    let r = &n.root;
    let Some(c) = &n.child else {
        match r.idx {
            Some(Idx::All) => {
                xavp::rm(l, ci, r.name, -1);
            }
            Some(Idx::At(i)) if i != 0 => {
                let i = write_idx(l, ci, r.name, i);
                if i >= 0 {
                    xavp::rm(l, ci, r.name, i);
                }
            }
            _ => {
                xavp::rm(l, ci, r.name, 0);
            }
        }
        return;
    };
    if r.idx == Some(Idx::All) {
        for x in l.iter_mut().filter(|x| xavp::name_eq(ci, &x.name, r.name)) {
            rm_child(x, ci, c);
        }
        return;
    }
    let i = match r.idx {
        Some(Idx::At(i)) => write_idx(l, ci, r.name, i),
        _ => 0,
    };
    if let Some(p) = xavp::pos(l, ci, r.name, i) {
        rm_child(&mut l[p], ci, c);
    }
}

/// An assignment to `$xavp`/`$xavi`; Err is Kamailio's -1 (nothing changed).
pub fn write(l: &mut Vec<Xavp>, ci: bool, n: &XName<'_>, v: &Value) -> Result<(), String> {
    if v.is_null() {
        delete(l, ci, n);
        return Ok(());
    }
    let val = xavp::xval(v);
    let r = &n.root;
    let Some(c) = &n.child else {
        return match r.idx {
            Some(Idx::All) => Err("cannot assign every item at once".into()),
            Some(Idx::At(i)) => {
                let i = write_idx(l, ci, r.name, i);
                if xavp::set_at(l, ci, r.name, i, val) {
                    Ok(())
                } else {
                    Err(format!("no item {}[{i}]", r.name))
                }
            }
            None => {
                xavp::room(l, 1)?;
                l.insert(0, Xavp::new(r.name, val));
                Ok(())
            }
        };
    };
    let Some(ri) = r.idx else {
        // A new root item holding the child.
        xavp::room(l, 2)?;
        l.insert(
            0,
            Xavp::new(r.name, XVal::List(vec![Xavp::new(c.name, val)])),
        );
        return Ok(());
    };
    let i = match ri {
        // Kamailio ignores these.
        Idx::All => return Ok(()),
        Idx::At(0) => 0,
        Idx::At(i) => write_idx(l, ci, r.name, i),
    };
    let full = xavp::room(l, 1);
    let Some(p) = xavp::pos(l, ci, r.name, i) else {
        return Ok(());
    };
    let XVal::List(sub) = &mut l[p].val else {
        return Err(format!("{} does not hold a list", r.name));
    };
    match c.idx {
        Some(Idx::All) => Ok(()),
        Some(Idx::At(j)) => {
            let j = write_idx(sub, ci, c.name, j);
            xavp::set_at(sub, ci, c.name, j, val);
            Ok(())
        }
        None => {
            full?;
            sub.insert(0, Xavp::new(c.name, val));
            Ok(())
        }
    }
}

/// Reads `$xavu`: the one item of a name (and of its child).
pub fn read_u(l: &[Xavp], n: &XName<'_>) -> Value {
    let Some(x) = xavp::get(l, false, n.root.name, 0) else {
        return Value::Null;
    };
    let Some(c) = &n.child else {
        return xavp::value(x);
    };
    let XVal::List(sub) = &x.val else {
        return Value::Null;
    };
    xavp::get(sub, false, c.name, 0)
        .map(xavp::value)
        .unwrap_or(Value::Null)
}

/// Kamailio's `xavu_set_xval` on a list: replaces the item of that name, or prepends one.
pub fn set_u(l: &mut Vec<Xavp>, name: &str, val: XVal) -> Result<(), String> {
    if !xavp::set_at(l, false, name, 0, val.clone()) {
        xavp::room(l, 1)?;
        l.insert(0, Xavp::new(name, val));
    }
    Ok(())
}

/// An assignment to `$xavu`.
pub fn write_u(l: &mut Vec<Xavp>, n: &XName<'_>, v: &Value) -> Result<(), String> {
    let r = n.root.name;
    match (&n.child, v.is_null()) {
        (None, true) => {
            xavp::rm(l, false, r, -1);
        }
        (Some(c), true) => {
            if let Some(sub) = xavp::children_mut(l, false, r) {
                xavp::rm(sub, false, c.name, -1);
            }
        }
        (None, false) => set_u(l, r, xavp::xval(v))?,
        (Some(c), false) => {
            xavp::room(l, 2)?;
            xavp::set_child(l, false, r, c.name, xavp::xval(v));
        }
    }
    Ok(())
}

fn key_name<'k>(k: &PvKey<'k>) -> &'k str {
    k.name.unwrap_or("")
}

fn bad(kind: Kind, name: &str, why: String) -> HostError {
    HostError(format!(
        "${}({name}): {why}",
        kind.label().to_ascii_lowercase()
    ))
}

fn get_x(ctx: &mut Ctx<'_>, k: PvKey<'_>, kind: Kind) -> Result<Value, HostError> {
    let name = key_name(&k);
    let n = parse(name).map_err(|e| bad(kind, name, e))?;
    Ok(match ctx.slots.get::<Xavps>() {
        Some(x) => read(
            match kind {
                Kind::Xavp => &x.xavp,
                _ => &x.xavi,
            },
            kind.ci(),
            &n,
        ),
        None => Value::Null,
    })
}

fn set_x(ctx: &mut Ctx<'_>, k: PvKey<'_>, v: Value, kind: Kind) -> Result<(), HostError> {
    let name = key_name(&k);
    let n = parse(name).map_err(|e| bad(kind, name, e))?;
    let l = ctx.slots.entry::<Xavps>().list(kind);
    write(l, kind.ci(), &n, &v).map_err(|e| bad(kind, name, e))
}

pub fn get_xavp(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    get_x(ctx, k, Kind::Xavp)
}

pub fn set_xavp(ctx: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    set_x(ctx, k, v, Kind::Xavp)
}

pub fn get_xavi(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    get_x(ctx, k, Kind::Xavi)
}

pub fn set_xavi(ctx: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    set_x(ctx, k, v, Kind::Xavi)
}

pub fn get_xavu(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    let name = key_name(&k);
    let n = parse_u(name).map_err(|e| bad(Kind::Xavu, name, e))?;
    Ok(match ctx.slots.get::<Xavps>() {
        Some(x) => read_u(&x.xavu, &n),
        None => Value::Null,
    })
}

pub fn set_xavu(ctx: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    let name = key_name(&k);
    let n = parse_u(name).map_err(|e| bad(Kind::Xavu, name, e))?;
    let l = &mut ctx.slots.entry::<Xavps>().xavu;
    write_u(l, &n, &v).map_err(|e| bad(Kind::Xavu, name, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(Arc::from(x))
    }

    fn w(l: &mut Vec<Xavp>, name: &str, v: Value) {
        write(l, false, &parse(name).unwrap(), &v).unwrap();
    }

    fn r(l: &[Xavp], name: &str) -> Value {
        read(l, false, &parse(name).unwrap())
    }

    #[test]
    fn names_parse_as_kamailio_reads_them() {
        let n = parse("a[0]=>b[*]").unwrap();
        assert_eq!(n.root.name, "a");
        assert_eq!(n.root.idx, Some(Idx::At(0)));
        assert_eq!(n.child.unwrap().idx, Some(Idx::All));
        assert_eq!(parse(" a [ -1 ]").unwrap().root.idx, Some(Idx::At(-1)));
        assert!(parse("a[]").is_err());
        assert!(parse("a[0").is_err());
        assert!(parse("a=b").is_err());
        assert!(parse("a[x]").is_err());
        let u = parse_u("r=>c").unwrap();
        assert_eq!((u.root.name, u.child.unwrap().name), ("r", "c"));
        assert!(parse_u("r=>").is_err());
    }

    #[test]
    fn assignment_prepends_and_indexes_read_from_the_head() {
        let mut l = Vec::new();
        w(&mut l, "a", Value::Int(1));
        w(&mut l, "a", s("two"));
        assert_eq!(r(&l, "a"), s("two"));
        assert_eq!(r(&l, "a[1]"), Value::Int(1));
        assert_eq!(r(&l, "a[-1]"), Value::Int(1));
        assert_eq!(r(&l, "a[2]"), Value::Null);
        // A negative index assigns one further on: a[-1] is past the end.
        assert!(write(&mut l, false, &parse("a[-1]").unwrap(), &s("x")).is_err());
        w(&mut l, "a[-2]", s("last"));
        assert_eq!(r(&l, "a[1]"), s("last"));
        w(&mut l, "a[0]", Value::Null);
        assert_eq!(r(&l, "a"), s("last"));
        w(&mut l, "a[*]", Value::Null);
        assert!(l.is_empty());
    }

    #[test]
    fn children() {
        let mut l = Vec::new();
        w(&mut l, "r=>x", Value::Int(1));
        w(&mut l, "r[0]=>x", Value::Int(2));
        w(&mut l, "r[0]=>y", s("y"));
        w(&mut l, "r=>x", Value::Int(9));
        assert_eq!(r(&l, "r=>x"), Value::Int(9));
        assert_eq!(r(&l, "r[1]=>x"), Value::Int(2));
        assert_eq!(r(&l, "r[1]=>x[*]"), s("2, 1"));
        assert_eq!(r(&l, "r[1]=>x[-1]"), Value::Int(1));
        assert_eq!(r(&l, "r[1]=>y"), s("y"));
        w(&mut l, "r[1]=>x", Value::Null);
        assert_eq!(r(&l, "r[1]=>x[*]"), s("1"));
        w(&mut l, "r[*]=>x[*]", Value::Null);
        assert_eq!(r(&l, "r=>x"), Value::Null);
        assert_eq!(r(&l, "r[1]=>y"), s("y"));
        // A root without a list has no children.
        w(&mut l, "p", Value::Int(3));
        assert!(write(&mut l, false, &parse("p[0]=>c").unwrap(), &Value::Int(1)).is_err());
    }

    #[test]
    fn xavi_ignores_case_and_xavu_keeps_one() {
        let mut l = Vec::new();
        write(&mut l, true, &parse("Ab=>Cd").unwrap(), &Value::Int(5)).unwrap();
        assert_eq!(read(&l, true, &parse("aB=>cD").unwrap()), Value::Int(5));
        let mut u = Vec::new();
        write_u(&mut u, &parse_u("k").unwrap(), &Value::Int(1)).unwrap();
        write_u(&mut u, &parse_u("k").unwrap(), &Value::Int(2)).unwrap();
        assert_eq!(u.len(), 1);
        assert_eq!(read_u(&u, &parse_u("k").unwrap()), Value::Int(2));
        write_u(&mut u, &parse_u("k=>c").unwrap(), &s("c")).unwrap();
        write_u(&mut u, &parse_u("k=>c").unwrap(), &s("d")).unwrap();
        assert_eq!(read_u(&u, &parse_u("k=>c").unwrap()), s("d"));
        assert_eq!(xavp::items(&u), 2);
    }

    #[test]
    fn lists_are_bounded() {
        let mut l = Vec::new();
        for _ in 0..xavp::MAX_ITEMS {
            w(&mut l, "a", Value::Int(1));
        }
        assert!(write(&mut l, false, &parse("a").unwrap(), &Value::Int(1)).is_err());
        assert_eq!(l.len(), xavp::MAX_ITEMS);
    }

    #[test]
    fn hash_is_kamailios() {
        // get_hash1_raw("a") = 97 ^ (97 >> 3) = 109, then hash_finish.
        let h: u32 = 109;
        assert_eq!(
            xavp::hash1("a", false),
            h + (h >> 11) + ((h >> 13) + (h >> 23))
        );
        assert_eq!(xavp::hash1("AB", true), xavp::hash1("ab", false));
    }
}
