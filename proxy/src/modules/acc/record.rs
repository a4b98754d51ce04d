//! acc's settings and its log records: `ACC: <what>: timestamp=T;method=M;from_tag=F;
//! to_tag=T;call_id=C;code=N;reason=R` then each `log_extra` attribute, Kamailio's line.

use super::extra::Extras;
use crate::host::log::{level_of_int, Level};
use sipvm_cfg::Snapshot;

/// What a record reports (Kamailio's `ACC_*` texts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Answered,
    Missed,
    Request,
}

impl What {
    pub fn text(self) -> &'static str {
        match self {
            What::Answered => "ACC: transaction answered: ",
            What::Missed => "ACC: call missed: ",
            What::Request => "ACC: request accounted: ",
        }
    }
}

/// syslog facilities Kamailio accepts for `log_facility`.
const FACILITIES: &[&str] = &[
    "LOG_AUTH",
    "LOG_CRON",
    "LOG_DAEMON",
    "LOG_KERN",
    "LOG_LOCAL0",
    "LOG_LOCAL1",
    "LOG_LOCAL2",
    "LOG_LOCAL3",
    "LOG_LOCAL4",
    "LOG_LOCAL5",
    "LOG_LOCAL6",
    "LOG_LOCAL7",
    "LOG_LPR",
    "LOG_MAIL",
    "LOG_NEWS",
    "LOG_USER",
    "LOG_UUCP",
    "LOG_AUTHPRIV",
    "LOG_FTP",
    "LOG_SYSLOG",
];

/// The acc module's settings (modparams read at start-up).
#[derive(Debug)]
pub struct Acc {
    /// Whether the script loads acc.so at all.
    pub enabled: bool,
    pub log_flag: Option<u32>,
    pub log_missed_flag: Option<u32>,
    pub failed_flag: Option<u32>,
    pub early_media: bool,
    pub report_cancels: bool,
    pub detect_direction: bool,
    pub failed_filter: Vec<u16>,
    pub level: Level,
    /// Syslog facility code of `log_facility`.
    pub facility: u8,
    pub extras: Extras,
    /// `time_mode` and its attribute names and format.
    pub time: TimeMode,
    /// `reason_from_hf`: a received reply's Reason header gives the reason.
    pub reason_from_hf: bool,
    /// Transactions whose missed-call record (on a timeout) carried the local To-tag: the
    /// record of their final reply carries it too, as Kamailio's kept `to_tag` does.
    pub local_tags: std::sync::Mutex<std::collections::HashMap<u64, String>>,
}

/// Kamailio's `time_mode`: what follows `timestamp=` in a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeMode {
    /// 0 (and any other value): the seconds only.
    Secs,
    /// 1: `;<time_exten>=<microseconds>`.
    Usec(String),
    /// 2: `;<time_attr>=<seconds.milliseconds>`.
    Float(String),
    /// 3 (local time) and 4 (UTC): `;<time_attr>=<strftime(time_format)>`.
    Format {
        attr: String,
        fmt: String,
        utc: bool,
    },
}

impl TimeMode {
    fn from_snapshot(snap: &Snapshot) -> TimeMode {
        let attr = || str_param(snap, "time_attr").unwrap_or_else(|| "time_attr".into());
        match snap.modparam_int("acc", "time_mode", 0) {
            1 => {
                TimeMode::Usec(str_param(snap, "time_exten").unwrap_or_else(|| "time_exten".into()))
            }
            2 => TimeMode::Float(attr()),
            m @ (3 | 4) => TimeMode::Format {
                attr: attr(),
                fmt: str_param(snap, "time_format").unwrap_or_else(|| "%Y-%m-%d %H:%M:%S".into()),
                utc: m == 4,
            },
            _ => TimeMode::Secs,
        }
    }

    /// `timestamp=S` and the mode's attribute, for a time of `secs` and `usec`.
    pub fn stamp(&self, secs: u64, usec: u32) -> String {
        match self {
            TimeMode::Secs => format!("timestamp={secs}"),
            TimeMode::Usec(n) => format!("timestamp={secs};{n}={usec}"),
            TimeMode::Float(n) => {
                let f = secs as f64 + f64::from(usec) / 1e6;
                format!("timestamp={secs};{n}={f:.3}")
            }
            TimeMode::Format { attr, fmt, utc } => {
                format!("timestamp={secs};{attr}={}", strftime(secs, *utc, fmt))
            }
        }
    }
}

/// C's `strftime` into Kamailio's 128-byte buffer (empty when it does not fit).
fn strftime(secs: u64, utc: bool, fmt: &str) -> String {
    let t = secs as libc::time_t;
    // SAFETY: an all-zero tm is valid; the *_r functions write only into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let r = unsafe {
        if utc {
            libc::gmtime_r(&t, &mut tm)
        } else {
            libc::localtime_r(&t, &mut tm)
        }
    };
    let Ok(f) = std::ffi::CString::new(fmt) else {
        return String::new();
    };
    if r.is_null() {
        return String::new();
    }
    let mut buf = [0u8; 128];
    // SAFETY: buf is writable for its length; f is NUL-terminated; tm is initialised.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), f.as_ptr(), &tm) };
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// At most this many transactions wait for their final record with a remembered To-tag.
pub const MAX_LOCAL_TAGS: usize = 10_000;

fn flag(snap: &Snapshot, name: &str) -> Result<Option<u32>, String> {
    match snap.modparam_int("acc", name, -1) {
        -1 => Ok(None),
        n @ 0..=63 => Ok(Some(n as u32)),
        n => Err(format!("{name} {n} is not a flag (0-63)")),
    }
}

fn str_param(snap: &Snapshot, name: &str) -> Option<String> {
    snap.modparam("acc", name).map(|v| v.to_str().into_owned())
}

/// `failed_filter`: comma-separated 3-digit codes >= 300 (Kamailio's checks).
pub fn parse_failed_filter(s: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for c in s.split(',').filter(|c| !c.is_empty()) {
        let n: u16 = c
            .parse()
            .ok()
            .filter(|_| c.len() == 3)
            .ok_or_else(|| format!("failed_filter: {c:?} must have 3 digits"))?;
        if n < 300 {
            return Err(format!("failed_filter: invalid response code {n}"));
        }
        out.push(n);
    }
    if out.len() > 15 {
        return Err("failed_filter: too many elements".into());
    }
    Ok(out)
}

impl Acc {
    pub fn from_snapshot(snap: &Snapshot) -> Result<Acc, String> {
        let facility = str_param(snap, "log_facility").unwrap_or_else(|| "LOG_DAEMON".into());
        if !FACILITIES.contains(&facility.as_str()) {
            return Err(format!("log_facility: unknown facility {facility:?}"));
        }
        let facility = crate::logging::facility(&facility)
            .ok_or_else(|| format!("log_facility: unknown facility {facility:?}"))?;
        let enabled = snap.modules.iter().any(|m| m == "acc");
        // Records of end-to-end ACKs need tm to match a 2xx's ACK to its INVITE: not yet. The
        // default (and the stock file's 0) is what sipvm does.
        if snap.modparam_int("acc", "report_ack", 0) != 0 {
            return Err("report_ack 1 is not implemented by sipvm yet".into());
        }
        let max = snap.modparam_int("acc", "acc_extra_size", super::extra::MAX_EXTRAS as i64);
        let max = usize::try_from(max).map_err(|_| format!("acc_extra_size {max} < 0"))?;
        let extras = match str_param(snap, "log_extra") {
            Some(s) if enabled => Extras::compile(&s, &snap.modules, max)?,
            _ => Extras::default(),
        };
        Ok(Acc {
            enabled,
            log_flag: flag(snap, "log_flag")?,
            log_missed_flag: flag(snap, "log_missed_flag")?,
            failed_flag: flag(snap, "failed_transaction_flag")?,
            early_media: snap.modparam_int("acc", "early_media", 0) != 0,
            report_cancels: snap.modparam_int("acc", "report_cancels", 0) != 0,
            detect_direction: snap.modparam_int("acc", "detect_direction", 0) != 0,
            failed_filter: parse_failed_filter(
                &str_param(snap, "failed_filter").unwrap_or_default(),
            )?,
            level: level_of_int(snap.modparam_int("acc", "log_level", 1)),
            facility,
            extras,
            time: TimeMode::from_snapshot(snap),
            reason_from_hf: snap.modparam_int("acc", "reason_from_hf", 0) != 0,
            local_tags: Default::default(),
        })
    }

    pub fn is_set(flags: u64, f: Option<u32>) -> bool {
        f.is_some_and(|f| flags & (1u64 << f) != 0)
    }
}

/// The fixed attributes of a record.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Core {
    pub method: String,
    pub from_tag: String,
    pub to_tag: String,
    pub call_id: String,
    pub code: String,
    pub reason: String,
}

/// One record's text, as Kamailio writes it; `stamp` from [`TimeMode::stamp`].
pub fn line(what: What, stamp: &str, core: &Core, names: &[String], values: &[String]) -> String {
    let mut s = format!(
        "{}{stamp};method={};from_tag={};to_tag={};call_id={};code={};reason={}",
        what.text(),
        core.method,
        core.from_tag,
        core.to_tag,
        core.call_id,
        core.code,
        core.reason
    );
    for (n, v) in names.iter().zip(values) {
        s.push(';');
        s.push_str(n);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Writes a record at acc's level to syslog facility `log_facility`.
pub fn emit(acc: &Acc, text: &str) {
    crate::logging::with_facility(acc.facility, || match acc.level {
        Level::Err => tracing::error!(target: "acc", "{text}"),
        Level::Warn => tracing::warn!(target: "acc", "{text}"),
        Level::Info => tracing::info!(target: "acc", "{text}"),
        Level::Debug => tracing::debug!(target: "acc", "{text}"),
    })
}

/// Kamailio's `error_text()` (core/error.c): the reason it reports for a reply it made itself.
pub fn error_text(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        305 => "Use Proxy",
        380 => "Alternative Service",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        417 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-Out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        c if c >= 600 => "Global Failure",
        c if c >= 500 => "Server Failure",
        c if c >= 400 => "Request Failure",
        c if c >= 300 => "Redirection",
        c if c >= 200 => "Successful",
        c if c >= 100 => "Provisional",
        _ => "Unspecified",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_kamailios() {
        let core = Core {
            method: "INVITE".into(),
            from_tag: "1".into(),
            to_tag: "25711-1".into(),
            call_id: "1-25746@127.0.0.1".into(),
            code: "200".into(),
            reason: "OK".into(),
        };
        let names = vec!["src_user".to_string(), "src_ip".to_string()];
        let vals = vec!["caller".to_string(), "127.0.0.1".to_string()];
        assert_eq!(
            line(What::Answered, "timestamp=1796191641", &core, &names, &vals),
            "ACC: transaction answered: timestamp=1796191641;method=INVITE;from_tag=1;\
             to_tag=25711-1;call_id=1-25746@127.0.0.1;code=200;reason=OK;src_user=caller;\
             src_ip=127.0.0.1"
        );
    }

    #[test]
    fn time_modes_write_kamailios_attributes() {
        assert_eq!(TimeMode::Secs.stamp(10, 5), "timestamp=10");
        assert_eq!(
            TimeMode::Usec("te".into()).stamp(10, 5),
            "timestamp=10;te=5"
        );
        assert_eq!(
            TimeMode::Float("ta".into()).stamp(10, 123_456),
            "timestamp=10;ta=10.123"
        );
        let f = TimeMode::Format {
            attr: "ta".into(),
            fmt: "%Y-%m-%d %H:%M:%S".into(),
            utc: true,
        };
        assert_eq!(f.stamp(86_400, 0), "timestamp=86400;ta=1970-01-02 00:00:00");
    }

    #[test]
    fn failed_filter_is_checked() {
        assert_eq!(parse_failed_filter("404,486").unwrap(), vec![404, 486]);
        assert!(parse_failed_filter("200").is_err());
        assert!(parse_failed_filter("4040").is_err());
        assert_eq!(parse_failed_filter("").unwrap(), Vec::<u16>::new());
    }

    #[test]
    fn error_text_covers_the_common_codes() {
        assert_eq!(error_text(408), "Request Timeout");
        assert_eq!(error_text(404), "Not Found");
        assert_eq!(error_text(499), "Request Failure");
    }
}
