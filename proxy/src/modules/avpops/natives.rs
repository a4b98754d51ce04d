//! avpops' functions. Return codes as Kamailio 5.6.3's `avpops_impl.c`: 1 done or true, -1
//! nothing done, false, or an error. A parameter Kamailio would refuse at start-up (a bad
//! flag, a name that is not an AVP) is a host error here: sipvm's arguments are literal
//! strings read at the call, and the VM logs and counts the error and goes on with -1.

use super::spec::{self, OpValue, Operand};
use super::subst;
use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, HostError, Value};
use std::sync::Arc;

type R = Result<i64, HostError>;

fn cfg_err(f: &str, e: String) -> HostError {
    HostError(format!("{f}: {e}"))
}

fn bad_flag(f: &str, c: char) -> HostError {
    HostError(format!("{f}: bad flag <{c}>"))
}

/// `avp_print()`: logs every AVP, the newest first; 1.
fn avp_print(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> R {
    for (name, v) in ctx.avps.iter().rev() {
        tracing::info!(target: "avpops", "name=<{name}>");
        match v {
            Value::Int(n) => tracing::info!(target: "avpops", "\t\t\tval_int=<{n}>"),
            v => {
                let s = v.to_str();
                tracing::info!(target: "avpops", "\t\t\tval_str=<{s} / {}>", s.len())
            }
        }
    }
    Ok(1)
}

/// `avp_delete("$avp(name)[/g]")` or `avp_delete("s|i|*|a[flags]")`: the newest value (all
/// with `g`) of the AVP, or every AVP with a string name (`s`), an integer name (`i`, written
/// `$avp(i:N)`), or any (`*`, `a`). 1 when something was removed, else -1.
fn avp_delete(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let f = "avp_delete";
    let text = arg_str(args, 0);
    let (what, flags) = spec::split_flags(&text);
    let mut all = false;
    for c in flags.unwrap_or("").chars() {
        match c {
            'g' | 'G' => all = true,
            c => return Err(bad_flag(f, c)),
        }
    }
    let doomed: Vec<usize> = if what.starts_with('$') {
        let name = spec::avp_name(what).map_err(|e| cfg_err(f, e))?;
        let vals = spec::values(ctx, &name);
        let n = if all { vals.len() } else { 1 };
        vals.iter().take(n).map(|(i, _)| *i).collect()
    } else {
        let mut cs = what.chars();
        let kind = cs.next().ok_or_else(|| {
            cfg_err(
                f,
                "bad param - expected : $avp(name), *, s or i value".into(),
            )
        })?;
        // The script flags after the letter are read but, as in Kamailio, not used.
        let rest: String = cs.collect();
        if !rest.is_empty() && rest.parse::<u32>().is_err() {
            return Err(cfg_err(f, "bad avp flags".into()));
        }
        let int_name = |n: &str| n.starts_with("i:") || n.starts_with("I:");
        let pick: fn(bool) -> bool = match kind {
            's' | 'S' => |int| !int,
            'i' | 'I' => |int| int,
            '*' | 'a' | 'A' => |_| true,
            _ => {
                return Err(cfg_err(
                    f,
                    "bad param - expected : *, s or i AVP flag".into(),
                ))
            }
        };
        ctx.avps
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| pick(int_name(n)))
            .map(|(i, _)| i)
            .collect()
    };
    spec::remove(ctx, &doomed);
    Ok(if doomed.is_empty() { -1 } else { 1 })
}

/// `avp_copy("$avp(src)", "$avp(dst)[/gdns]")`: the newest value (all with `g`, which
/// reverses their order) added under the new name; `d` removes the copied ones, `n` turns a
/// string into an integer, `s` an integer into a string. 1 when one was copied, else -1.
fn avp_copy(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let f = "avp_copy";
    let src = spec::avp_name(&arg_str(args, 0)).map_err(|e| cfg_err(f, e))?;
    let text = arg_str(args, 1);
    let (dst, flags) = spec::split_flags(&text);
    let dst = spec::avp_name(dst).map_err(|e| cfg_err(f, e))?;
    let (mut all, mut del, mut to_int, mut to_str) = (false, false, false, false);
    for c in flags.unwrap_or("").chars() {
        match c.to_ascii_lowercase() {
            'g' => all = true,
            'd' => del = true,
            'n' => to_int = true,
            's' => to_str = true,
            _ => return Err(bad_flag(f, c)),
        }
    }
    let mut copied = Vec::new();
    for (i, v) in spec::values(ctx, &src) {
        let v = match v {
            Value::Str(s) if to_int => match s.parse::<u32>() {
                Ok(n) => Value::Int(i64::from(n)),
                Err(_) => {
                    tracing::error!(target: "avpops", "cannot convert str to int");
                    return Ok(-1);
                }
            },
            Value::Int(n) if to_str => Value::Str(Arc::from(n.to_string())),
            v => v,
        };
        spec::add(ctx, &dst, v);
        copied.push(i);
        if !all {
            break;
        }
    }
    if del {
        spec::remove(ctx, &copied);
    }
    Ok(if copied.is_empty() { -1 } else { 1 })
}

/// Where avp_pushto writes.
enum Dest {
    Ruri,
    RuriUser,
    RuriHost,
    DstUri,
    Branch,
}

/// `avp_pushto("$ru[/username|/domain]"|"$du"|"$br", "$pv[/g]")`: the value (every value of
/// an AVP with `g`; each after the first first pushes the current Request-URI as a branch)
/// written into the request. 1, or -1 when there is no value or it cannot go there.
fn avp_pushto(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let f = "avp_pushto";
    let dtext = arg_str(args, 0);
    let (d, dflag) = spec::split_flags(&dtext);
    let dest = match (d, dflag.map(str::to_ascii_lowercase).as_deref()) {
        ("$ru", None) => Dest::Ruri,
        ("$ru", Some("username")) => Dest::RuriUser,
        ("$ru", Some("domain")) => Dest::RuriHost,
        ("$du", None) => Dest::DstUri,
        ("$br", None) => Dest::Branch,
        ("$ru" | "$du" | "$br", Some(fl)) => {
            return Err(cfg_err(f, format!("unknown flag \"{fl}\"")))
        }
        _ => {
            return Err(cfg_err(
                f,
                format!("unsupported destination \"{d}\"; expected $ru,$du,$br"),
            ))
        }
    };
    let stext = arg_str(args, 1);
    let (src, rest) = spec::operand(&stext).map_err(|e| cfg_err(f, e))?;
    let mut all = false;
    if !rest.is_empty() {
        let fl = rest
            .strip_prefix('/')
            .ok_or_else(|| cfg_err(f, format!("bad param 2 \"{stext}\"")))?;
        for c in fl.chars() {
            match c {
                'g' | 'G' => all = true,
                c => return Err(bad_flag(f, c)),
            }
        }
    }
    let vals: Vec<Value> = match &src {
        Operand::Avp { name, .. } => {
            let v: Vec<Value> = spec::values(ctx, name)
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            if v.is_empty() {
                return Ok(-1);
            }
            if all {
                v
            } else {
                v.into_iter().take(1).collect()
            }
        }
        op => match spec::read(ctx, op).map_err(|e| cfg_err(f, e))? {
            // Kamailio's null pseudo-variable prints as "<null>".
            Value::Null => vec![Value::Str(Arc::from("<null>"))],
            v => vec![v],
        },
    };
    for (n, v) in vals.into_iter().enumerate() {
        let is_str = matches!(v, Value::Str(_));
        let text = v.to_str().into_owned();
        match dest {
            Dest::Ruri | Dest::RuriUser | Dest::RuriHost => {
                if n > 0 {
                    let cur = ctx.ruri_str().to_string();
                    ctx.branches.push(cur);
                }
                let r = match dest {
                    Dest::Ruri => {
                        ctx.ruri = Some(text);
                        Ok(())
                    }
                    Dest::RuriUser => spec::write(ctx, "rU", Value::Str(Arc::from(text))),
                    _ => spec::write(ctx, "rd", Value::Str(Arc::from(text))),
                };
                if let Err(e) = r {
                    tracing::error!(target: "avpops", "{f}: SET_XXXX_T action failed: {e}");
                    return Ok(-1);
                }
            }
            Dest::DstUri if is_str => ctx.dst_uri = Some(text),
            Dest::Branch if is_str => ctx.branches.push(text),
            _ => return Ok(-1),
        }
    }
    Ok(1)
}

/// A value to compare or compute with: an AVP's values, newest first, or one value.
fn op_values(ctx: &mut Ctx<'_>, f: &str, v: &OpValue) -> Result<Option<Vec<Value>>, HostError> {
    Ok(match v {
        OpValue::Fixed(x) => Some(vec![x.clone()]),
        OpValue::Pv(Operand::Avp { name, .. }) => {
            let vals: Vec<Value> = spec::values(ctx, name)
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            (!vals.is_empty()).then_some(vals)
        }
        OpValue::Pv(op) => Some(vec![spec::read(ctx, op).map_err(|e| cfg_err(f, e))?]),
    })
}

/// The string comparisons of avp_check.
fn check_str(
    op: &str,
    a: &str,
    b: &str,
    ci: bool,
    pv_re: bool,
    re: &mut Option<regex::Regex>,
) -> bool {
    let fold = |s: &str| s.to_ascii_lowercase();
    match op {
        "eq" if ci => a.eq_ignore_ascii_case(b),
        "eq" => a == b,
        "ne" if ci => !a.eq_ignore_ascii_case(b),
        "ne" => a != b,
        // Kamailio compares these without case, whatever the flags.
        "lt" => fold(a) < fold(b),
        "le" => fold(a) <= fold(b),
        "gt" => fold(a) > fold(b),
        "ge" => fold(a) >= fold(b),
        "re" => {
            // POSIX extended, ignoring case, newline-sensitive; a fixed one is built once.
            if pv_re || re.is_none() {
                match regex::RegexBuilder::new(b)
                    .case_insensitive(true)
                    .multi_line(true)
                    .build()
                {
                    Ok(r) => *re = Some(r),
                    Err(_) => {
                        tracing::error!(target: "avpops", "bad re <{b}>");
                        return false;
                    }
                }
            }
            re.as_ref().is_some_and(|r| r.is_match(a))
        }
        // Kamailio 5.6.3 as built has no FNM_CASEFOLD: `i` does not fold case here.
        "fm" => spec::fnmatch(b.as_bytes(), a.as_bytes(), false),
        _ => false,
    }
}

fn check_int(op: &str, a: i64, b: i64) -> bool {
    match op {
        "eq" => a == b,
        "ne" => a != b,
        "lt" => a < b,
        "le" => a <= b,
        "gt" => a > b,
        "ge" => a >= b,
        "and" => a & b != 0,
        "or" => a | b != 0,
        "xor" => a ^ b != 0,
        _ => false,
    }
}

/// `avp_check("$pv", "op/value[/gi]")`: 1 when the value (any value of the AVP with `g`)
/// compares true with the value (any value, when that is an AVP); values of different types
/// never match. -1 otherwise or when the AVP does not exist.
fn avp_check(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let f = "avp_check";
    let stext = arg_str(args, 0);
    let (src, rest) = spec::operand(&stext).map_err(|e| cfg_err(f, e))?;
    if !rest.is_empty() {
        return Err(cfg_err(f, format!("unexpected \"{rest}\" in param 1")));
    }
    let (op, val, flags) = spec::op_value(&arg_str(args, 1)).map_err(|e| cfg_err(f, e))?;
    if !matches!(
        op.as_str(),
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "re" | "fm" | "and" | "or" | "xor"
    ) {
        return Err(cfg_err(f, format!("unknown operation <{op}>")));
    }
    let (mut all, mut ci) = (false, false);
    for c in flags.chars() {
        match c {
            'g' | 'G' => all = true,
            'i' | 'I' => ci = true,
            c => return Err(bad_flag(f, c)),
        }
    }
    if op == "fm" && matches!(val, OpValue::Fixed(Value::Int(_))) {
        return Err(cfg_err(
            f,
            "fast_match operation requires string value or avp name/alias".into(),
        ));
    }
    let lhs: Vec<Value> = match &src {
        Operand::Avp { name, .. } => {
            let v: Vec<Value> = spec::values(ctx, name)
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            if v.is_empty() {
                return Ok(-1);
            }
            if all {
                v
            } else {
                v.into_iter().take(1).collect()
            }
        }
        op => vec![spec::read(ctx, op).map_err(|e| cfg_err(f, e))?],
    };
    let pv_re = matches!(val, OpValue::Pv(_));
    let mut re = None;
    for a in &lhs {
        let Some(rhs) = op_values(ctx, f, &val)? else {
            return Ok(-1);
        };
        for b in &rhs {
            let hit = match (a, b) {
                (Value::Int(x), Value::Int(y)) => check_int(&op, *x, *y),
                (Value::Str(x), Value::Str(y)) => check_str(&op, x, y, ci, pv_re, &mut re),
                _ => {
                    tracing::error!(target: "avpops", "value types don't match");
                    false
                }
            };
            if hit {
                return Ok(1);
            }
        }
    }
    Ok(-1)
}

/// `avp_op("$avp(src)[/$avp(dst)]", "op/value[/gd]")`: each integer value of the source
/// combined with the value (each integer value, for an AVP), the result added under the
/// destination (the source's name by default); `d` removes the source values used.
/// Results are 32-bit, as Kamailio's. 1, or -1 when the source is missing.
fn avp_op(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let f = "avp_op";
    let text = arg_str(args, 0);
    let (src, dst) = spec::split_flags(&text);
    let src = spec::avp_name(src).map_err(|e| cfg_err(f, e))?;
    let dst = match dst.filter(|d| !d.is_empty()) {
        Some(d) => spec::avp_name(d).map_err(|e| cfg_err(f, e))?,
        None => src.clone(),
    };
    let (op, val, flags) = spec::op_value(&arg_str(args, 1)).map_err(|e| cfg_err(f, e))?;
    if !matches!(
        op.as_str(),
        "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" | "not"
    ) {
        return Err(cfg_err(f, format!("unknown operation <{op}>")));
    }
    if matches!(val, OpValue::Fixed(Value::Str(_))) {
        return Err(cfg_err(f, "operations requires integer values".into()));
    }
    let mut del = false;
    for c in flags.chars() {
        match c {
            'g' | 'G' => {}
            'd' | 'D' => del = true,
            c => return Err(bad_flag(f, c)),
        }
    }
    let all = spec::values(ctx, &src);
    if all.is_empty() {
        return Ok(-1);
    }
    let ints: Vec<(usize, i64)> = all
        .iter()
        .filter_map(|(i, v)| match v {
            Value::Int(n) => Some((*i, *n)),
            _ => None,
        })
        .collect();
    if ints.is_empty() && op != "not" {
        return Ok(-1);
    }
    // The operand values: integers only (an AVP's string values are skipped; a string from
    // another pseudo-variable is an error).
    let rhs: Vec<i64> = match &val {
        OpValue::Fixed(v) => vec![v.to_int()],
        OpValue::Pv(Operand::Avp { name, .. }) => {
            let v: Vec<i64> = spec::values(ctx, name)
                .into_iter()
                .filter_map(|(_, v)| match v {
                    Value::Int(n) => Some(n),
                    _ => None,
                })
                .collect();
            if v.is_empty() {
                return Ok(-1);
            }
            v
        }
        OpValue::Pv(o) => match spec::read(ctx, o).map_err(|e| cfg_err(f, e))? {
            Value::Int(n) => vec![n],
            _ => {
                tracing::error!(target: "avpops", "dst value is str");
                return Ok(-1);
            }
        },
    };
    let lefts: Vec<Option<(usize, i64)>> = if ints.is_empty() {
        vec![None]
    } else {
        ints.into_iter().map(Some).collect()
    };
    let mut used = Vec::new();
    for l in lefts {
        let a = l.map_or(0, |(_, n)| n);
        for &b in &rhs {
            let r = match op.as_str() {
                "add" => a.wrapping_add(b),
                "sub" => a.wrapping_sub(b),
                "mul" => a.wrapping_mul(b),
                "div" | "mod" if b == 0 => {
                    tracing::error!(target: "avpops", "{} by 0", if op == "div" { "division" } else { "modulo" });
                    0
                }
                "div" => a.wrapping_div(b),
                "mod" => a.wrapping_rem(b),
                "and" => a & b,
                "or" => a | b,
                "xor" => a ^ b,
                _ => !b,
            };
            spec::add(ctx, &dst, Value::Int(i64::from(r as i32)));
        }
        if let Some((i, _)) = l {
            used.push(i);
        }
    }
    if del {
        spec::remove(ctx, &used);
    }
    Ok(1)
}

/// `avp_subst("$avp(src)[/$avp(dst)][/gd]", "/re/repl/flags")`: each string value that
/// matches (the newest only, without `g`) gives a new value under the destination; the
/// source value goes when `d` is given or there is no destination. 1 when one matched.
fn subst_avps(ctx: &mut Ctx<'_>, f: &str, spec_text: &str, expr: &str) -> R {
    let (src, rest) = spec::split_flags(spec_text);
    let src = spec::avp_name(src).map_err(|e| cfg_err(f, e))?;
    let (mut dst, mut flags) = (None, "");
    if let Some(rest) = rest.filter(|r| !r.is_empty()) {
        if rest.starts_with('$') {
            let (d, fl) = spec::split_flags(rest);
            dst = Some(spec::avp_name(d).map_err(|e| cfg_err(f, e))?);
            flags = fl.unwrap_or("");
        } else {
            flags = rest;
        }
    }
    let (mut all, mut del) = (false, false);
    for c in flags.chars() {
        match c {
            'g' | 'G' => all = true,
            'd' | 'D' => del = true,
            c => return Err(bad_flag(f, c)),
        }
    }
    let se = subst::cached(expr).map_err(|e| cfg_err(f, e))?;
    let vals = spec::values(ctx, &src);
    if vals.is_empty() {
        return Ok(-1);
    }
    let target = dst.clone().unwrap_or_else(|| src.clone());
    let mut done = Vec::new();
    for (i, v) in vals {
        let Value::Str(s) = v else {
            continue;
        };
        let Some(out) = se.apply(ctx, &s).map_err(|e| cfg_err(f, e))? else {
            continue;
        };
        spec::add(ctx, &target, Value::Str(Arc::from(out)));
        done.push(i);
        if !all {
            break;
        }
    }
    if del || dst.is_none() {
        spec::remove(ctx, &done);
    }
    Ok(if done.is_empty() { -1 } else { 1 })
}

fn avp_subst(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    subst_avps(ctx, "avp_subst", &arg_str(args, 0), &arg_str(args, 1))
}

/// Like avp_subst, with the expression's pseudo-variables expanded first (a format).
fn avp_subst_pv(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    subst_avps(ctx, "avp_subst_pv", &arg_str(args, 0), &arg_str(args, 1))
}

/// `is_avp_set("$avp(name)[/e|s|n]")` (or `$(avp(name)[i])`): 1 when the value (at the index,
/// counted from the newest) exists; with `e` only when it is empty or 0, `s` a string, `n`
/// an integer. Else -1.
fn is_avp_set(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let f = "is_avp_set";
    let text = arg_str(args, 0);
    let (what, flags) = spec::split_flags(&text);
    let (name, index) = match spec::operand(what).map_err(|e| cfg_err(f, e))? {
        (Operand::Avp { name, index }, "") => (name, index.unwrap_or(0)),
        _ => return Err(cfg_err(f, format!("bad attribute name <{text}>"))),
    };
    let (mut empty, mut want_str, mut want_int) = (false, false, false);
    let any = flags.is_none_or(str::is_empty);
    for c in flags.unwrap_or("").chars() {
        match c {
            'e' | 'E' => empty = true,
            'n' | 'N' if !want_str => want_int = true,
            's' | 'S' if !want_int => want_str = true,
            'n' | 'N' | 's' | 'S' => {
                return Err(cfg_err(f, format!("invalid flag combination <{c}>")))
            }
            c => return Err(bad_flag(f, c)),
        }
    }
    let vals = spec::values(ctx, &name);
    // The last ([-1]) and all ([*]) indexes are the newest value here, as in Kamailio.
    let Some((_, v)) = vals.get(usize::try_from(index).unwrap_or(0)) else {
        return Ok(-1);
    };
    if any {
        return Ok(1);
    }
    let is_str = !matches!(v, Value::Int(_));
    if (want_str && !is_str) || (want_int && is_str) {
        return Ok(-1);
    }
    if empty {
        let e = match v {
            Value::Int(n) => *n == 0,
            v => v.to_str().is_empty(),
        };
        return Ok(if e { 1 } else { -1 });
    }
    Ok(1)
}

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "avp_print",
        f: avp_print,
    },
    Impl {
        name: "avp_delete",
        f: avp_delete,
    },
    Impl {
        name: "avp_copy",
        f: avp_copy,
    },
    Impl {
        name: "avp_pushto",
        f: avp_pushto,
    },
    Impl {
        name: "avp_check",
        f: avp_check,
    },
    Impl {
        name: "avp_op",
        f: avp_op,
    },
    Impl {
        name: "avp_subst",
        f: avp_subst,
    },
    Impl {
        name: "avp_subst_pv",
        f: avp_subst_pv,
    },
    Impl {
        name: "is_avp_set",
        f: is_avp_set,
    },
];
