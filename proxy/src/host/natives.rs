//! Helpers for native implementations: their arguments as text and integers. The dispatch
//! itself is a table in `Shared`, indexed by registry id.

use sipvm_vm::{ArgValue, HostError, Index, Program, PvIdx, PvIndex, PvKey, PvName, Value};

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

/// The key of pseudo-variable `pv` of `prog` when its name and index are written out (no
/// format to expand): what a native that takes a pseudo-variable, or `$T_req(pv)`, reads
/// through the host without the VM. `$var`, `$rc`, `$null` and transformations are the VM's.
pub fn static_key(prog: &Program, pv: PvIdx) -> Result<PvKey<'_>, HostError> {
    let r = prog
        .pvs
        .get(pv.ix())
        .ok_or_else(|| HostError("no such pseudo-variable".into()))?;
    let unsupported = |why: &str| {
        HostError(format!(
            "{}: {why} are not supported here by sipvm yet",
            r.text
        ))
    };
    if r.class >= sipvm_vm::PV_CLASS_NULL {
        return Err(unsupported("$var, $rc and $null"));
    }
    if r.trans.is_some() {
        return Err(unsupported("transformations"));
    }
    let name = match &r.name {
        PvName::None | PvName::Pv(_) => None,
        PvName::Static(s) => Some(&**s),
        PvName::Dyn(_) => return Err(unsupported("dynamic names")),
    };
    let index = match r.index {
        PvIndex::None => None,
        PvIndex::Int(i) => Some(Index::At(i as i64)),
        PvIndex::All => Some(Index::All),
        PvIndex::Dyn(_) => return Err(unsupported("dynamic indexes")),
    };
    Ok(PvKey { pv, name, index })
}

/// The value of the pseudo-variable of argument `i`: handed by the VM for `$var` and the
/// like, else read through the host. Err when argument `i` is not a pseudo-variable.
pub fn arg_pv_value(
    ctx: &mut super::Ctx<'_>,
    args: &[ArgValue<'_>],
    i: usize,
) -> Result<Value, HostError> {
    let Some(ArgValue::Pv(pv)) = args.get(i) else {
        return Err(HostError(format!(
            "argument {} is not a pseudo-variable",
            i + 1
        )));
    };
    if let Some((_, v)) = ctx.pv_in.iter().find(|(p, _)| p == pv) {
        return Ok(v.clone());
    }
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    sipvm_vm::Host::get_pv(ctx, &prog, key)
}

/// Assigns `v` to the output pseudo-variable of argument `i` (any writable class, `$var`
/// included): the VM writes it when the native returns. Err when argument `i` is not one.
pub fn set_out(
    ctx: &mut super::Ctx<'_>,
    args: &[ArgValue<'_>],
    i: usize,
    v: Value,
) -> Result<(), HostError> {
    match args.get(i) {
        Some(ArgValue::Pv(pv)) => {
            ctx.pv_out.push((*pv, v));
            Ok(())
        }
        _ => Err(HostError(format!(
            "argument {} is not a pseudo-variable",
            i + 1
        ))),
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
