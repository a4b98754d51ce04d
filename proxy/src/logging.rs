//! Where log lines go, as Kamailio's core parameters say: stderr (`log_stderror=yes`, or
//! `-E`), else syslog through `/dev/log` with `log_facility` and `log_name`; each line of a
//! message's handling starts with its `log_prefix` expansion.

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tracing::{Level, Metadata};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

thread_local! {
    static PREFIX: RefCell<String> = const { RefCell::new(String::new()) };
    static FACILITY: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `f` with its log lines sent to syslog facility `code` instead of the core's
/// `log_facility` (acc's and xlog's own facility); stderr shows no facility, as Kamailio's.
pub fn with_facility<R>(code: u8, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FACILITY.with(|c| c.set(self.0));
        }
    }
    let _r = Restore(FACILITY.with(|c| c.replace(Some(code))));
    f()
}

/// Sets this thread's log prefix while a message is handled (`None` clears it).
pub fn set_prefix(p: Option<&str>) {
    PREFIX.with(|c| {
        let mut c = c.borrow_mut();
        c.clear();
        c.push_str(p.unwrap_or(""));
    });
}

/// Clears the prefix when dropped, so an early return cannot leave it on the next message.
pub struct PrefixGuard(());

impl PrefixGuard {
    pub fn set(p: &str) -> PrefixGuard {
        set_prefix(Some(p));
        PrefixGuard(())
    }
}

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        set_prefix(None);
    }
}

/// The sink the core parameters choose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sink {
    Stderr,
    /// Syslog facility code (`LOG_LOCAL0` is 16) and the ident (`log_name`).
    Syslog {
        facility: u8,
        name: String,
    },
}

/// Kamailio's facility names (`LOG_LOCAL0`, or `local0`) to their codes.
pub fn facility(name: &str) -> Option<u8> {
    let n = name.trim().trim_matches('"').to_ascii_uppercase();
    let n = n.strip_prefix("LOG_").unwrap_or(&n);
    Some(match n {
        "KERN" => 0,
        "USER" => 1,
        "MAIL" => 2,
        "DAEMON" => 3,
        "AUTH" => 4,
        "SYSLOG" => 5,
        "LPR" => 6,
        "NEWS" => 7,
        "UUCP" => 8,
        "CRON" => 9,
        "AUTHPRIV" => 10,
        "FTP" => 11,
        l if l.len() == 6 && l.starts_with("LOCAL") => {
            let d = l.as_bytes()[5];
            if !(b'0'..=b'7').contains(&d) {
                return None;
            }
            16 + (d - b'0')
        }
        _ => return None,
    })
}

/// The sink of a snapshot: `-E` (stderr) wins, then an explicit `log_stderror=no` means
/// syslog. Unset, `sipvm run` keeps to stderr (it runs in the foreground; Kamailio's default
/// is syslog): docs/language.md, "Logging".
pub fn sink(snap: &sipvm_cfg::Snapshot, force_stderr: bool) -> Result<Sink, String> {
    let last = |n: &str| snap.global(n).last().map(|g| g.value.clone());
    let to_stderr = force_stderr || last("log_stderror").is_none_or(|v| v.to_int() != 0);
    if to_stderr {
        return Ok(Sink::Stderr);
    }
    // Kamailio's defaults: LOG_DAEMON, ident "kamailio" (sipvm's own name here).
    let facility = match last("log_facility") {
        Some(v) => {
            let s = v.to_str();
            facility(&s).ok_or_else(|| format!("log_facility {s}: not a syslog facility"))?
        }
        None => 3,
    };
    let name = last("log_name").map_or_else(|| "sipvm".to_string(), |v| v.to_str().into_owned());
    Ok(Sink::Syslog { facility, name })
}

/// Whether log lines go to stderr (Kamailio's `log_stderr`, which xlog's `$C` reads).
static TO_STDERR: AtomicBool = AtomicBool::new(true);

pub fn to_stderr() -> bool {
    TO_STDERR.load(Ordering::Relaxed)
}

/// Starts logging to `sink` with the tracing filter `filter`.
pub fn init(sink: &Sink, filter: &str) {
    use tracing_subscriber::prelude::*;
    TO_STDERR.store(*sink == Sink::Stderr, Ordering::Relaxed);
    let filter = LocalLevel(tracing_subscriber::EnvFilter::new(filter));
    match sink {
        Sink::Stderr => {
            let fmt = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .event_format(Prefixed(tracing_subscriber::fmt::format()));
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(fmt)
                .try_init();
        }
        Sink::Syslog { facility, name } => {
            let w = Syslog::connect(*facility, name);
            let fmt = tracing_subscriber::fmt::layer()
                .with_writer(w)
                .with_ansi(false)
                .event_format(Prefixed(
                    tracing_subscriber::fmt::format()
                        .without_time()
                        .with_target(false)
                        .with_level(false),
                ));
            let _ = tracing_subscriber::registry()
                .with(filter)
                .with(fmt)
                .try_init();
        }
    }
}

thread_local! {
    /// This thread's own most verbose level (Kamailio's per-process `setdebug`).
    static LOCAL: Cell<Option<Level>> = const { Cell::new(None) };
}

/// Set once a thread has had its own level: from then on every call site is asked each time.
static LOCAL_USED: AtomicBool = AtomicBool::new(false);

/// Gives this thread its own level (`None`: back to the configured filter), as Kamailio's
/// `set_local_debug_level`/`reset_local_debug_level` do for a process.
pub fn set_thread_level(level: Option<Level>) {
    LOCAL.with(|c| c.set(level));
    if level.is_some() && !LOCAL_USED.swap(true, Ordering::SeqCst) {
        tracing::callsite::rebuild_interest_cache();
    }
}

/// The configured filter, overridden on threads that set their own level.
struct LocalLevel(tracing_subscriber::EnvFilter);

impl<S> tracing_subscriber::Layer<S> for LocalLevel
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        let i = <tracing_subscriber::EnvFilter as tracing_subscriber::Layer<S>>::register_callsite(
            &self.0, meta,
        );
        if LOCAL_USED.load(Ordering::SeqCst) {
            tracing::subscriber::Interest::sometimes()
        } else {
            i
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) -> bool {
        match LOCAL.with(Cell::get) {
            Some(max) => meta.level() <= &max,
            None => self.0.enabled(meta, ctx),
        }
    }

    fn max_level_hint(&self) -> Option<tracing_subscriber::filter::LevelFilter> {
        if LOCAL_USED.load(Ordering::SeqCst) {
            Some(tracing_subscriber::filter::LevelFilter::TRACE)
        } else {
            <tracing_subscriber::EnvFilter as tracing_subscriber::Layer<S>>::max_level_hint(&self.0)
        }
    }

    fn on_new_span(
        &self,
        a: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.on_new_span(a, id, ctx)
    }

    fn on_enter(&self, id: &tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_enter(id, ctx)
    }

    fn on_exit(&self, id: &tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_exit(id, ctx)
    }

    fn on_close(&self, id: tracing::span::Id, ctx: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_close(id, ctx)
    }
}

/// Puts the thread's `log_prefix` in front of what the inner format writes, and keeps the
/// line one line: CR, LF, NUL and the other control characters that message data may carry
/// (a folded header printed by `xlog`) are written as `\r`, `\n`, `\x00`. Colours are not
/// kept (the line is formatted into a buffer first).
struct Prefixed<F>(F);

impl<S, N, F> FormatEvent<S, N> for Prefixed<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let mut line = String::with_capacity(256);
        PREFIX.with(|p| line.push_str(&p.borrow()));
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        let body = line.strip_suffix('\n').unwrap_or(&line);
        writer.write_str(&escape_controls(body))?;
        writer.write_char('\n')
    }
}

/// `text` with control characters other than TAB escaped (borrowed when there are none).
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.into()
}

/// Syslog over the local datagram socket, one datagram per line (RFC 3164 framing, as
/// glibc's `syslog()` sends it).
#[derive(Clone)]
struct Syslog {
    sock: Option<Arc<UnixDatagram>>,
    facility: u8,
    ident: Arc<str>,
}

impl Syslog {
    fn connect(facility: u8, ident: &str) -> Syslog {
        let path = std::env::var("SIPVM_SYSLOG_SOCKET").unwrap_or_else(|_| "/dev/log".into());
        let sock = UnixDatagram::unbound()
            .and_then(|s| s.connect(&path).map(|()| s))
            .map_err(|e| eprintln!("sipvm: syslog socket {path}: {e}; log lines are lost"))
            .ok()
            .map(Arc::new);
        Syslog {
            sock,
            facility,
            ident: ident.into(),
        }
    }
}

/// Kamailio's levels land on these syslog severities (info is LOG_INFO, ...).
fn severity(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        self.line(6)
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        self.line(severity(meta.level()))
    }
}

impl Syslog {
    fn line(&self, sev: u8) -> Line {
        let mut buf = Vec::with_capacity(256);
        let facility = FACILITY.with(Cell::get).unwrap_or(self.facility);
        let pri = u16::from(facility) * 8 + u16::from(sev);
        let _ = write!(buf, "<{pri}>{}[{}]: ", self.ident, std::process::id());
        Line {
            sock: self.sock.clone(),
            buf,
        }
    }
}

/// One log line being written; sent when dropped.
pub struct Line {
    sock: Option<Arc<UnixDatagram>>,
    buf: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        while self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        }
        if let Some(s) = &self.sock {
            let _ = s.send(&self.buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facilities_as_kamailio_names_them() {
        assert_eq!(facility("LOG_LOCAL0"), Some(16));
        assert_eq!(facility("local7"), Some(23));
        assert_eq!(facility("LOG_DAEMON"), Some(3));
        assert_eq!(facility("LOG_LOCAL8"), None);
        assert_eq!(facility("nonsense"), None);
    }

    #[test]
    fn control_characters_cannot_start_a_log_line() {
        assert_eq!(escape_controls("a\tb"), "a\tb");
        assert_eq!(
            escape_controls("X-H: a\r\n b\0\x07"),
            "X-H: a\\r\\n b\\x00\\x07"
        );
    }

    #[test]
    fn a_line_reaches_the_socket_with_its_priority() {
        let dir = std::env::temp_dir().join(format!("sipvm-syslog-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let rx = UnixDatagram::bind(&dir).expect("bind");
        let tx = UnixDatagram::unbound().expect("socket");
        tx.connect(&dir).expect("connect");
        let s = Syslog {
            sock: Some(Arc::new(tx)),
            facility: 16,
            ident: "kam".into(),
        };
        {
            let mut l = s.line(severity(&Level::ERROR));
            l.write_all(b"it broke\n").expect("write");
        }
        let mut b = [0u8; 256];
        let n = rx.recv(&mut b).expect("recv");
        let got = String::from_utf8_lossy(&b[..n]).into_owned();
        assert_eq!(got, format!("<131>kam[{}]: it broke", std::process::id()));
        // acc's LOG_LOCAL1 (17) for one line, then the core's facility again.
        with_facility(17, || drop(s.line(severity(&Level::INFO))));
        let n = rx.recv(&mut b).expect("recv");
        assert!(String::from_utf8_lossy(&b[..n]).starts_with("<142>kam["));
        drop(s.line(severity(&Level::INFO)));
        let n = rx.recv(&mut b).expect("recv");
        assert!(String::from_utf8_lossy(&b[..n]).starts_with("<134>kam["));
        let _ = std::fs::remove_file(&dir);
    }
}
