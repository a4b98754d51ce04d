//! corex's pseudo-variables: `$cfg(line|name|file|route)` and `$lsock(match/value/field)`.

use crate::host::Ctx;
use crate::transport::Local;
use sipvm_vm::{HostError, PvKey, RouteKind, Value};

/// `$cfg(line)`: the line of the statement reading it; `$cfg(file)` (and `$cfg(name)`, the
/// same in Kamailio) its file; `$cfg(route)` the name of the route block it is in.
pub fn cfg_get(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let what = key.name.unwrap_or("");
    if !matches!(what, "line" | "name" | "file" | "route") {
        return Err(HostError(format!("unknown $cfg key: {what}")));
    }
    let prog = ctx.snap.program.clone();
    let Some(pc) = ctx.pc else {
        return Ok(if what == "line" {
            Value::Int(0)
        } else {
            Value::Null
        });
    };
    match what {
        "line" => Ok(Value::Int(
            prog.span(pc).map_or(0, |(_, s)| i64::from(s.line)),
        )),
        "route" => {
            // The block whose code holds `pc`: the one with the last entry not after it.
            let r = prog
                .routes
                .iter()
                .filter(|r| r.entry.ix() <= pc.ix())
                .max_by_key(|r| r.entry.ix());
            Ok(r.map_or(Value::Null, |r| Value::str(route_name(r.kind, &r.name))))
        }
        _ => Ok(prog.span(pc).map_or(Value::Null, |(f, _)| Value::str(f))),
    }
}

/// A block's name as Kamailio's `$cfg(route)` gives it: the name as written, or for an
/// unnamed block its kind's default (`DEFAULT_ROUTE`, `DEFAULT_ONREPLY`...).
fn route_name(kind: RouteKind, name: &str) -> &str {
    if !name.is_empty() && name != "0" {
        return name;
    }
    match kind {
        RouteKind::Request | RouteKind::Sub => "DEFAULT_ROUTE",
        RouteKind::Reply | RouteKind::OnReply => "DEFAULT_ONREPLY",
        RouteKind::Failure => "DEFAULT_FAILURE",
        RouteKind::Branch => "DEFAULT_BRANCH",
        RouteKind::OnSend => "DEFAULT_SEND",
        RouteKind::Event => "DEFAULT_EVENT",
    }
}

/// `$lsock(m/value/f)`: the listen socket matched by name (`n`), listen string (`l`,
/// `udp:127.0.0.1:5060`), advertised string (`a`) or index (`i`); then its field `f`: name,
/// listen string, advertised string (empty when none) or index. Null when no socket matches.
pub fn lsock_get(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let expr = key.name.unwrap_or("");
    let bad = || HostError(format!("invalid lsock expression format: {expr}"));
    let mut parts = expr.splitn(4, '/');
    let (Some(m), Some(val), Some(field), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    // Kamailio wants a one-letter match, and more than one character after the second `/`.
    let first = |s: &str| s.chars().next().filter(|c| "nlia".contains(*c));
    let (Some(mc), Some(fc)) = (first(m), first(field)) else {
        return Err(bad());
    };
    if m.len() != 1 || field.len() < 2 {
        return Err(bad());
    }
    let found = ctx.locals.iter().find(|l| match mc {
        'n' => l.name.as_deref() == Some(val),
        'l' => l.socket_str() == val,
        'a' => advertised(l).is_some_and(|a| a == val),
        _ => val.parse::<usize>().is_ok_and(|i| i == l.index),
    });
    let Some(l) = found else {
        return Ok(Value::Null);
    };
    Ok(match fc {
        'n' => Value::str(l.name.as_deref().unwrap_or("")),
        'l' => Value::str(&l.socket_str()),
        'a' => Value::str(&advertised(l).unwrap_or_default()),
        _ => Value::Int(l.index as i64),
    })
}

/// The advertised address as Kamailio prints it (`udp:1.2.3.4:5060`), when there is one.
fn advertised(l: &Local) -> Option<String> {
    l.advertise.as_ref()?;
    Some(format!(
        "{}:{}",
        l.proto.as_str(),
        crate::forward::via_sent_by(l)
    ))
}
