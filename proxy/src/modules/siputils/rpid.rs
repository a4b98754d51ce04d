//! siputils' Remote-Party-ID functions over the AVP named by `rpid_avp`.

use super::Options;
use crate::host::natives::arg_str;
use crate::host::Ctx;
use crate::sip::HeaderPos;
use sipvm_vm::{ArgValue, HostError, Value};

/// The name inside `$avp(...)` of the `rpid_avp` parameter (`None`: disabled with `""`).
pub(super) fn avp_name(param: &str) -> Result<Option<String>, String> {
    let p = param.trim();
    if p.is_empty() {
        return Ok(None);
    }
    match p.strip_prefix("$avp(").and_then(|r| r.strip_suffix(')')) {
        Some(n) if !n.is_empty() => Ok(Some(n.to_string())),
        _ => Err(format!(
            "siputils: rpid_avp {param:?}: sipvm takes an AVP written $avp(name)"
        )),
    }
}

/// The RPID AVP's string value of this message.
fn rpid(ctx: &Ctx<'_>) -> Option<String> {
    let name = ctx.state::<Options>().rpid_avp.as_deref()?;
    match ctx.avps.iter().rev().find(|(n, _)| &**n == name) {
        Some((_, Value::Str(s))) if !s.is_empty() => Some(s.to_string()),
        _ => None,
    }
}

/// `append_rpid_hf([prefix, suffix])`: `Remote-Party-ID: <prefix><rpid><suffix>` after the
/// last header (`rpid_prefix`/`rpid_suffix` without arguments); -1 without an RPID.
pub(super) fn append_rpid_hf(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(v) = rpid(ctx) else { return Ok(-1) };
    let o = ctx.state::<Options>();
    let (pre, suf) = if args.len() >= 2 {
        (arg_str(args, 0).into_owned(), arg_str(args, 1).into_owned())
    } else {
        (o.rpid_prefix.clone(), o.rpid_suffix.clone())
    };
    let line = format!("Remote-Party-ID: {pre}{v}{suf}\r\n");
    ctx.edits.add_header_raw(HeaderPos::End, line.as_bytes());
    Ok(1)
}

/// `is_rpid_user_e164()`: the user of the RPID's URI (inside `<>` when there are any) is
/// E.164; -1 without an RPID.
pub(super) fn is_rpid_user_e164(ctx: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let Some(v) = rpid(ctx) else { return Ok(-1) };
    let uri = match (v.find('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.as_str(),
    };
    let user = uri
        .split_once(':')
        .and_then(|(_, r)| r.split_once('@'))
        .map(|(u, _)| u);
    Ok(match user {
        Some(u) => super::checks::truth(super::checks::e164(u)),
        None => -1,
    })
}
