//! pv's time classes (Kamailio 5.6.3 pv_time.c): the message's time, taken on first use and
//! kept for the message (`$Ts`-like reads agree within one message), and the current time.

use crate::host::{Ctx, MsgState};
use sipvm_vm::{HostError, PvKey, Value};
use std::ffi::CString;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

type R = Result<Value, HostError>;

/// The message's time (Kamailio's `msg->tval`), set on first use.
pub struct MsgTime(SystemTime);

impl Default for MsgTime {
    fn default() -> Self {
        MsgTime(SystemTime::now())
    }
}

impl MsgTime {
    fn secs(&self) -> i64 {
        secs(self.0)
    }
    fn usecs(&self) -> i64 {
        usecs(self.0)
    }
}

impl MsgState for MsgTime {}

fn secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn usecs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_micros() as i64)
}

fn msg_time<'c>(ctx: &'c mut Ctx<'_>) -> &'c MsgTime {
    ctx.slots.entry::<MsgTime>()
}

/// `struct tm` of `t`, local or UTC.
fn tm(t: i64, utc: bool) -> Option<libc::tm> {
    let t = t as libc::time_t;
    // SAFETY: an all-zero tm is a valid value; the *_r functions write only into it.
    let mut out: libc::tm = unsafe { std::mem::zeroed() };
    let r = unsafe {
        if utc {
            libc::gmtime_r(&t, &mut out)
        } else {
            libc::localtime_r(&t, &mut out)
        }
    };
    (!r.is_null()).then_some(out)
}

/// C's `strftime` into Kamailio's 64-byte buffer; None when empty or too long.
pub fn strftime(t: i64, utc: bool, fmt: &str) -> Option<String> {
    let tm = tm(t, utc)?;
    let f = CString::new(fmt).ok()?;
    let mut buf = [0u8; 64];
    // SAFETY: buf is writable for its length; f is NUL-terminated; tm is initialised.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), f.as_ptr(), &tm) };
    (n > 0).then(|| String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// `ctime` without its newline.
fn ctime(t: i64) -> Value {
    strftime(t, false, "%a %b %e %H:%M:%S %Y")
        .map(|s| Value::Str(Arc::from(s)))
        .unwrap_or(Value::Null)
}

fn field(t: i64, utc: bool, name: &str) -> R {
    let Some(tm) = tm(t, utc) else {
        return Ok(Value::Null);
    };
    Ok(Value::Int(match name {
        "sec" => tm.tm_sec,
        "min" => tm.tm_min,
        "hour" => tm.tm_hour,
        "mday" => tm.tm_mday,
        "mon" => tm.tm_mon + 1,
        "year" => tm.tm_year + 1900,
        "wday" => tm.tm_wday + 1,
        "yday" => tm.tm_yday + 1,
        "isdst" => tm.tm_isdst,
        other => return Err(HostError(format!("unknown time field {other}"))),
    } as i64))
}

/// `$time(name)`: a field of the message's local time (`mon` 1-12, `wday` 1-7, `yday` 1-366).
pub fn time(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let t = msg_time(ctx).secs();
    field(t, false, k.name.unwrap_or(""))
}

/// `$utime(name)`: the same in UTC.
pub fn utime(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let t = msg_time(ctx).secs();
    field(t, true, k.name.unwrap_or(""))
}

fn fmt_value(s: Option<String>) -> Value {
    s.map(|s| Value::Str(Arc::from(s))).unwrap_or(Value::Null)
}

/// `$timef(format)`: the message's local time through `strftime`.
pub fn timef(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let t = msg_time(ctx).secs();
    Ok(fmt_value(strftime(t, false, k.name.unwrap_or(""))))
}

/// `$utimef(format)`: the same in UTC.
pub fn utimef(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let t = msg_time(ctx).secs();
    Ok(fmt_value(strftime(t, true, k.name.unwrap_or(""))))
}

/// `$Tf`: the message's time as `ctime` writes it; `$TF` the current time.
pub fn tf(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    let t = msg_time(ctx).secs();
    Ok(ctime(t))
}
pub fn tf_now(_: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(ctime(secs(SystemTime::now())))
}

/// `$Ts`: the message's Unix time (the same for the whole message).
pub fn ts_msg(ctx: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(Value::Int(msg_time(ctx).secs()))
}

/// `$TS`: the current Unix time.
pub fn ts_now(_: &mut Ctx<'_>, _: PvKey<'_>) -> R {
    Ok(Value::Int(secs(SystemTime::now())))
}

/// `$TV(s)`/`$TV(u)` the message's seconds and microseconds, `sn`/`un` now's, `Sn`
/// `sec.usec` now, `Fn` local `YYYY-MM-DD HH:MM:SS.usec` now.
pub fn tv(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> R {
    let now = SystemTime::now();
    Ok(match k.name.unwrap_or("") {
        "s" => Value::Int(msg_time(ctx).secs()),
        "u" => Value::Int(msg_time(ctx).usecs()),
        "sn" => Value::Int(secs(now)),
        "un" => Value::Int(usecs(now)),
        "Sn" => Value::Str(Arc::from(format!("{}.{:06}", secs(now), usecs(now)))),
        "Fn" => match strftime(secs(now), false, "%Y-%m-%d %H:%M:%S") {
            Some(s) => Value::Str(Arc::from(format!("{s}.{:06}", usecs(now)))),
            None => Value::Null,
        },
        other => return Err(HostError(format!("unknown $TV name {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_fields() {
        assert_eq!(
            strftime(0, true, "%a %b %e %H:%M:%S %Y").as_deref(),
            Some("Thu Jan  1 00:00:00 1970")
        );
        assert_eq!(
            strftime(86_400 * 59, true, "%Y-%m-%d").as_deref(),
            Some("1970-03-01")
        );
        assert_eq!(strftime(0, true, ""), None);
        assert_eq!(strftime(0, true, &"%Y".repeat(40)), None);
        assert_eq!(field(0, true, "year"), Ok(Value::Int(1970)));
        assert_eq!(field(0, true, "wday"), Ok(Value::Int(5)));
        assert_eq!(field(0, true, "mon"), Ok(Value::Int(1)));
        assert_eq!(field(0, true, "yday"), Ok(Value::Int(1)));
        assert!(field(0, true, "nope").is_err());
    }
}
