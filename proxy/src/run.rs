//! `sipvm run`: load the configuration, bind its sockets, start one worker per socket and
//! child, and serve until SIGTERM/SIGINT.

use crate::transport::{default_listen, parse_listen, Bound, Config, SignalWaiter};
use crate::worker::Worker;
use anyhow::{bail, Context};
use sipvm_cfg::{Live, Snapshot};
use sipvm_lang::CompileOptions;
use sipvm_vm::Value;
use std::sync::Arc;

/// Kamailio's `debug` levels to a tracing filter (3 debug, 2 info, 1 notice, 0 warn, <0 error).
fn filter_for(snap: &Snapshot) -> &'static str {
    let level = snap
        .global("debug")
        .last()
        .map(|g| g.value.to_int())
        .unwrap_or(2);
    match level {
        l if l >= 3 => "debug",
        1 | 2 => "info",
        0 => "warn",
        _ => "error",
    }
}

fn children(snap: &Snapshot) -> usize {
    match snap.global("children").last().map(|g| &g.value) {
        Some(Value::Int(n)) if *n > 0 => *n as usize,
        _ => 8,
    }
}

/// The transport settings the core parameters give (Kamailio's units: seconds, counts).
fn transport_config(snap: &Snapshot) -> anyhow::Result<Config> {
    let d = Config::default();
    let int = |name: &str| snap.global(name).last().map(|g| g.value.to_int());
    let positive = |name: &str| -> anyhow::Result<Option<u64>> {
        match int(name) {
            Some(v) if v <= 0 => bail!("{name}={v}: must be positive"),
            v => Ok(v.map(|v| v as u64)),
        }
    };
    let secs = |name: &str, d: std::time::Duration| -> anyhow::Result<std::time::Duration> {
        Ok(positive(name)?.map_or(d, std::time::Duration::from_secs))
    };
    Ok(Config {
        children: children(snap),
        tcp_readers: positive("tcp_children")?.map(|n| n as usize),
        tcp_max_connections: positive("tcp_max_connections")?
            .map_or(d.tcp_max_connections, |n| n as usize),
        tcp_lifetime: secs("tcp_connection_lifetime", d.tcp_lifetime)?,
        tcp_connect_timeout: secs("tcp_connect_timeout", d.tcp_connect_timeout)?,
        tcp_send_timeout: secs("tcp_send_timeout", d.tcp_send_timeout)?,
        ..d
    })
}

/// What the command line adds to the file.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions<'a> {
    /// `--rpc ADDR`.
    pub rpc: Option<&'a str>,
    /// `-E`: log to stderr whatever `log_stderror` says.
    pub stderr: bool,
}

pub fn run(file: &str, options: CompileOptions, o: RunOptions<'_>) -> anyhow::Result<()> {
    let rpc = o.rpc;
    let live = match Live::load(file, options, crate::modules::registry()) {
        Ok(l) => Arc::new(l),
        Err(e) => bail!("{e}"),
    };
    let snap = live.current();
    let filter = std::env::var("SIPVM_LOG").unwrap_or_else(|_| filter_for(&snap).to_string());
    let sink = crate::logging::sink(&snap, o.stderr).map_err(anyhow::Error::msg)?;
    crate::logging::init(&sink, &filter);
    for w in snap.warnings.lines().filter(|l| l.contains(": warning: ")) {
        tracing::warn!("{w}");
    }
    let mut specs = Vec::new();
    for g in snap.global("listen") {
        specs.push(parse_listen(&g.raw).with_context(|| format!("listen={}", g.raw))?);
    }
    if specs.is_empty() {
        specs = default_listen();
    }
    // The same refusal as `sipvm check` for a module parameter it cannot honour.
    crate::modules::check(&snap.modparams).map_err(anyhow::Error::msg)?;
    let shared = Arc::new(crate::modules::shared(&snap).map_err(anyhow::Error::msg)?);
    shared.startup(&snap).map_err(anyhow::Error::msg)?;
    let signals = SignalWaiter::new()?;
    reload_on_sighup(live.clone())?;
    let control = crate::control::State {
        live: live.clone(),
        shared: shared.clone(),
    };
    let rpc_server = crate::control::start(rpc, &snap, &control)?;
    let config = transport_config(&snap)?;
    let bound = Bound::bind(&specs, config)?;
    let locals: Arc<[crate::transport::Local]> = bound.locals().to_vec().into();
    for l in locals.iter() {
        tracing::info!("listening on {}", l.socket_str());
    }
    let server = bound.start(|_| Worker::new(live.cache(), shared.clone(), locals.clone()))?;
    tracing::info!(
        "sipvm running {file} (generation {}), {} workers",
        snap.generation,
        children(&snap)
    );
    let sig = signals.wait();
    tracing::info!("signal {sig}: stopping");
    server.shutdown();
    // Modules flush what must reach disk (usrloc's queued registrations).
    shared.shutdown();
    if let Some(r) = rpc_server {
        r.stop();
    }
    Ok(())
}

/// SIGHUP reloads the running file like `route.reload`, on a thread of its own: the new
/// generation is logged, or the refusal with its diagnostics; serving goes on either way.
fn reload_on_sighup(live: Arc<Live>) -> anyhow::Result<()> {
    let mut hup = signal_hook::iterator::Signals::new([signal_hook::consts::SIGHUP])
        .context("installing the SIGHUP handler")?;
    std::thread::Builder::new()
        .name("sighup".into())
        .spawn(move || {
            for _ in hup.forever() {
                match live.reload(None) {
                    Ok(s) => tracing::info!(
                        "SIGHUP: reloaded {}, now generation {}",
                        s.file,
                        s.generation
                    ),
                    Err(e) => tracing::error!(
                        "SIGHUP: reload refused, generation {} stays: {e}",
                        live.current().generation
                    ),
                }
            }
        })
        .context("starting the SIGHUP thread")?;
    Ok(())
}
