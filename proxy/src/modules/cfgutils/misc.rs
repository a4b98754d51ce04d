//! cfgutils' global flags, `core_hash`, route checks, `abort`, the memory reports and
//! `$RANDOM` (Kamailio 5.6's cfgutils.c); see docs/modules/cfgutils.md.

use super::lock::Cfgutils;
use crate::host::natives::{arg_int, arg_str};
use crate::host::Ctx;
use sipvm_vm::{ArgValue, HostError, PvKey, RouteKind, Value};
use std::sync::atomic::Ordering;

/// The flag argument as its bit: Kamailio refuses a bad number or one outside 0..31 when the
/// script loads; sipvm refuses it when called.
fn gflag(args: &[ArgValue<'_>]) -> Result<u32, HostError> {
    let f = match arg_int(args, 0) {
        Ok(f) if f >= 0 => f,
        _ => {
            return Err(HostError(format!("bad number <{}>", arg_str(args, 0))));
        }
    };
    if f >= 32 {
        return Err(HostError(format!("flag <{f}> out of range [0..31]")));
    }
    Ok(1 << f)
}

/// `set_gflag(flag)`: sets one of the 32 flags every worker shares. Returns 1.
pub fn set_gflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let m = gflag(args)?;
    ctx.state::<Cfgutils>().gflags.fetch_or(m, Ordering::SeqCst);
    Ok(1)
}

/// `reset_gflag(flag)`: clears it. Returns 1.
pub fn reset_gflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let m = gflag(args)?;
    ctx.state::<Cfgutils>()
        .gflags
        .fetch_and(!m, Ordering::SeqCst);
    Ok(1)
}

/// `is_gflag(flag)`: 1 if set, -1 if not.
pub fn is_gflag(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let m = gflag(args)?;
    let g = ctx.state::<Cfgutils>().gflags.load(Ordering::SeqCst);
    Ok(if g & m != 0 { 1 } else { -1 })
}

pub use crate::host::hash::core_hash;

/// `core_hash(s1, s2, size)`: the hash of `s1` (and `s2` when not empty) in `2^size` slots
/// (2 when `size <= 0`), plus one so that it is always true.
pub fn w_core_hash(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let (s1, s2) = (arg_str(args, 0), arg_str(args, 1));
    let sz = arg_int(args, 2)?;
    // C's `1 << size` on x86: the count taken modulo 32.
    let size = if sz <= 0 {
        2
    } else {
        1u32.wrapping_shl(sz as u32)
    };
    let s2 = (!s2.is_empty()).then_some(s2.as_bytes());
    let h = core_hash(s1.as_bytes(), s2, size);
    Ok(i64::from((h as i32).wrapping_add(1)))
}

/// `check_route_exists(name)`: 1 when the file has a `route[name]` block, else -1.
pub fn check_route_exists(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let found = ctx.snap.program.route(RouteKind::Sub, &name).is_some();
    Ok(if found { 1 } else { -1 })
}

/// `route_if_exists(name)`: runs `route[name]` now when the file has one (its return value
/// is the result; `return 0` or `exit` there end the script), else -1.
pub fn route_if_exists(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    match ctx.snap.program.route(RouteKind::Sub, &name) {
        Some(r) => {
            ctx.route_call = Some(r);
            Ok(1)
        }
        None => Ok(-1),
    }
}

/// `abort()`: logs and aborts the whole server (a core dump where the system keeps them), as
/// Kamailio's process does.
pub fn abort(_: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    tracing::error!(target: "cfgutils", "abort called");
    std::process::abort()
}

/// The process's memory as the kernel reports it (`/proc/self/status`), in kB.
pub fn process_memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let fields: Vec<String> = ["VmRSS", "VmHWM", "VmData", "VmSize"]
        .iter()
        .filter_map(|k| {
            let l = status.lines().find(|l| l.starts_with(&format!("{k}:")))?;
            let v = l[k.len() + 1..].trim().trim_end_matches(" kB").trim();
            Some(format!("{k}={v} kB"))
        })
        .collect();
    if fields.is_empty() {
        "process memory unknown (no /proc/self/status)".into()
    } else {
        format!("process memory: {}", fields.join(" "))
    }
}

/// The memory reports: sipvm has no Kamailio pools, so each logs what it can truthfully say,
/// at Kamailio's default `memlog` level (L_DBG+1: below debug, tracing's trace).
fn memory_report(what: &str, pool: &str) -> i64 {
    tracing::trace!(target: "cfgutils", "{what}: sipvm has no {pool}; {}", process_memory());
    1
}

pub fn pkg_status(_: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(memory_report("pkg_status", "private memory pool"))
}

pub fn shm_status(_: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(memory_report(
        "shm_status",
        "shared memory pool (workers are threads of one heap)",
    ))
}

pub fn pkg_summary(_: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(memory_report(
        "pkg_summary",
        "private memory pool, nor a record of each allocation",
    ))
}

pub fn shm_summary(_: &mut Ctx<'_>, _: &[ArgValue<'_>]) -> Result<i64, HostError> {
    Ok(memory_report(
        "shm_summary",
        "shared memory pool, nor a record of each allocation",
    ))
}

/// `$RANDOM`: a random integer in 0..2^31-1 (Kamailio's `random()`).
pub fn random(_: &mut Ctx<'_>, _: PvKey<'_>) -> Result<Value, HostError> {
    Ok(Value::Int(i64::from(crate::host::rng::next_u32() >> 1)))
}

/// The hex MD5 of a file's content (Kamailio's `MD5File`).
pub fn md5_file(path: &str) -> Result<String, String> {
    use md5::{Digest, Md5};
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    let d = Md5::digest(&data);
    Ok(d.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_hash_as_kamailio() {
        // Values Kamailio 5.6.3 returned (minus the +1) on the e2e file.
        assert_eq!(core_hash(b"abc", None, 16), 2);
        assert_eq!(core_hash(b"alice", Some(b"example.org"), 2), 1);
        assert_eq!(
            core_hash(b"a longer string with bytes", Some(b"x"), 1 << 16),
            22417
        );
        assert_eq!(core_hash(b"", None, 8), 0);
    }
}
