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

pub fn run(file: &str, options: CompileOptions, rpc: Option<&str>) -> anyhow::Result<()> {
    let live = match Live::load(file, options, crate::modules::registry()) {
        Ok(l) => Arc::new(l),
        Err(e) => bail!("{e}"),
    };
    let snap = live.current();
    let filter = std::env::var("SIPVM_LOG").unwrap_or_else(|_| filter_for(&snap).to_string());
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .try_init();
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
    let config = Config {
        children: children(&snap),
        ..Config::default()
    };
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
