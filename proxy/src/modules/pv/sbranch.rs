//! The static branch: `$sbranch(key)` and `sbranch_set_ruri()`, `sbranch_append()`,
//! `sbranch_reset()`. As in Kamailio it belongs to the worker (a process there), not to a
//! message: what one message sets, the next one still sees until reset.

use crate::host::Ctx;
use sipvm_vm::{ArgValue, HostError, PvKey, Value};
use std::cell::RefCell;

/// The fields sipvm honours: a branch here is a URI and flags (`$du` only for set_ruri).
#[derive(Default, Clone)]
struct SBranch {
    uri: String,
    dst_uri: String,
    flags: u32,
}

thread_local! {
    static SB: RefCell<SBranch> = RefCell::new(SBranch::default());
}

const KEYS: &[&str] = &[
    "uri",
    "dst_uri",
    "path",
    "q",
    "Q",
    "send_socket",
    "count",
    "flags",
    "ruid",
    "location_ua",
    "otcpid",
    "instance",
];

fn key<'k>(k: &PvKey<'k>) -> Result<&'k str, HostError> {
    let n = k.name.unwrap_or("");
    if KEYS.contains(&n) {
        Ok(n)
    } else {
        Err(HostError(format!("unknown $sbranch key: {n}")))
    }
}

/// `$sbranch(key)`: null for an empty static branch (but `count`, the number of branches).
pub fn get(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    let n = key(&k)?;
    if n == "count" {
        return Ok(Value::Int(ctx.branches.len() as i64));
    }
    let b = SB.with(|s| s.borrow().clone());
    if b.uri.is_empty() {
        return Ok(Value::Null);
    }
    let text = |s: &str| {
        if s.is_empty() {
            Value::Null
        } else {
            Value::str(s)
        }
    };
    Ok(match n {
        "uri" => Value::str(&b.uri),
        "dst_uri" => text(&b.dst_uri),
        "flags" => Value::Int(i64::from(b.flags)),
        "otcpid" => Value::Int(0),
        // Never set in sipvm (assigning them is refused).
        _ => Value::Null,
    })
}

/// Assigning `$sbranch(key)`: `uri` (null or empty clears the whole branch), `dst_uri`,
/// `flags`; `count`, `ruid`, `location_ua`, `instance` change nothing, as in Kamailio;
/// `path`, `q`, `send_socket`, `otcpid` are refused (sipvm's branches cannot carry them).
pub fn set(_: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    let n = key(&k)?;
    SB.with(|s| {
        let mut b = s.borrow_mut();
        match (n, v) {
            ("uri", Value::Null) => *b = SBranch::default(),
            ("uri", Value::Str(u)) if u.is_empty() => *b = SBranch::default(),
            ("uri", Value::Str(u)) => b.uri = u.to_string(),
            ("dst_uri", Value::Null) => b.dst_uri.clear(),
            ("dst_uri", Value::Str(u)) => b.dst_uri = u.to_string(),
            ("flags", Value::Null) => b.flags = 0,
            ("flags", Value::Int(f)) => b.flags = f as u32,
            ("count" | "ruid" | "location_ua" | "instance", _) => {}
            ("uri" | "dst_uri", _) => return Err(HostError("str value required".into())),
            ("flags", _) => return Err(HostError("int value required".into())),
            (n, _) => {
                return Err(HostError(format!(
                    "$sbranch({n}) cannot be set: sipvm's branches do not carry it"
                )))
            }
        }
        Ok(())
    })
}

/// `sbranch_set_ruri()`: the Request-URI, `$du` (reset when the branch has none) and branch
/// 0's flags (or-ed in) from the static branch; -1 when it is empty.
pub fn sbranch_set_ruri(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let b = SB.with(|s| s.borrow().clone());
    if b.uri.is_empty() {
        return Ok(-1);
    }
    ctx.ruri = Some(b.uri);
    ctx.dst_uri = (!b.dst_uri.is_empty()).then_some(b.dst_uri);
    ctx.bflags |= b.flags;
    Ok(1)
}

/// `sbranch_append()`: a new branch with the static branch's URI and flags; -1 when it is
/// empty, or (sipvm) when it has a `dst_uri`, which a branch here cannot carry.
pub fn sbranch_append(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let b = SB.with(|s| s.borrow().clone());
    if b.uri.is_empty() {
        return Ok(-1);
    }
    if !b.dst_uri.is_empty() {
        tracing::error!("sbranch_append: a branch with a dst_uri is not supported");
        return Ok(-1);
    }
    ctx.push_branch(b.uri, b.flags);
    Ok(1)
}

/// `sbranch_reset()`: the static branch emptied; 1.
pub fn sbranch_reset(_: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    SB.with(|s| *s.borrow_mut() = SBranch::default());
    Ok(1)
}
