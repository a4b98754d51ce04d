//! The core's pseudo-variables (Kamailio's core and pv-module classes that sipvm serves): one
//! getter (and setter) per class, bound to the class's registry id when the server starts, so
//! a read is one indexed call.

use super::shv::Shv;
use crate::host::uri_edit::{rewrite_ruri, UriChange};
use crate::host::{Ctx, PvImpl};
use crate::modules::pv::{core_pvs as cp, time_pvs as tp, xpv};
use crate::sip::{HeaderName, NameAddr, Uri};
use sipvm_vm::{HostError, Index, PvKey, Value};
use std::sync::Arc;

type R = Result<Value, HostError>;

fn s(x: &str) -> Value {
    Value::Str(Arc::from(x))
}

fn bytes(b: &[u8]) -> Value {
    s(&String::from_utf8_lossy(b))
}

fn opt(x: Option<&str>) -> Value {
    x.map(s).unwrap_or(Value::Null)
}

fn name_addr<'m>(r: Result<&'m NameAddr<'m>, crate::sip::HeaderError>) -> Option<&'m NameAddr<'m>> {
    r.ok()
}

/// A header by name, with Kamailio's `$hdr` indexing: none is the first, `-1` the last,
/// `[*]` every value joined with `,`.
fn header(ctx: &Ctx<'_>, name: &str, index: Option<Index>) -> Value {
    let vals: Vec<&[u8]> = ctx.msg.header_values_by_name(name).collect();
    let pick = |i: i64| {
        let i = if i < 0 { vals.len() as i64 + i } else { i };
        usize::try_from(i)
            .ok()
            .and_then(|i| vals.get(i))
            .map(|v| bytes(v))
            .unwrap_or(Value::Null)
    };
    match index {
        None => pick(0),
        Some(Index::At(i)) => pick(i),
        Some(Index::All) if vals.is_empty() => Value::Null,
        Some(Index::All) => {
            let joined: Vec<String> = vals
                .iter()
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            s(&joined.join(","))
        }
    }
}

fn cur_uri<'c>(ctx: &'c Ctx<'_>) -> Option<Uri<'c>> {
    Uri::parse(ctx.ruri_str()).ok()
}

fn int(n: impl Into<i64>) -> Value {
    Value::Int(n.into())
}

macro_rules! getters {
    ($($name:ident => |$ctx:ident, $key:ident| $body:expr;)*) => {
        $(fn $name($ctx: &mut Ctx<'_>, $key: PvKey<'_>) -> R {
            let _ = (&$ctx, &$key);
            Ok($body)
        })*
    };
}

getters! {
    rm => |c, k| s(c.msg.method_str());
    ru => |c, k| s(c.ruri_str());
    ru_user => |c, k| opt(cur_uri(c).and_then(|u| u.user()));
    ru_host => |c, k| opt(cur_uri(c).map(|u| u.host()));
    ru_port => |c, k| int(cur_uri(c).and_then(|u| u.port()).unwrap_or(5060));
    ru_scheme => |c, k| opt(cur_uri(c).map(|u| u.scheme_str()));
    du => |c, k| opt(c.dst_uri.as_deref());
    fu => |c, k| opt(name_addr(c.msg.from()).map(|n| n.uri().as_str()));
    fu_user => |c, k| opt(name_addr(c.msg.from()).and_then(|n| n.uri().user()));
    fu_host => |c, k| opt(name_addr(c.msg.from()).map(|n| n.uri().host()));
    f_name => |c, k| opt(name_addr(c.msg.from()).and_then(|n| n.display()));
    f_tag => |c, k| opt(name_addr(c.msg.from()).and_then(|n| n.tag()));
    tu => |c, k| opt(name_addr(c.msg.to()).map(|n| n.uri().as_str()));
    tu_user => |c, k| opt(name_addr(c.msg.to()).and_then(|n| n.uri().user()));
    tu_host => |c, k| opt(name_addr(c.msg.to()).map(|n| n.uri().host()));
    t_name => |c, k| opt(name_addr(c.msg.to()).and_then(|n| n.display()));
    t_tag => |c, k| opt(name_addr(c.msg.to()).and_then(|n| n.tag()));
    ci => |c, k| opt(c.msg.call_id().ok());
    cs => |c, k| c.msg.cseq().map(|x| int(x.seq)).unwrap_or(Value::Null);
    rs => |c, k| c.msg.status().map(int).unwrap_or(Value::Null);
    rr => |c, k| c.msg.reason().map(bytes).unwrap_or(Value::Null);
    si => |c, k| s(&c.src.ip().to_string());
    sp => |c, k| int(c.src.port());
    ri => |c, k| s(&c.local.addr.ip().to_string());
    rp => |c, k| int(c.local.addr.port());
    proto => |c, k| s(c.local.proto.as_str());
    hdr => |c, k| header(c, k.name.unwrap_or(""), k.index);
    hdrc => |c, k| int(c.msg.header_values_by_name(k.name.unwrap_or("")).count() as i64);
    ua => |c, k| header(c, "User-Agent", None);
    ct => |c, k| c.msg.header_values(HeaderName::Contact).next().map(bytes).unwrap_or(Value::Null);
    c_type => |c, k| c.msg.header_values(HeaderName::ContentType).next().map(bytes).unwrap_or(Value::Null);
    cl => |c, k| c.msg.content_length().map(|n| int(n as i64)).unwrap_or(Value::Null);
    ml => |c, k| int(c.msg.len() as i64);
    mb => |c, k| bytes(c.msg.as_bytes());
    rb => |c, k| bytes(c.msg.body());
    flags => |c, k| int(c.flags as i64);
    bflags => |c, k| int(i64::from(c.bflags));
    avp => |c, k| {
        let n = k.name.unwrap_or("");
        c.avps.iter().rev().find(|(a, _)| &**a == n).map(|(_, v)| v.clone()).unwrap_or(Value::Null)
    };
    sel => |c, k| {
        let (g, n) = k
            .name
            .unwrap_or("")
            .strip_prefix("cfg_get.")
            .and_then(|r| r.split_once('.'))
            .unwrap_or(("", ""));
        c.snap.custom(g, n).map(|x| x.value.clone()).unwrap_or(Value::Null)
    };
}

fn shv(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    Ok(ctx.state::<Shv>().get(k.name.unwrap_or("")))
}

fn set_shv(ctx: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    ctx.state::<Shv>().set(k.name.unwrap_or(""), v);
    Ok(())
}

fn set_ru(ctx: &mut Ctx<'_>, _: PvKey<'_>, v: Value) -> Result<(), HostError> {
    ctx.ruri = Some(v.to_str().into_owned());
    Ok(())
}

/// `$rU` and `$rp`: the user or the port (`part` makes the change); `$null` removes it.
fn set_ru_part(
    ctx: &mut Ctx<'_>,
    v: &Value,
    part: fn(Option<&str>) -> UriChange<'_>,
) -> Result<(), HostError> {
    let text = v.to_str();
    rewrite_ruri(ctx, &part(Some(&*text).filter(|_| !v.is_null())));
    Ok(())
}

fn set_ru_host(ctx: &mut Ctx<'_>, _: PvKey<'_>, v: Value) -> Result<(), HostError> {
    rewrite_ruri(ctx, &UriChange::host(&v.to_str()));
    Ok(())
}

fn set_du(ctx: &mut Ctx<'_>, _: PvKey<'_>, v: Value) -> Result<(), HostError> {
    ctx.dst_uri = (!v.is_null()).then(|| v.to_str().into_owned());
    Ok(())
}

fn set_avp(ctx: &mut Ctx<'_>, k: PvKey<'_>, v: Value) -> Result<(), HostError> {
    let n: Arc<str> = Arc::from(k.name.unwrap_or(""));
    if v.is_null() {
        ctx.avps.retain(|(a, _)| *a != n);
    } else {
        ctx.avps.push((n, v));
    }
    Ok(())
}

/// `$bf`: branch 0's flags (kex `setbflag`), not the message flags.
fn set_bflags(ctx: &mut Ctx<'_>, _: PvKey<'_>, v: Value) -> Result<(), HostError> {
    ctx.bflags = v.to_int() as u32;
    Ok(())
}

fn set_flags(ctx: &mut Ctx<'_>, _: PvKey<'_>, v: Value) -> Result<(), HostError> {
    ctx.flags = v.to_int() as u64;
    Ok(())
}

const fn get(name: &'static str, get: crate::host::module::PvGetFn) -> PvImpl {
    PvImpl {
        name,
        get,
        set: None,
    }
}

const fn rw(
    name: &'static str,
    get: crate::host::module::PvGetFn,
    set: crate::host::module::PvSetFn,
) -> PvImpl {
    PvImpl {
        name,
        get,
        set: Some(set),
    }
}

/// The core classes sipvm implements; every other declared class is a compile error.
#[rustfmt::skip]
pub static PVS: &[PvImpl] = &[
    get("rm", rm), rw("ru", ru, set_ru),
    rw("rU", ru_user, |c, _, v| set_ru_part(c, &v, UriChange::user)),
    rw("rd", ru_host, set_ru_host),
    rw("rp", ru_port, |c, _, v| set_ru_part(c, &v, UriChange::port)),
    get("rz", ru_scheme),
    rw("du", du, set_du),
    get("fu", fu), get("fU", fu_user), get("fd", fu_host), get("fn", f_name), get("ft", f_tag),
    get("tu", tu), get("tU", tu_user), get("td", tu_host), get("tn", t_name), get("tt", t_tag),
    get("ci", ci), get("cs", cs), get("rs", rs), get("rr", rr),
    get("si", si), get("sp", sp), get("Ri", ri), get("Rp", rp),
    get("pr", proto), get("proto", proto),
    get("hdr", hdr), get("hdrc", hdrc), get("ua", ua), get("ct", ct), get("cT", c_type),
    get("cl", cl), get("ml", ml), get("mb", mb), get("rb", rb), get("Ts", tp::ts_msg),
    rw("bf", bflags, set_bflags), rw("mf", flags, set_flags),
    rw("avp", avp, set_avp), get("sel", sel), rw("shv", shv, set_shv),
    // pv's eXtended AVPs (modules/pv/xpv.rs).
    rw("xavp", xpv::get_xavp, xpv::set_xavp), rw("xavi", xpv::get_xavi, xpv::set_xavi),
    rw("xavu", xpv::get_xavu, xpv::set_xavu),
    rw("sbranch", crate::modules::pv::sbranch::get, crate::modules::pv::sbranch::set),
    // Aliases Kamailio's pv module declares for the classes above.
    rw("ruri", ru, set_ru), rw("ruri.user", ru_user, |c, _, v| set_ru_part(c, &v, UriChange::user)),
    rw("ruri.domain", ru_host, set_ru_host), rw("duri", du, set_du),
    get("from", fu), get("from.user", fu_user), get("from.domain", fu_host),
    get("to", tu), get("to.user", tu_user), get("to.domain", tu_host), get("src_ip", si),
    // More of pv's classes (modules/pv/core_pvs.rs).
    get("ou", cp::ou), get("ouri", cp::ou), get("oU", cp::o_user), get("od", cp::o_host),
    get("op", cp::o_port), get("oP", cp::o_proto), get("oUl", cp::o_user_len),
    get("rUl", cp::r_user_len), get("rP", cp::r_proto),
    get("fUl", cp::f_user_len), get("tUl", cp::t_user_len),
    get("dd", cp::d_host), get("dp", cp::d_port), get("dP", cp::d_proto),
    get("su", cp::su), get("sut", cp::sut), get("Ru", cp::ru_sock), get("Rut", cp::rut_sock),
    get("rv", cp::rv), get("csb", cp::csb), get("mt", cp::mt), get("mts", cp::mts),
    get("rmid", cp::rmid), get("true", cp::true_), get("K", cp::k),
    get("env", cp::env), get("envn", cp::envn),
    get("via0", cp::via0), get("via1", cp::via1), get("viaZ", cp::via_z),
    get("time", tp::time), get("utime", tp::utime), get("timef", tp::timef),
    get("utimef", tp::utimef), get("Tf", tp::tf), get("TF", tp::tf_now), get("TS", tp::ts_now),
    get("TV", tp::tv),
    get("ai", cp::ai), get("pu", cp::pu), get("pU", cp::p_user), get("pd", cp::pd),
    get("pn", cp::pn), get("rt", cp::rt), get("di", cp::di), get("dir", cp::dir),
    get("dip", cp::dip), get("dic", cp::dic),
];
