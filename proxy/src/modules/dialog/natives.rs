//! dialog's script functions.

use super::logic::{create, current, DlgCtx};
use super::table::{ByeTo, Dir, State, IFLAG_TIMER_NORESET};
use super::Dlg;
use crate::host::natives::{arg_int, arg_str, static_key};
use crate::host::{Ctx, Impl};
use sipvm_vm::{ArgValue, Host, HostError, Value};

/// `dlg_manage()`: an initial INVITE starts a dialog (1; -1 when it cannot: not an INVITE,
/// the table full); a request within a known dialog gives 1, else -1.
fn dlg_manage(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let has_totag = ctx.msg.to().ok().and_then(|t| t.tag()).is_some();
    let found = if has_totag { current(ctx) } else { create(ctx) };
    Ok(if found.is_some() { 1 } else { -1 })
}

/// The profile argument: it must be declared (Kamailio refuses an unknown one at start-up);
/// its value, for profiles with value.
fn profile(
    dlg: &Dlg,
    args: &[ArgValue<'_>],
    fname: &str,
) -> Result<(String, Option<String>), HostError> {
    let name = arg_str(args, 0).into_owned();
    let with_value = if dlg.profiles_wv.contains(&name) {
        true
    } else if dlg.profiles_nv.contains(&name) {
        false
    } else {
        return Err(HostError(format!("{fname}: profile <{name}> not defined")));
    };
    let value = (with_value && args.len() > 1).then(|| arg_str(args, 1).into_owned());
    if with_value && value.is_none() && fname == "set_dlg_profile" {
        return Err(HostError(format!(
            "{fname}: profile <{name}> needs a value"
        )));
    }
    Ok((name, value))
}

/// `set_dlg_profile(name[, value])`: 1, -1 without a dialog.
fn set_dlg_profile(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let dlg = ctx.state::<Dlg>();
    let (name, value) = profile(dlg, args, "set_dlg_profile")?;
    let Some(id) = current(ctx) else {
        return Ok(-1);
    };
    dlg.table.with(id, |d| {
        if !d.profiles.iter().any(|(n, v)| *n == name && *v == value) {
            d.profiles.push((name, value));
        }
    });
    Ok(1)
}

/// `unset_dlg_profile(name[, value])`: 1 when the dialog was in it, else -1.
fn unset_dlg_profile(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let dlg = ctx.state::<Dlg>();
    let (name, value) = profile(dlg, args, "unset_dlg_profile")?;
    let Some(id) = current(ctx) else {
        return Ok(-1);
    };
    let removed = dlg.table.with(id, |d| {
        let before = d.profiles.len();
        d.profiles
            .retain(|(n, v)| !(*n == name && (value.is_none() || *v == value)));
        d.profiles.len() != before
    });
    Ok(if removed == Some(true) { 1 } else { -1 })
}

/// `is_in_profile(name[, value])`: 1 when the message's dialog is in the profile.
fn is_in_profile(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let dlg = ctx.state::<Dlg>();
    let (name, value) = profile(dlg, args, "is_in_profile")?;
    let Some(id) = current(ctx) else {
        return Ok(-1);
    };
    let hit = dlg
        .table
        .with(id, |d| d.in_profile(&name, value.as_deref()));
    Ok(if hit == Some(true) { 1 } else { -1 })
}

/// `get_profile_size(name, value, pv)`: the number of dialogs in the profile into `pv`; 1.
/// The two-argument form `(name, pv)` needs the compiler to take its second argument as an
/// output: see docs/modules/dialog.md.
fn get_profile_size(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let dlg = ctx.state::<Dlg>();
    if args.len() < 3 {
        return Err(HostError(
            "get_profile_size(name, pv): sipvm supports the three-argument form only".into(),
        ));
    }
    let (name, value) = profile(dlg, &args[..2], "get_profile_size")?;
    let n = dlg.table.profile_size(&name, value.as_deref());
    let Some(ArgValue::Pv(pv)) = args.get(2) else {
        return Err(HostError(
            "get_profile_size: argument 3 is not a pseudo-variable".into(),
        ));
    };
    let prog = ctx.snap.program.clone();
    let key = static_key(&prog, *pv)?;
    ctx.set_pv(&prog, key, Value::Int(n as i64))?;
    Ok(1)
}

fn flag_arg(args: &[ArgValue<'_>]) -> Result<Option<u32>, HostError> {
    let n = arg_int(args, 0)?;
    Ok((0..32).contains(&n).then_some(n as u32))
}

/// `dlg_setflag(n)` / `dlg_resetflag(n)`: on the dialog's flags, or on those a dialog made
/// by this message will start with. 1, -1 for a flag outside 0..31.
fn change_flag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], set: bool) -> Result<i64, HostError> {
    let Some(f) = flag_arg(args)? else {
        return Ok(-1);
    };
    let apply = |v: &mut u32| {
        if set {
            *v |= 1 << f
        } else {
            *v &= !(1 << f)
        }
    };
    apply(&mut ctx.slots.entry::<DlgCtx>().flags);
    if let Some(id) = current(ctx) {
        ctx.state::<Dlg>().table.with(id, |d| apply(&mut d.sflags));
    }
    Ok(1)
}

fn dlg_setflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    change_flag(ctx, args, true)
}

fn dlg_resetflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    change_flag(ctx, args, false)
}

/// `dlg_isflagset(n)`: 1 when set on the dialog (or the message's pending flags), else -1.
fn dlg_isflagset(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(f) = flag_arg(args)? else {
        return Ok(-1);
    };
    let flags = match current(ctx) {
        Some(id) => ctx.state::<Dlg>().table.with(id, |d| d.sflags).unwrap_or(0),
        None => ctx.slots.get::<DlgCtx>().map_or(0, |s| s.flags),
    };
    Ok(if flags & (1 << f) != 0 { 1 } else { -1 })
}

/// `dlg_bye("caller"|"callee"|"all")`: BYE to that side (both for "all") of a confirmed
/// dialog, sent by the worker's next tick; 1, or -1 without a confirmed dialog.
fn dlg_bye(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let side = arg_str(args, 0);
    let to = match &*side {
        "caller" => ByeTo::Caller,
        "callee" => ByeTo::Callee,
        "all" => ByeTo::Both,
        s => return Err(HostError(format!("dlg_bye: invalid parameter {s:?}"))),
    };
    let Some(id) = current(ctx) else {
        return Ok(-1);
    };
    Ok(if ctx.state::<Dlg>().table.end(id, to) {
        1
    } else {
        -1
    })
}

/// `is_known_dlg()`: 1 when the message belongs to a dialog that is not deleted.
fn is_known_dlg(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(id) = current(ctx) else {
        return Ok(-1);
    };
    let alive = ctx
        .state::<Dlg>()
        .table
        .with(id, |d| d.state != State::Deleted);
    Ok(if alive == Some(true) { 1 } else { -1 })
}

/// `dlg_set_timeout(seconds[, h_entry, h_id])`: the dialog's lifetime (restarting a running
/// timeout from now); 1, -1 for a bad value or no dialog.
fn dlg_set_timeout(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let to = arg_int(args, 0)?;
    if to <= 0 {
        return Ok(-1);
    }
    let id = if args.len() >= 3 {
        let (e, i) = (arg_int(args, 1)?, arg_int(args, 2)?);
        match (u32::try_from(e), u32::try_from(i)) {
            (Ok(e), Ok(i)) => Some((u64::from(e) << 32) | u64::from(i)),
            _ => None,
        }
    } else {
        current(ctx)
    };
    let Some(id) = id else {
        return Ok(-1);
    };
    let now = super::logic::now_secs();
    let done = ctx.state::<Dlg>().table.with(id, |d| {
        d.lifetime = to as u64;
        if matches!(d.state, State::ConfirmedNa | State::Confirmed) {
            d.timer_at = now + d.lifetime;
        }
    });
    Ok(if done.is_some() { 1 } else { -1 })
}

/// `dlg_get(callid, ftag, ttag)`: makes the dialog with these identifiers (either
/// direction) the message's; 1, or -1 when an argument is empty or none matches.
fn dlg_get(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (c, f, t) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2));
    if c.is_empty() || f.is_empty() || t.is_empty() {
        return Ok(-1);
    }
    let Some((id, dir)) = ctx.state::<Dlg>().table.find(&c, &f, Some(&t)) else {
        return Ok(-1);
    };
    let s = ctx.slots.entry::<DlgCtx>();
    s.id = Some(id);
    s.dir = dir as u8;
    Ok(1)
}

/// Kamailio's `atoi`: leading blanks, a sign, then digits; 0 without any.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = rest
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg {
        -n
    } else {
        n
    }
}

/// `dlg_set_timeout_by_profile(profile, [value,] timeout)`: the lifetime of every dialog in
/// the profile (with that value, for a profile with values) past the unconfirmed state; a
/// running timeout restarts from now. 1; -1 for an empty value.
fn dlg_set_timeout_by_profile(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let dlg = ctx.state::<Dlg>();
    let name = arg_str(args, 0).into_owned();
    let with_value = dlg.profiles_wv.contains(&name);
    if !with_value && !dlg.profiles_nv.contains(&name) {
        return Err(HostError(format!(
            "dlg_set_timeout_by_profile: profile <{name}> not defined"
        )));
    }
    let (value, timeout) = if args.len() >= 3 {
        (Some(arg_str(args, 1).into_owned()), arg_str(args, 2))
    } else {
        (None, arg_str(args, 1))
    };
    let value = value.filter(|_| with_value);
    if value.as_deref() == Some("") {
        return Ok(-1);
    }
    let to = atoi(&timeout).clamp(0, i64::from(u32::MAX)) as u64;
    let now = super::logic::now_secs();
    dlg.table.each_mut(|d| {
        if !d.in_profile(&name, value.as_deref()) {
            return;
        }
        match d.state {
            State::Early => d.lifetime = to,
            State::ConfirmedNa | State::Confirmed => {
                d.lifetime = to;
                d.timer_at = now + to;
            }
            _ => {}
        }
    });
    Ok(1)
}

/// `dlg_set_property` / `dlg_reset_property`: `timeout-noreset` on the message's dialog
/// and on one it makes. The keep-alive properties are not implemented.
fn change_property(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], set: bool) -> Result<i64, HostError> {
    let p = arg_str(args, 0).into_owned();
    let flag = match p.as_str() {
        "" => return Ok(-1),
        "timeout-noreset" => IFLAG_TIMER_NORESET,
        "ka-src" | "ka-dst" => {
            return Err(HostError(format!(
                "dlg_set_property: {p}: dialog keep-alives are not implemented by sipvm"
            )))
        }
        _ => return Ok(-1),
    };
    let apply = |v: &mut u32| {
        if set {
            *v |= flag
        } else {
            *v &= !flag
        }
    };
    apply(&mut ctx.slots.entry::<DlgCtx>().iflags);
    if let Some(id) = current(ctx) {
        ctx.state::<Dlg>().table.with(id, |d| apply(&mut d.iflags));
    }
    Ok(1)
}

fn dlg_set_property(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    change_property(ctx, args, true)
}

fn dlg_reset_property(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    change_property(ctx, args, false)
}

/// `dlg_set_ruri()`: the Request-URI becomes the other side's Contact (the callee's for a
/// request from the caller); -1 without a dialog or a Contact.
fn dlg_set_ruri(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(id) = current(ctx) else {
        return Ok(-1);
    };
    let upstream = ctx.slots.get::<DlgCtx>().map(|s| s.dir) == Some(Dir::Upstream as u8);
    let contact = ctx.state::<Dlg>().table.with(id, |d| {
        if upstream {
            d.caller.contact.clone()
        } else {
            d.callee.contact.clone()
        }
    });
    match contact {
        Some(c) if !c.is_empty() => {
            ctx.ruri = Some(c);
            Ok(1)
        }
        _ => Ok(-1),
    }
}

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "dlg_get",
        f: dlg_get,
    },
    Impl {
        name: "dlg_set_timeout_by_profile",
        f: dlg_set_timeout_by_profile,
    },
    Impl {
        name: "dlg_set_property",
        f: dlg_set_property,
    },
    Impl {
        name: "dlg_reset_property",
        f: dlg_reset_property,
    },
    Impl {
        name: "dlg_set_ruri",
        f: dlg_set_ruri,
    },
    Impl {
        name: "dlg_manage",
        f: dlg_manage,
    },
    Impl {
        name: "set_dlg_profile",
        f: set_dlg_profile,
    },
    Impl {
        name: "unset_dlg_profile",
        f: unset_dlg_profile,
    },
    Impl {
        name: "is_in_profile",
        f: is_in_profile,
    },
    Impl {
        name: "get_profile_size",
        f: get_profile_size,
    },
    Impl {
        name: "dlg_setflag",
        f: dlg_setflag,
    },
    Impl {
        name: "dlg_resetflag",
        f: dlg_resetflag,
    },
    Impl {
        name: "dlg_isflagset",
        f: dlg_isflagset,
    },
    Impl {
        name: "dlg_bye",
        f: dlg_bye,
    },
    Impl {
        name: "is_known_dlg",
        f: is_known_dlg,
    },
    Impl {
        name: "dlg_set_timeout",
        f: dlg_set_timeout,
    },
];
