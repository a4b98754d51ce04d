//! Native functions: each module exports `IMPLS`, its implementations by name; the host
//! dispatches through a table indexed by registry id, so a call is one index, no lookup.

use super::ctx::Ctx;
use sipvm_vm::{ArgValue, HostError, Value};
use std::sync::OnceLock;

/// A native implementation: the script's arguments, already evaluated; the return code.
pub type NativeFn = fn(&mut Ctx<'_>, &[ArgValue<'_>]) -> Result<i64, HostError>;

/// One implemented native of a module.
pub struct Impl {
    pub name: &'static str,
    pub f: NativeFn,
}

/// The implementation of `module.name`, if sipvm has one.
pub fn find(module: &str, name: &str) -> Option<NativeFn> {
    crate::modules::impls(module)?
        .iter()
        .find(|i| i.name == name)
        .map(|i| i.f)
}

/// The implementation of the native with registry id `id`.
pub fn by_id(id: u16) -> Option<NativeFn> {
    static TABLE: OnceLock<Vec<Option<NativeFn>>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let reg = crate::modules::registry();
        reg.natives()
            .map(|(_, m, f)| find(reg.module(m).name, f.name))
            .collect()
    });
    t.get(id as usize).copied().flatten()
}

/// Argument `i` as text (literals and expanded formats).
pub fn arg_str<'v>(args: &'v [ArgValue<'_>], i: usize) -> std::borrow::Cow<'v, str> {
    match args.get(i) {
        Some(ArgValue::Val(v)) => v.to_str(),
        _ => std::borrow::Cow::Borrowed(""),
    }
}

/// Argument `i` as an integer (Kamailio's conversion of strings).
pub fn arg_int(args: &[ArgValue<'_>], i: usize) -> Result<i64, HostError> {
    match args.get(i) {
        Some(ArgValue::Val(Value::Int(n))) => Ok(*n),
        Some(ArgValue::Val(v)) => v.try_int().ok_or_else(|| {
            HostError(format!(
                "argument {} is not an integer: \"{}\"",
                i + 1,
                v.to_str()
            ))
        }),
        _ => Err(HostError(format!("argument {} is missing", i + 1))),
    }
}

/// The value of `modparam(module, param, ...)` in the snapshot (the last setting wins, as in
/// Kamailio), if the script sets it.
pub fn modparam<'s>(snap: &'s sipvm_cfg::Snapshot, module: &str, param: &str) -> Option<&'s Value> {
    snap.modparams
        .iter()
        .rev()
        .find(|m| m.module == module && m.param == param)
        .map(|m| &m.value)
}

/// An integer `modparam`, or `default` when unset (a string is converted as Kamailio does).
pub fn modparam_int(snap: &sipvm_cfg::Snapshot, module: &str, param: &str, default: i64) -> i64 {
    modparam(snap, module, param)
        .and_then(Value::try_int)
        .unwrap_or(default)
}
