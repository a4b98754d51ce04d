//! Helpers for native implementations: their arguments as text and integers. The dispatch
//! itself is a table in `Shared`, indexed by registry id.

use sipvm_vm::{ArgValue, HostError, Value};

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
