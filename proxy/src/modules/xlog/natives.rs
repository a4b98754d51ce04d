//! xlog's natives and `$C` (Kamailio 5.6's xlog.c): lines go through `tracing` (target
//! `xlog`, which stands for Kamailio's default prefix `<script>: `); see docs/modules/xlog.md.

use crate::host::log::{level_of, Level};
use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl, PvImpl};
use sipvm_lang::compile::ModParamSetting;
use sipvm_vm::{ArgValue, HostError, PvKey, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Kamailio's default prefix, which the `xlog` target already stands for.
const DEFAULT_PREFIX: &str = "<script>: ";

/// xlog's parameters as one snapshot sets them.
#[derive(Debug)]
pub struct XlogCfg {
    buf_size: usize,
    force_color: bool,
    long_format: bool,
    /// Written before each line; empty for Kamailio's default.
    prefix: String,
    facility: Option<u8>,
    methods_filter: i64,
}

impl XlogCfg {
    /// Reads and checks the parameters (also `sipvm check`'s check).
    pub fn read(get: impl Fn(&str) -> Option<Value>) -> Result<XlogCfg, String> {
        let int = |n: &str, d: i64| get(n).map_or(d, |v| v.to_int());
        let buf_size = int("buf_size", 4096);
        if buf_size <= 0 {
            return Err(format!("xlog: buf_size {buf_size}: must be positive"));
        }
        let prefix: String =
            get("prefix").map_or_else(|| DEFAULT_PREFIX.into(), |v| v.to_str().into());
        if int("prefix_mode", 0) != 0 && prefix.contains('$') {
            return Err(
                "xlog: prefix_mode with pseudo-variables in prefix is not supported \
                 (sipvm cannot expand a module parameter per message)"
                    .into(),
            );
        }
        let facility = match get("log_facility") {
            None => None,
            Some(v) => {
                let s = v.to_str();
                Some(
                    crate::logging::facility(&s)
                        .ok_or_else(|| format!("xlog: invalid syslog facility {s}"))?,
                )
            }
        };
        Ok(XlogCfg {
            buf_size: buf_size as usize,
            force_color: int("force_color", 0) != 0,
            long_format: int("long_format", 0) == 1,
            prefix: if prefix == DEFAULT_PREFIX {
                String::new()
            } else {
                prefix
            },
            facility,
            methods_filter: int("methods_filter", -1),
        })
    }
}

/// The parameters of one snapshot: the cache holds its `modparams`, so a new snapshot (a
/// reload) can never share the allocation.
type Cached = (Arc<[ModParamSetting]>, Rc<XlogCfg>);

thread_local! {
    /// This worker's parameters, for the snapshot that set them.
    static CFG: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

fn cfg(ctx: &Ctx<'_>) -> Rc<XlogCfg> {
    let params = &ctx.snap.modparams;
    CFG.with(|c| {
        let mut c = c.borrow_mut();
        if let Some((p, x)) = &*c {
            if Arc::ptr_eq(p, params) {
                return x.clone();
            }
        }
        // Checked when the file loaded; a failure here falls back to the defaults.
        let x = Rc::new(
            XlogCfg::read(|n| ctx.snap.modparam("xlog", n).cloned())
                .or_else(|_| XlogCfg::read(|_| None))
                .expect("defaults are valid"),
        );
        *c = Some((params.clone(), x.clone()));
        x
    })
}

/// Kamailio's `is_printable`: formats only lines the filter lets through.
fn printable(level: Level) -> bool {
    match level {
        Level::Err => tracing::enabled!(target: "xlog", tracing::Level::ERROR),
        Level::Warn => tracing::enabled!(target: "xlog", tracing::Level::WARN),
        Level::Info => tracing::enabled!(target: "xlog", tracing::Level::INFO),
        Level::Debug => tracing::enabled!(target: "xlog", tracing::Level::DEBUG),
    }
}

/// How a line names its place in the file: `line:` or, with `long_format`, `file:line:`.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    None,
    Line,
}

/// Logs one line: `buf_size` bounds the text as Kamailio's buffer does (-1 when it does
/// not fit), then prefix, place, facility.
fn log(
    ctx: &Ctx<'_>,
    level: Level,
    text: &str,
    place: Place,
    facility: Option<u8>,
) -> Result<i64, HostError> {
    let c = cfg(ctx);
    if text.len() >= c.buf_size {
        tracing::error!(target: "xlog::buffer", "buffer overflow -- increase the buffer size...");
        return Ok(-1);
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    let mut line = c.prefix.clone();
    if place == Place::Line {
        let at = ctx.call_pc.and_then(|pc| ctx.snap.program.span(pc));
        let (file, n) = at.map_or(("", 0), |(f, s)| (f, s.line));
        if c.long_format {
            line.push_str(file);
            line.push(':');
        }
        line.push_str(&format!("{n}:"));
    }
    line.push_str(text);
    match facility.or(c.facility) {
        Some(code) => crate::logging::with_facility(code, || {
            crate::log_at!("xlog", level, line);
        }),
        None => crate::log_at!("xlog", level, line),
    }
    Ok(1)
}

/// `(level, text, facility)` of `xlog`/`xlogl`'s one, two or three arguments.
fn split(args: &[ArgValue<'_>]) -> Result<(Level, String, Option<u8>), HostError> {
    Ok(match args.len() {
        1 => (Level::Err, arg_str(args, 0).into_owned(), None),
        2 => (
            level_of(&arg_str(args, 0)),
            arg_str(args, 1).into_owned(),
            None,
        ),
        _ => {
            let name = arg_str(args, 0);
            let Some(code) = crate::logging::facility(&name) else {
                return Err(HostError(format!("xlog: unknown facility {name:?}")));
            };
            (
                level_of(&arg_str(args, 1)),
                arg_str(args, 2).into_owned(),
                Some(code),
            )
        }
    })
}

fn xlog_with(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>], place: Place) -> Result<i64, HostError> {
    let (level, text, facility) = split(args)?;
    if !printable(level) {
        return Ok(1);
    }
    log(ctx, level, &text, place, facility)
}

/// `xlog([[facility,] level,] fmt)`; one argument logs at error, as Kamailio's does.
fn xlog(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    xlog_with(ctx, args, Place::None)
}

/// `xlogl(...)`: `xlog` with the call's line (`file:line` with `long_format=1`) in front.
fn xlogl(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    xlog_with(ctx, args, Place::Line)
}

fn at(
    ctx: &mut Ctx<'_>,
    level: Level,
    args: &[ArgValue<'_>],
    place: Place,
) -> Result<i64, HostError> {
    if !printable(level) {
        return Ok(1);
    }
    log(ctx, level, &arg_str(args, 0), place, None)
}

/// `xlogm(level, fmt)`: as `xlog(level, fmt)`, except for messages whose method (a reply's
/// CSeq method) is in `methods_filter`; the default -1 filters everything.
fn xlogm(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let filter = cfg(ctx).methods_filter;
    if filter == -1 {
        return Ok(1);
    }
    let method = if ctx.msg.is_request() {
        ctx.msg.method_str().to_string()
    } else {
        match ctx.msg.cseq() {
            Ok(c) => c.method.to_string(),
            Err(_) => {
                tracing::error!(target: "xlog", "cannot parse cseq header");
                return Ok(-1);
            }
        }
    };
    if i64::from(crate::modules::usrloc::method_bit(&method)) & filter != 0 {
        return Ok(1);
    }
    xlog_with(ctx, args, Place::None)
}

pub static IMPLS: &[Impl] = &[
    Impl {
        name: "xlog",
        f: xlog,
    },
    Impl {
        name: "xlogl",
        f: xlogl,
    },
    Impl {
        name: "xlogm",
        f: xlogm,
    },
    Impl {
        name: "xdbg",
        f: |c, a| at(c, Level::Debug, a, Place::None),
    },
    Impl {
        name: "xdbgl",
        f: |c, a| at(c, Level::Debug, a, Place::Line),
    },
    Impl {
        name: "xinfo",
        f: |c, a| at(c, Level::Info, a, Place::None),
    },
    Impl {
        name: "xnotice",
        f: |c, a| at(c, Level::Info, a, Place::None),
    },
    Impl {
        name: "xwarn",
        f: |c, a| at(c, Level::Warn, a, Place::None),
    },
    Impl {
        name: "xerr",
        f: |c, a| at(c, Level::Err, a, Place::None),
    },
    Impl {
        name: "xbug",
        f: |c, a| at(c, Level::Err, a, Place::None),
    },
    Impl {
        name: "xalert",
        f: |c, a| at(c, Level::Err, a, Place::None),
    },
    Impl {
        name: "xcrit",
        f: |c, a| at(c, Level::Err, a, Place::None),
    },
];

pub static PVS: &[PvImpl] = &[PvImpl {
    name: "C",
    get: color,
    set: None,
}];

/// The terminal escape of `$C(fb)` (Kamailio's `dprint_term_color`): an upper-case
/// foreground is bold; `x` is the default colour.
pub fn term_color(f: u8, b: u8) -> Option<String> {
    const FG: &[u8] = b"xsrgybpcwSRGYBPCW";
    const BG: &[u8] = b"xsrgybpcw";
    if !FG.contains(&f) || !BG.contains(&b) {
        return None;
    }
    let code = |c: u8| match c {
        b's' => 0,
        b'r' => 1,
        b'g' => 2,
        b'y' => 3,
        b'b' => 4,
        b'p' => 5,
        b'c' => 6,
        b'w' => 7,
        _ => 9,
    };
    let bold = u8::from(f.is_ascii_uppercase());
    Some(format!(
        "\x1b[{bold};3{};4{}m",
        code(f.to_ascii_lowercase()),
        code(b)
    ))
}

/// `$C(fb)`: the escape when logging to stderr or with `force_color`, else empty.
fn color(ctx: &mut Ctx<'_>, key: PvKey<'_>) -> Result<Value, HostError> {
    let name = key.name.unwrap_or("");
    let &[f, b] = name.as_bytes() else {
        return Err(HostError("color name must have two chars".into()));
    };
    let esc = term_color(f, b).ok_or_else(|| HostError("invalid color name".into()))?;
    if !crate::logging::to_stderr() && !cfg(ctx).force_color {
        return Ok(Value::str(""));
    }
    Ok(Value::str(&esc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_as_kamailio_writes_them() {
        assert_eq!(term_color(b'r', b'x').unwrap(), "\x1b[0;31;49m");
        assert_eq!(term_color(b'G', b'b').unwrap(), "\x1b[1;32;44m");
        assert_eq!(term_color(b'x', b'x').unwrap(), "\x1b[0;39;49m");
        assert!(term_color(b'q', b'x').is_none());
        assert!(term_color(b'r', b'R').is_none());
    }
}
