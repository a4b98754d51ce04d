//! eXtended AVPs of one message: `$xavp` (names case-sensitive, many items per name),
//! `$xavi` (the same, names compared without case) and `$xavu` (one item per name). A list's
//! head is index 0 and an assignment prepends, as Kamailio's linked lists do; a value is an
//! integer, a string or a list of child items. The three lists live in a per-message slot,
//! bounded in items so a script loop fed by the network cannot grow them without end.

use crate::host::MsgState;
use sipvm_vm::Value;
use std::sync::Arc;

/// At most this many items (roots and children together) in each of the three lists of a
/// message; an assignment past it fails.
pub const MAX_ITEMS: usize = 4096;

/// An item's value.
#[derive(Clone, Debug, PartialEq)]
pub enum XVal {
    Null,
    Int(i64),
    Str(Arc<str>),
    List(Vec<Xavp>),
}

/// One named item.
#[derive(Clone, Debug, PartialEq)]
pub struct Xavp {
    pub name: Arc<str>,
    pub val: XVal,
}

impl Xavp {
    pub fn new(name: &str, val: XVal) -> Xavp {
        Xavp {
            name: Arc::from(name),
            val,
        }
    }
}

/// Which of the three lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Xavp,
    Xavi,
    Xavu,
}

impl Kind {
    /// Names of `$xavi` compare without case.
    pub fn ci(self) -> bool {
        self == Kind::Xavi
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Xavp => "XAVP",
            Kind::Xavi => "XAVI",
            Kind::Xavu => "XAVU",
        }
    }
}

/// The per-message slot: one list per kind.
#[derive(Default, Debug, Clone)]
pub struct Xavps {
    pub xavp: Vec<Xavp>,
    pub xavi: Vec<Xavp>,
    pub xavu: Vec<Xavp>,
}

impl MsgState for Xavps {}

impl Xavps {
    pub fn is_empty(&self) -> bool {
        self.xavp.is_empty() && self.xavi.is_empty() && self.xavu.is_empty()
    }

    pub fn list(&mut self, k: Kind) -> &mut Vec<Xavp> {
        match k {
            Kind::Xavp => &mut self.xavp,
            Kind::Xavi => &mut self.xavi,
            Kind::Xavu => &mut self.xavu,
        }
    }
}

/// Items in `l`, children included.
pub fn items(l: &[Xavp]) -> usize {
    l.iter()
        .map(|x| {
            1 + match &x.val {
                XVal::List(c) => items(c),
                _ => 0,
            }
        })
        .sum()
}

/// Refuses growing `l` by `more` items past [`MAX_ITEMS`].
pub fn room(l: &[Xavp], more: usize) -> Result<(), String> {
    if items(l) + more > MAX_ITEMS {
        Err(format!("more than {MAX_ITEMS} items in one message"))
    } else {
        Ok(())
    }
}

pub fn name_eq(ci: bool, a: &str, b: &str) -> bool {
    if ci {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// Positions in `l` of the items named `name`, in order.
fn positions<'l>(l: &'l [Xavp], ci: bool, name: &'l str) -> impl Iterator<Item = usize> + 'l {
    l.iter()
        .enumerate()
        .filter(move |(_, x)| name_eq(ci, &x.name, name))
        .map(|(i, _)| i)
}

/// The `idx`-th item named `name` (a negative `idx` finds nothing).
pub fn pos(l: &[Xavp], ci: bool, name: &str, idx: i64) -> Option<usize> {
    usize::try_from(idx)
        .ok()
        .and_then(|i| positions(l, ci, name).nth(i))
}

pub fn get<'l>(l: &'l [Xavp], ci: bool, name: &str, idx: i64) -> Option<&'l Xavp> {
    pos(l, ci, name, idx).map(|i| &l[i])
}

pub fn count(l: &[Xavp], ci: bool, name: &str) -> i64 {
    positions(l, ci, name).count() as i64
}

/// Replaces the value of the `idx`-th item named `name`; false when there is none.
pub fn set_at(l: &mut [Xavp], ci: bool, name: &str, idx: i64, val: XVal) -> bool {
    match pos(l, ci, name, idx) {
        Some(i) => {
            l[i].val = val;
            true
        }
        None => false,
    }
}

/// Removes the `idx`-th item named `name`, or every one when `idx < 0`; how many went.
pub fn rm(l: &mut Vec<Xavp>, ci: bool, name: &str, idx: i64) -> usize {
    if name.is_empty() {
        return 0;
    }
    if idx < 0 {
        let before = l.len();
        l.retain(|x| !name_eq(ci, &x.name, name));
        return before - l.len();
    }
    match pos(l, ci, name, idx) {
        Some(i) => {
            l.remove(i);
            1
        }
        None => 0,
    }
}

/// The children of the first item named `name`, when it has a list.
pub fn children_mut<'l>(l: &'l mut [Xavp], ci: bool, name: &str) -> Option<&'l mut Vec<Xavp>> {
    let i = pos(l, ci, name, 0)?;
    match &mut l[i].val {
        XVal::List(c) => Some(c),
        _ => None,
    }
}

/// Kamailio's `xavp_set_child_xval`: in the first root named `rname` (made, or replacing a
/// root that holds no list), the child `cname` is replaced by a new one at the head.
pub fn set_child(l: &mut Vec<Xavp>, ci: bool, rname: &str, cname: &str, val: XVal) {
    match pos(l, ci, rname, 0) {
        Some(i) => match &mut l[i].val {
            XVal::List(c) => {
                if let Some(j) = pos(c, ci, cname, 0) {
                    c.remove(j);
                }
                c.insert(0, Xavp::new(cname, val));
            }
            _ => {
                l.remove(i);
                l.insert(0, Xavp::new(rname, XVal::List(vec![Xavp::new(cname, val)])));
            }
        },
        None => l.insert(0, Xavp::new(rname, XVal::List(vec![Xavp::new(cname, val)]))),
    }
}

/// An item's value as a pseudo-variable value: a list reads as Kamailio's
/// `<<xavp:ADDRESS>>`.
pub fn value(x: &Xavp) -> Value {
    match &x.val {
        XVal::Null => Value::Null,
        XVal::Int(n) => Value::Int(*n),
        XVal::Str(s) => Value::Str(s.clone()),
        XVal::List(c) => Value::Str(Arc::from(format!("<<xavp:{:p}>>", c.as_ptr()))),
    }
}

pub fn xval(v: &Value) -> XVal {
    match v {
        // Kamailio's xavp integers are C ints.
        Value::Int(n) => XVal::Int(*n as i32 as i64),
        Value::Null => XVal::Null,
        other => XVal::Str(Arc::from(&*other.to_str())),
    }
}

/// Kamailio's `get_hash1_raw` (or `get_hash1_case_raw`), the `id` the print functions log.
pub fn hash1(s: &str, ci: bool) -> u32 {
    let b: Vec<u32> = s
        .bytes()
        .map(|c| {
            let c = if ci { c.to_ascii_lowercase() } else { c };
            // Kamailio reads the name through a signed char.
            c as i8 as i32 as u32
        })
        .collect();
    let mut h: u32 = 0;
    let mut chunks = b.chunks_exact(4);
    for c in &mut chunks {
        let v = (c[0] << 24)
            .wrapping_add(c[1] << 16)
            .wrapping_add(c[2] << 8)
            .wrapping_add(c[3]);
        h = h.wrapping_add(v ^ (v >> 3));
    }
    let r = chunks.remainder();
    let v = match r.len() {
        3 => (r[0] << 16).wrapping_add(r[1] << 8).wrapping_add(r[2]),
        2 => (r[0] << 8).wrapping_add(r[1]),
        1 => r[0],
        _ => 0,
    };
    h = h.wrapping_add(v ^ (v >> 3));
    h.wrapping_add(h >> 11)
        .wrapping_add((h >> 13).wrapping_add(h >> 23))
}

/// The lines `pv_xavp_print()` and friends log (Kamailio's `xavx_print_list_content`), with
/// this process's addresses where Kamailio shows its pointers.
pub fn print_lines(kind: Kind, l: &[Xavp]) -> Vec<String> {
    let mut out = Vec::new();
    print_level(kind, l, None, 0, &mut out);
    out
}

fn ptr_text<T>(p: Option<*const T>) -> String {
    match p {
        Some(p) if !p.is_null() => format!("{p:p}"),
        _ => "(nil)".into(),
    }
}

fn print_level(
    kind: Kind,
    l: &[Xavp],
    head: Option<*const Xavp>,
    level: u32,
    out: &mut Vec<String>,
) {
    let name = kind.label();
    let start = ptr_text(l.first().map(|x| x as *const Xavp));
    out.push(format!(
        "+++++ start {name} list: {start} ({}) (level={level})",
        ptr_text(head)
    ));
    for x in l {
        let p = x as *const Xavp;
        out.push(format!(
            "     *** (l:{level} - {p:p}) {name} name: {}",
            x.name
        ));
        out.push(format!("     {name} id: {}", hash1(&x.name, kind.ci())));
        let ty = match x.val {
            XVal::Null => 0,
            XVal::Int(_) => 1,
            XVal::Str(_) => 2,
            XVal::List(_) => 6,
        };
        out.push(format!("     {name} value type: {ty}"));
        match &x.val {
            XVal::Null => out.push(format!("     {name} value: <null>")),
            XVal::Int(n) => out.push(format!("     {name} value (int): {}", *n as i32)),
            XVal::Str(s) => out.push(format!("     {name} value (str): {s}")),
            XVal::List(c) => {
                out.push(format!(
                    "     {name} value: <xavp:{}>",
                    ptr_text(c.first().map(|x| x as *const Xavp))
                ));
                print_level(kind, c, Some(c.as_ptr()), level + 1, out);
            }
        }
        out.push(format!("     *** (l:{level} - {p:p}) end"));
    }
    out.push(format!("----- end {name} list: {start} (level={level})"));
}

/// Kamailio's `xavp_serialize_fields`: the children of the first root named `rname` as
/// `name=value;` (an empty string as `name;`, integers unsigned 32-bit); None when the root
/// is missing or holds no list.
pub fn serialize_fields(l: &[Xavp], ci: bool, rname: &str) -> Option<String> {
    let XVal::List(c) = &get(l, ci, rname, 0)?.val else {
        return None;
    };
    let mut s = String::new();
    for x in c {
        match &x.val {
            XVal::Int(n) => s.push_str(&format!("{}={};", x.name, *n as i32 as u32)),
            XVal::Str(v) if v.is_empty() => s.push_str(&format!("{};", x.name)),
            XVal::Str(v) => s.push_str(&format!("{}={v};", x.name)),
            _ => {}
        }
    }
    Some(s)
}
