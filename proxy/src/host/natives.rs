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

/// The `(code, reason)` arguments of a reply function (`sl_send_reply`, `t_reply`, ...); the
/// code must be 100..=699.
pub fn arg_code_reason(args: &[ArgValue<'_>]) -> Result<(u16, String), HostError> {
    let code = arg_int(args, 0)?;
    let code = u16::try_from(code)
        .ok()
        .filter(|c| (100..=699).contains(c))
        .ok_or_else(|| HostError(format!("bad reply code {code}")))?;
    Ok((code, arg_str(args, 1).into_owned()))
}
