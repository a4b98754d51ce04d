//! htable's pseudo-variables (`$sht`, `$shtex`, `$shtcn`, `$shtcv`, `$shtinc`, `$shtdec`) and
//! natives, over the tables in `Shared::htable`. Return codes are Kamailio 5.6.3's.

use super::def::split_arrow;
use super::{now, By, CountOp, Htables, MatchOp, MsgState, Table};
use crate::host::natives::{arg_int, arg_str};
use crate::host::{Ctx, Impl, PvImpl};
use regex::Regex;
use sipvm_vm::{ArgValue, HostError, PvKey, Value};
use std::cell::RefCell;
use std::sync::Arc;

/// The table `name`, after applying the definitions of the message's snapshot (a reload may
/// have added tables).
fn table(ctx: &Ctx<'_>, name: &str) -> Option<Arc<Table>> {
    ctx.state::<Htables>().sync(ctx.snap);
    ctx.state::<Htables>().get(name)
}

/// `table=>key` of a pseudo-variable or a `sht_lock`-style argument.
fn split<'a>(what: &str, name: &'a str) -> Result<(&'a str, &'a str), HostError> {
    split_arrow(name).ok_or_else(|| HostError(format!("{what}: \"{name}\" is not table=>key")))
}

/// Kamailio compiles htable patterns POSIX-extended, case-insensitive, newline-sensitive. The
/// last pattern of each worker is kept compiled (a script usually repeats one pattern).
fn regex(pat: &str) -> Option<Regex> {
    thread_local! {
        static LAST: RefCell<Option<(String, Regex)>> = const { RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((p, r)) = &*last {
            if p == pat {
                return Some(r.clone());
            }
        }
        match regex::RegexBuilder::new(pat)
            .case_insensitive(true)
            .multi_line(true)
            .build()
        {
            Ok(r) => {
                *last = Some((pat.to_string(), r.clone()));
                Some(r)
            }
            Err(e) => {
                tracing::error!("htable: bad regular expression \"{pat}\": {e}");
                None
            }
        }
    })
}

/// The operator of `$shtcn`/`$shtcv` from its prefix.
fn count_op(spec: &str, by: By) -> CountOp<'_> {
    let (prefix, rest) = match spec.get(..2) {
        Some(p @ ("~~" | "~%" | "%~" | "==" | "eq" | "**")) => (p, &spec[2..]),
        _ => ("", spec),
    };
    if prefix == "**" {
        return CountOp::All;
    }
    if !prefix.is_empty() && rest.is_empty() {
        return CountOp::Nothing;
    }
    match prefix {
        "~%" => CountOp::EndsWith(rest),
        "%~" => CountOp::StartsWith(rest),
        "==" => CountOp::Eq(rest),
        "eq" if by == By::Name => CountOp::Nothing,
        "eq" => CountOp::IntEq(sipvm_vm::value::parse_int(rest).unwrap_or(0)),
        _ if rest.is_empty() => CountOp::Nothing,
        _ => regex(rest).map(CountOp::Re).unwrap_or(CountOp::Nothing),
    }
}

/// `table=>key` of a pseudo-variable and the table; `None` for an unknown table, which
/// reads as null, as in Kamailio.
fn entry<'k>(
    ctx: &Ctx<'_>,
    class: &str,
    k: &PvKey<'k>,
) -> Result<Option<(Arc<Table>, &'k str)>, HostError> {
    let (tname, key) = split(class, k.name.unwrap_or(""))?;
    Ok(table(ctx, tname).map(|t| (t, key)))
}

macro_rules! getter {
    ($name:ident, $class:literal, |$t:ident, $key:ident, $now:ident| $body:expr) => {
        fn $name(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
            let Some(($t, $key)) = entry(ctx, $class, &k)? else {
                return Ok(Value::Null);
            };
            let $now = now();
            Ok($body)
        }
    };
}

getter!(sht, "sht", |t, key, now| t.get(key, now));
getter!(shtex, "shtex", |t, key, now| Value::Int(
    t.expire_in(key, now)
));
getter!(shtcn, "shtcn", |t, key, now| Value::Int(t.count(
    By::Name,
    &count_op(key, By::Name),
    now
)));
getter!(shtcv, "shtcv", |t, key, now| Value::Int(t.count(
    By::Value,
    &count_op(key, By::Value),
    now
)));
getter!(shtinc, "shtinc", |t, key, now| t
    .add(key, 1, now)
    .map(Value::Int)
    .unwrap_or(Value::Null));
getter!(shtdec, "shtdec", |t, key, now| t
    .add(key, -1, now)
    .map(Value::Int)
    .unwrap_or(Value::Null));

fn shtitkey(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    Ok(ctx.slots.entry::<MsgState>().key(k.name.unwrap_or("")))
}

fn shtitval(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    Ok(ctx.slots.entry::<MsgState>().value(k.name.unwrap_or("")))
}

/// Writing to an unknown table fails the assignment: logged, and the script goes on, as in
/// Kamailio.
fn target<'k>(
    ctx: &Ctx<'_>,
    class: &str,
    k: &PvKey<'k>,
) -> Result<Option<(Arc<Table>, &'k str)>, HostError> {
    let e = entry(ctx, class, k)?;
    if e.is_none() {
        let name = k.name.unwrap_or("");
        tracing::error!("${class}({name}): no such htable; assignment failed");
    }
    Ok(e)
}

/// `$sht(table=>key) = v` (`$null` deletes).
fn set_sht(ctx: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    if let Some((t, key)) = target(ctx, "sht", &k)? {
        match v {
            Value::Null => {
                t.delete(key, now());
            }
            v => t.set(key, v, 0, now()),
        }
    }
    Ok(())
}

/// `$shtex(table=>key) = seconds` to live.
fn set_shtex(ctx: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    if let Some((t, key)) = target(ctx, "shtex", &k)? {
        t.set_expire(key, v.try_int().unwrap_or(0), now());
    }
    Ok(())
}

/// htable's pseudo-variables (`$shtrecord` is not implemented: a compile error).
#[rustfmt::skip]
pub static PVS: &[PvImpl] = &[
    PvImpl { name: "sht", get: sht, set: Some(set_sht) },
    PvImpl { name: "shtex", get: shtex, set: Some(set_shtex) },
    PvImpl { name: "shtcn", get: shtcn, set: None },
    PvImpl { name: "shtcv", get: shtcv, set: None },
    PvImpl { name: "shtinc", get: shtinc, set: None },
    PvImpl { name: "shtdec", get: shtdec, set: None },
    PvImpl { name: "shtitkey", get: shtitkey, set: None },
    PvImpl { name: "shtitval", get: shtitval, set: None },
];

/// A table named by a non-empty argument; `None` (logged) when it does not exist.
fn named_table(ctx: &Ctx<'_>, f: &str, name: &str) -> Option<Arc<Table>> {
    if name.is_empty() {
        tracing::error!("{f}: no hash table name");
        return None;
    }
    let t = table(ctx, name);
    if t.is_none() {
        tracing::error!("{f}: cannot get hash table [{name}]");
    }
    t
}

/// `sht_print()`: every table's items, to the log.
fn sht_print(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    ctx.state::<Htables>().sync(ctx.snap);
    let now = now();
    for t in ctx.state::<Htables>().all() {
        tracing::info!(
            "htable[{}] slots: {} expire: {}",
            t.name(),
            t.slot_count(),
            t.def.autoexpire
        );
        for (slot, cells) in t.dump(now) {
            for c in cells {
                tracing::info!(
                    "htable[{}][{slot}] {} = {:?} expire: {}",
                    t.name(),
                    c.name,
                    c.value,
                    c.expire
                );
            }
        }
    }
    Ok(1)
}

/// `sht_rm(table, key)`.
fn sht_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let key = arg_str(args, 1);
    let Some(t) = named_table(ctx, "sht_rm", &arg_str(args, 0)) else {
        return Ok(-1);
    };
    if key.is_empty() {
        return Ok(-1);
    }
    t.delete(&key, now());
    Ok(1)
}

/// `sht_rm_name_re("table=>regexp")` / `sht_rm_value_re`: an unknown table is not an error.
fn rm_re(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], by: By) -> Result<i64, HostError> {
    let spec = arg_str(args, 0);
    let (tname, pat) = split("sht_rm_*_re", &spec)?;
    let Some(t) = table(ctx, tname) else {
        return Ok(1);
    };
    let Some(re) = regex(pat) else {
        return Ok(-1);
    };
    t.remove_matching(by, &MatchOp::Re(re), now());
    Ok(1)
}

/// The `(table, op, value)` arguments of `sht_rm_name`/`sht_rm_value` (ops `re`, `sw`) and
/// `sht_match_*` (also `eq`, `ne`): `f` on the table and the match, or -1 for an unknown
/// table, an empty op or value, a bad regex or another op.
fn with_match(
    ctx: &Ctx<'_>,
    args: &[ArgValue<'_>],
    what: &str,
    eq_ne: bool,
    f: impl FnOnce(&Table, &MatchOp<'_>) -> i64,
) -> i64 {
    let (op, val) = (arg_str(args, 1), arg_str(args, 2));
    let Some(t) = named_table(ctx, what, &arg_str(args, 0)) else {
        return -1;
    };
    if op.is_empty() || val.is_empty() {
        return -1;
    }
    let m = match &*op {
        "eq" if eq_ne => MatchOp::Eq(&val),
        "ne" if eq_ne => MatchOp::Ne(&val),
        "sw" => MatchOp::StartsWith(&val),
        "re" => match regex(&val) {
            Some(r) => MatchOp::Re(r),
            None => return -1,
        },
        other => {
            tracing::warn!("unsupported match operator: {other}");
            return -1;
        }
    };
    f(&t, &m)
}

/// `sht_rm_name(table, op, value)` / `sht_rm_value`: `re` or `sw` (starts with).
fn rm_items(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], by: By) -> Result<i64, HostError> {
    Ok(with_match(ctx, args, "sht_rm_name/value", false, |t, m| {
        t.remove_matching(by, m, now());
        1
    }))
}

/// `sht_match_name(table, op, value)` and friends: `eq`, `ne`, `re`, `sw`; 1 when an item
/// matches, -1 otherwise.
fn match_items(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], by: By) -> Result<i64, HostError> {
    Ok(with_match(ctx, args, "sht_match_*", true, |t, m| {
        if t.any_matching(by, m, now()) {
            1
        } else {
            -1
        }
    }))
}

/// The table and slot of `sht_lock("table=>key")` / `sht_unlock`; `None` (logged) for an
/// unknown table.
fn lock_slot_of(
    ctx: &Ctx<'_>,
    args: &[ArgValue<'_>],
    what: &str,
) -> Result<Option<(Arc<Table>, usize)>, HostError> {
    let spec = arg_str(args, 0);
    let (tname, key) = split(what, &spec)?;
    let Some(t) = table(ctx, tname) else {
        tracing::error!("{what}: cannot get $sht root [{tname}]");
        return Ok(None);
    };
    let slot = t.slot_of(key);
    Ok(Some((t, slot)))
}

/// `sht_lock("table=>key")`: takes the key's slot for this worker until `sht_unlock` or the
/// end of the script (sipvm releases what a script leaves held).
fn sht_lock(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some((t, slot)) = lock_slot_of(ctx, args, "sht_lock")? else {
        return Ok(-11);
    };
    t.lock_slot(slot);
    ctx.slots.entry::<MsgState>().locks.push((t, slot));
    Ok(1)
}

fn sht_unlock(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some((t, slot)) = lock_slot_of(ctx, args, "sht_unlock")? else {
        return Ok(-11);
    };
    let held = ctx
        .slots
        .entry::<MsgState>()
        .locks
        .iter()
        .rposition(|(h, s)| Arc::ptr_eq(h, &t) && *s == slot);
    match held {
        Some(i) => {
            ctx.slots.entry::<MsgState>().locks.remove(i);
            t.unlock_slot(slot);
        }
        None => {
            let spec = arg_str(args, 0);
            tracing::warn!("sht_unlock: slot of {spec} is not locked by this worker");
        }
    }
    Ok(1)
}

/// `sht_reset(table)`: empties it.
fn sht_reset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(t) = named_table(ctx, "sht_reset", &arg_str(args, 0)) else {
        return Ok(-1);
    };
    t.reset();
    Ok(1)
}

/// `sht_setxs(table, key, value, expire)` / `sht_setxi`: sets an item with its own expiry.
fn setx(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], v: Value) -> Result<i64, HostError> {
    let key = arg_str(args, 1);
    let exv = arg_int(args, 3)?;
    let Some(t) = named_table(ctx, "sht_setx*", &arg_str(args, 0)) else {
        return Ok(-1);
    };
    if key.is_empty() {
        return Ok(-1);
    }
    t.set(&key, v, exv, now());
    Ok(1)
}

fn sht_setxs(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let v = Value::str(&arg_str(args, 2));
    setx(ctx, args, v)
}

fn sht_setxi(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let v = Value::Int(arg_int(args, 2)?);
    setx(ctx, args, v)
}

/// `sht_iterator_start(iterator, table)`.
fn sht_iterator_start(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let iname = arg_str(args, 0);
    if iname.is_empty() {
        return Ok(-1);
    }
    let Some(t) = named_table(ctx, "sht_iterator_start", &arg_str(args, 1)) else {
        ctx.slots.entry::<MsgState>().end(&iname);
        return Ok(-1);
    };
    Ok(if ctx.slots.entry::<MsgState>().start(&iname, t) {
        1
    } else {
        -1
    })
}

fn sht_iterator_next(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(if ctx.slots.entry::<MsgState>().next(&arg_str(args, 0)) {
        1
    } else {
        -1
    })
}

fn sht_iterator_end(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(if ctx.slots.entry::<MsgState>().end(&arg_str(args, 0)) {
        1
    } else {
        -1
    })
}

fn sht_iterator_rm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(ctx.slots.entry::<MsgState>().remove(&arg_str(args, 0)))
}

fn sht_iterator_sets(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let v = Value::str(&arg_str(args, 1));
    Ok(ctx.slots.entry::<MsgState>().set(&arg_str(args, 0), v))
}

fn sht_iterator_seti(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let v = Value::Int(arg_int(args, 1)?);
    Ok(ctx.slots.entry::<MsgState>().set(&arg_str(args, 0), v))
}

fn sht_iterator_setex(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let secs = arg_int(args, 1)?;
    Ok(ctx
        .slots
        .entry::<MsgState>()
        .set_expire(&arg_str(args, 0), secs))
}

/// htable's natives sipvm implements.
pub static IMPLS: &[Impl] = &[
    Impl {
        name: "sht_print",
        f: sht_print,
    },
    Impl {
        name: "sht_rm",
        f: sht_rm,
    },
    Impl {
        name: "sht_rm_name_re",
        f: |c, a| rm_re(c, a, By::Name),
    },
    Impl {
        name: "sht_rm_value_re",
        f: |c, a| rm_re(c, a, By::Value),
    },
    Impl {
        name: "sht_rm_name",
        f: |c, a| rm_items(c, a, By::Name),
    },
    Impl {
        name: "sht_rm_value",
        f: |c, a| rm_items(c, a, By::Value),
    },
    Impl {
        name: "sht_match_name",
        f: |c, a| match_items(c, a, By::Name),
    },
    Impl {
        name: "sht_has_name",
        f: |c, a| match_items(c, a, By::Name),
    },
    Impl {
        name: "sht_match_str_value",
        f: |c, a| match_items(c, a, By::Value),
    },
    Impl {
        name: "sht_has_str_value",
        f: |c, a| match_items(c, a, By::Value),
    },
    Impl {
        name: "sht_lock",
        f: sht_lock,
    },
    Impl {
        name: "sht_unlock",
        f: sht_unlock,
    },
    Impl {
        name: "sht_reset",
        f: sht_reset,
    },
    Impl {
        name: "sht_setxs",
        f: sht_setxs,
    },
    Impl {
        name: "sht_setxi",
        f: sht_setxi,
    },
    Impl {
        name: "sht_iterator_start",
        f: sht_iterator_start,
    },
    Impl {
        name: "sht_iterator_next",
        f: sht_iterator_next,
    },
    Impl {
        name: "sht_iterator_end",
        f: sht_iterator_end,
    },
    Impl {
        name: "sht_iterator_rm",
        f: sht_iterator_rm,
    },
    Impl {
        name: "sht_iterator_sets",
        f: sht_iterator_sets,
    },
    Impl {
        name: "sht_iterator_seti",
        f: sht_iterator_seti,
    },
    Impl {
        name: "sht_iterator_setex",
        f: sht_iterator_setex,
    },
];
