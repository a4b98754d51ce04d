//! `ipops`: Kamailio 5.6's ipops module: address checks and comparisons, subnets, Kamailio's
//! special-range names, `dns_query`/`dns_sys_match_ip` with `$dns`, and `$HN`. Lookups stay
//! on the host (`dns.rs`): address literals and `/etc/hosts` names only. The internal-resolver
//! functions, SRV and NAPTR queries are declared, not implemented.

mod dns;
pub mod ip;

use sipvm_lang::registry::ArgKind::{Fmt, IntFmt, Pv};
use sipvm_lang::registry::{FnDecl, ModuleDecl, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "ipops",
    functions: &[
        FnDecl { name: "is_ip", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_pure_ip", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_ipv4", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_ipv6", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_ipv6_reference", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "ip_type", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "detailed_ipv4_type", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "detailed_ipv6_type", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "detailed_ip_type", args: &[Fmt, Pv], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "compare_ips", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "compare_pure_ips", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "is_ip_rfc1918", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "is_in_subnet", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "dns_sys_match_ip", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "dns_int_match_ip", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "dns_query", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "srv_query", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "naptr_query", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "dns_set_local_ttl", args: &[IntFmt], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[],
    pvs: &[
        PvDecl { name: "dns", form: PvForm::Named, writable: false },
        PvDecl { name: "srvquery", form: PvForm::Named, writable: false },
        PvDecl { name: "naptrquery", form: PvForm::Named, writable: false },
        PvDecl { name: "HN", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

use crate::host::natives::{arg_str, set_out};
use crate::host::{Ctx, Impl, Module, PvImpl};
use ip::Kind;
use sipvm_vm::{ArgValue, HostError, PvKey, Value};
use std::sync::Arc;

type R = Result<i64, HostError>;

fn yes(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

fn kind0(args: &[ArgValue<'_>]) -> Option<Kind> {
    ip::kind(&arg_str(args, 0))
}

/// `is_ip(s)`: IPv4, IPv6 or an IPv6 reference.
fn is_ip(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(yes(kind0(args).is_some()))
}

fn is_pure_ip(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(yes(matches!(kind0(args), Some(Kind::V4 | Kind::V6))))
}

fn is_ipv4(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(yes(kind0(args) == Some(Kind::V4)))
}

fn is_ipv6(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(yes(kind0(args) == Some(Kind::V6)))
}

fn is_ipv6_reference(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(yes(kind0(args) == Some(Kind::V6Ref)))
}

/// `ip_type(s)`: 1 IPv4, 2 IPv6, 3 IPv6 reference, -1 none.
fn ip_type(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(match kind0(args) {
        Some(Kind::V4) => 1,
        Some(Kind::V6) => 2,
        Some(Kind::V6Ref) => 3,
        None => -1,
    })
}

fn detailed(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], want: Option<Kind>) -> R {
    let s = arg_str(args, 0).into_owned();
    let k = match want {
        Some(k) => Some(k),
        None => ip::kind(&s),
    };
    let name = match k {
        Some(Kind::V4) => ip::v4_type(&s),
        Some(Kind::V6 | Kind::V6Ref) => {
            let t = s
                .strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .unwrap_or(&s);
            ip::v6_type(t)
        }
        None => return Ok(-1),
    };
    let Some(name) = name else {
        tracing::error!("bad ip parameter");
        return Ok(-1);
    };
    set_out(ctx, args, 1, Value::Str(Arc::from(name)))?;
    Ok(1)
}

/// `detailed_ipv4_type(ip, dst)`: `PRIVATE`, `LOOPBACK`, `PUBLIC`...
fn detailed_ipv4_type(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    detailed(ctx, args, Some(Kind::V4))
}

fn detailed_ipv6_type(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    detailed(ctx, args, Some(Kind::V6))
}

fn detailed_ip_type(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    detailed(ctx, args, None)
}

/// `compare_ips(a, b)`: the same address (an IPv6 reference equals its IPv6).
fn compare_ips(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(yes(ip::same(&arg_str(args, 0), &arg_str(args, 1), true)))
}

/// `compare_pure_ips(a, b)`: the same, IPv6 references refused.
fn compare_pure_ips(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(yes(ip::same(&arg_str(args, 0), &arg_str(args, 1), false)))
}

fn is_ip_rfc1918(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(yes(ip::rfc1918(&arg_str(args, 0))))
}

/// `is_in_subnet(ip, "net/bits[,net/bits...]")`.
fn is_in_subnet(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(ip::in_subnet(&arg_str(args, 0), &arg_str(args, 1)))
}

/// `dns_query(host, name)`: fills the `$dns(name=>...)` container.
fn dns_query(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    Ok(dns::query(&arg_str(args, 0), &arg_str(args, 1)))
}

/// `dns_sys_match_ip(host, ip)`: 1 when `host` resolves to `ip`, -1 when not, -3 for a bad
/// address, -4 when `host` does not resolve.
fn dns_sys_match_ip(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> R {
    let (h, a) = (arg_str(args, 0), arg_str(args, 1));
    let a = a
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(&a);
    let Ok(want) = a.parse::<std::net::IpAddr>() else {
        tracing::error!("invalid ip address: {a}");
        return Ok(-3);
    };
    match dns::resolve(&h) {
        Ok(addrs) => Ok(yes(addrs.contains(&want))),
        Err(rc) => Ok(rc),
    }
}

fn get_dns(_: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    let name = k.name.unwrap_or("");
    let (c, key, idx) =
        dns::parse_name(name).map_err(|e| HostError(format!("$dns({name}): {e}")))?;
    dns::read(c, key, idx)
        .map(|v| v.unwrap_or(Value::Null))
        .map_err(|e| HostError(format!("$dns({name}): {e}")))
}

/// `$HN(n)` hostname, `$HN(f)` full name, `$HN(d)` domain, `$HN(i)` its first IPv4 address.
fn get_hn(_: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    let h = dns::host_names();
    let v = match k.name.unwrap_or("") {
        "n" => &h.name,
        "f" => &h.full,
        "d" => &h.domain,
        "i" => &h.ip,
        other => return Err(HostError(format!("unknown host PV name {other}"))),
    };
    Ok(if v.is_empty() {
        Value::Null
    } else {
        Value::Str(Arc::from(v.as_str()))
    })
}

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "is_ip",
        f: is_ip,
    },
    Impl {
        name: "is_pure_ip",
        f: is_pure_ip,
    },
    Impl {
        name: "is_ipv4",
        f: is_ipv4,
    },
    Impl {
        name: "is_ipv6",
        f: is_ipv6,
    },
    Impl {
        name: "is_ipv6_reference",
        f: is_ipv6_reference,
    },
    Impl {
        name: "ip_type",
        f: ip_type,
    },
    Impl {
        name: "detailed_ipv4_type",
        f: detailed_ipv4_type,
    },
    Impl {
        name: "detailed_ipv6_type",
        f: detailed_ipv6_type,
    },
    Impl {
        name: "detailed_ip_type",
        f: detailed_ip_type,
    },
    Impl {
        name: "compare_ips",
        f: compare_ips,
    },
    Impl {
        name: "compare_pure_ips",
        f: compare_pure_ips,
    },
    Impl {
        name: "is_ip_rfc1918",
        f: is_ip_rfc1918,
    },
    Impl {
        name: "is_in_subnet",
        f: is_in_subnet,
    },
    Impl {
        name: "dns_query",
        f: dns_query,
    },
    Impl {
        name: "dns_sys_match_ip",
        f: dns_sys_match_ip,
    },
];

pub static PVS: &[PvImpl] = &[
    PvImpl {
        name: "dns",
        get: get_dns,
        set: None,
    },
    PvImpl {
        name: "HN",
        get: get_hn,
        set: None,
    },
];

pub static MODULE: Module = Module {
    natives: IMPLS,
    pvs: PVS,
    ..Module::decl(&DECL)
};
