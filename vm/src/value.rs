//! Script values: null, integers and shared strings, with Kamailio 5.6's conversion and
//! operator rules. Each rule was observed on kamailio 5.6.3; see `docs/semantics.md` (N1..).

use crate::op::{BinOp, UnOp};
use regex::{Regex, RegexBuilder};
use std::borrow::Cow;
use std::sync::Arc;

/// Wrap an arithmetic result to 32 bits, as Kamailio's C `int` does (N17).
#[inline]
fn w32(x: i64) -> i64 {
    x as i32 as i64
}

/// A script value. Strings are reference-counted so cloning is cheap.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Value {
    #[default]
    Null,
    Int(i64),
    Str(Arc<str>),
}

/// An operator that cannot produce a value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Kamailio logs "rv div by 0" and aborts the statement (N9).
    #[error("division by zero")]
    DivByZero,
    /// Kamailio logs "rv mod by 0" (N9).
    #[error("modulo by zero")]
    ModByZero,
    #[error("invalid regular expression {0:?}: {1}")]
    BadRegex(String, String),
}

/// Strict decimal parse as Kamailio's `str2sint`: optional sign, digits only (N4).
pub fn parse_int(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add((c - b'0') as i64)?;
        if n > 1 << 31 {
            return None;
        }
    }
    let n = if neg { -n } else { n };
    // Kamailio's integers are C `int`: out-of-range strings fail to convert (N17).
    i32::try_from(n).ok().map(i64::from)
}

/// Compile a regex the way Kamailio does for `=~`: extended and case-insensitive (N15).
pub fn compile_regex(pat: &str) -> Result<Regex, ValueError> {
    RegexBuilder::new(pat)
        .case_insensitive(true)
        .build()
        .map_err(|e| ValueError::BadRegex(pat.to_string(), e.to_string()))
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The integer form, `None` when a string is not a decimal integer.
    pub fn try_int(&self) -> Option<i64> {
        match self {
            Value::Null => Some(0),
            Value::Int(i) => Some(*i),
            Value::Str(s) => parse_int(s),
        }
    }

    /// The integer form: null is 0; a string that is not a decimal integer is 0 (Kamailio
    /// logs "automatic string to int conversion failed" and goes on with 0) (N4).
    pub fn to_int(&self) -> i64 {
        self.try_int().unwrap_or(0)
    }

    /// The truth value used by `if`/`while`: the integer form is > 0 (N1, N2). So `"abc"`,
    /// `""`, `"0"`, `-3` and null are false; `"1"` is true.
    #[inline]
    pub fn truth(&self) -> bool {
        match self {
            Value::Int(i) => *i > 0,
            _ => self.to_int() > 0,
        }
    }

    /// The string form: null is `""`, integers in decimal (N13).
    pub fn to_str(&self) -> Cow<'_, str> {
        match self {
            Value::Null => Cow::Borrowed(""),
            Value::Int(i) => Cow::Owned(i.to_string()),
            Value::Str(s) => Cow::Borrowed(s),
        }
    }

    /// The string form as a shared string (no copy for strings).
    pub fn to_arc_str(&self) -> Arc<str> {
        match self {
            Value::Str(s) => s.clone(),
            v => Arc::from(&*v.to_str()),
        }
    }

    /// Append the form xlog prints: null is `<null>` (N16).
    pub fn write_xlog(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Null => out.push_str("<null>"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Str(s) => out.push_str(s),
        }
    }

    /// A value stored into `$var`: null becomes 0 (N6).
    #[inline]
    pub fn for_var(self) -> Value {
        match self {
            Value::Null => Value::Int(0),
            v => v,
        }
    }

    /// `self == other` with Kamailio's typing: the left type wins; a null left side takes the
    /// right side's type; a null right side equals only a null left side (N7, N8).
    pub fn loose_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (_, Value::Null) => false,
            (Value::Null, Value::Int(b)) => *b == 0,
            (Value::Null, Value::Str(b)) => b.is_empty(),
            (Value::Int(a), b) => b.to_int() == *a,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Str(a), b) => **a == *b.to_str(),
        }
    }

    /// Case-insensitive string equality, with the null rules of `loose_eq`.
    pub fn eq_nocase(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (_, Value::Null) => false,
            (a, b) => a.to_str().eq_ignore_ascii_case(&b.to_str()),
        }
    }

    /// `self + other`: a string left side concatenates the right side's string form; an
    /// integer left side adds the right side's integer form; a null left side takes the right
    /// side's type; null + null is `""` (N3, N5).
    pub fn add(&self, other: &Value) -> Value {
        match (self, other) {
            (Value::Int(a), b) => Value::Int(w32(a.wrapping_add(b.to_int()))),
            (Value::Str(a), Value::Null) => Value::Str(a.clone()),
            (Value::Str(a), b) => {
                let b = b.to_str();
                let mut s = String::with_capacity(a.len() + b.len());
                s.push_str(a);
                s.push_str(&b);
                Value::Str(Arc::from(s))
            }
            (Value::Null, Value::Int(b)) => Value::Int(*b),
            (Value::Null, Value::Str(b)) => Value::Str(b.clone()),
            (Value::Null, Value::Null) => Value::str(""),
        }
    }

    /// A binary operator, except `MatchDyn` which needs a regex (see `match_dyn`).
    /// Arithmetic, bit operators and `<`/`<=`/`>`/`>=` always work on integer forms (N10, N11).
    pub fn binop(op: BinOp, a: &Value, b: &Value) -> Result<Value, ValueError> {
        let bool_ = |x: bool| Value::Int(x as i64);
        Ok(match op {
            BinOp::Add => a.add(b),
            BinOp::Eq => bool_(a.loose_eq(b)),
            BinOp::Ne => bool_(!a.loose_eq(b)),
            BinOp::EqNoCase => bool_(a.eq_nocase(b)),
            BinOp::MatchDyn => {
                let re = compile_regex(&b.to_str())?;
                bool_(re.is_match(&a.to_str()))
            }
            _ => {
                let (x, y) = (a.to_int(), b.to_int());
                match op {
                    BinOp::Sub => Value::Int(w32(x.wrapping_sub(y))),
                    BinOp::Mul => Value::Int(w32(x.wrapping_mul(y))),
                    BinOp::Div if y == 0 => return Err(ValueError::DivByZero),
                    BinOp::Div => Value::Int(w32(x.wrapping_div(y))),
                    BinOp::Mod if y == 0 => return Err(ValueError::ModByZero),
                    BinOp::Mod => Value::Int(w32(x.wrapping_rem(y))),
                    BinOp::BitAnd => Value::Int(x & y),
                    BinOp::BitOr => Value::Int(x | y),
                    BinOp::BitXor => Value::Int(x ^ y),
                    BinOp::Shl => Value::Int((x as i32).wrapping_shl(y as u32) as i64),
                    BinOp::Shr => Value::Int((x as i32).wrapping_shr(y as u32) as i64),
                    BinOp::Lt => bool_(x < y),
                    BinOp::Le => bool_(x <= y),
                    BinOp::Gt => bool_(x > y),
                    BinOp::Ge => bool_(x >= y),
                    _ => unreachable!("handled above"),
                }
            }
        })
    }

    /// `binop` on two integers, for every operator but `Div`, `Mod` and `MatchDyn` (the VM's
    /// fast path; same results as `binop`).
    #[inline]
    pub fn int_binop(op: BinOp, x: i64, y: i64) -> Value {
        let b = |c: bool| Value::Int(c as i64);
        match op {
            BinOp::Add => Value::Int(w32(x.wrapping_add(y))),
            BinOp::Sub => Value::Int(w32(x.wrapping_sub(y))),
            BinOp::Mul => Value::Int(w32(x.wrapping_mul(y))),
            BinOp::Eq => b(x == y),
            BinOp::Ne => b(x != y),
            BinOp::Lt => b(x < y),
            BinOp::Le => b(x <= y),
            BinOp::Gt => b(x > y),
            BinOp::Ge => b(x >= y),
            BinOp::BitAnd => Value::Int(x & y),
            BinOp::BitOr => Value::Int(x | y),
            BinOp::BitXor => Value::Int(x ^ y),
            BinOp::Shl => Value::Int((x as i32).wrapping_shl(y as u32) as i64),
            BinOp::Shr => Value::Int((x as i32).wrapping_shr(y as u32) as i64),
            BinOp::EqNoCase => b(x == y),
            BinOp::Div | BinOp::Mod | BinOp::MatchDyn => {
                Value::binop(op, &Value::Int(x), &Value::Int(y)).unwrap_or(Value::Null)
            }
        }
    }

    /// A unary operator (N12, N13, N14).
    pub fn unop(op: UnOp, a: &Value) -> Value {
        match op {
            // C's `!`: !0 is 1, anything else 0; so `!-3` is 0 although `-3` is false (N2).
            UnOp::Not => Value::Int((a.to_int() == 0) as i64),
            UnOp::Neg => Value::Int(w32(a.to_int().wrapping_neg())),
            UnOp::BitNot => Value::Int(w32(!a.to_int())),
            UnOp::Strlen => Value::Int(match a {
                Value::Null => 0,
                Value::Int(_) => a.to_str().len() as i64,
                Value::Str(s) => s.len() as i64,
            }),
            UnOp::Defined => Value::Int(!a.is_null() as i64),
            UnOp::StrEmpty => Value::Int(match a {
                Value::Null => 1,
                Value::Int(_) => 0,
                Value::Str(s) => s.is_empty() as i64,
            }),
            UnOp::ToInt => Value::Int(a.to_int()),
            UnOp::ToStr => Value::Str(a.to_arc_str()),
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl std::fmt::Display for Value {
    /// The xlog form (`<null>` for null).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("<null>"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => f.write_str(s),
        }
    }
}
