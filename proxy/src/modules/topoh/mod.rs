//! `topoh`: topology hiding as Kamailio 5.6's topoh module does it. Every message sipvm sends
//! has the Vias, Record-Routes and Contact of others (and, with `mask_callid`, the Call-ID)
//! encoded into parameters of the mask address; every message it receives has them decoded
//! back before parsing. Works on raw bytes through the `data_in`/`data_out` hooks, the
//! places Kamailio's `SREV_NET_DATA_IN`/`OUT` events have.

use sipvm_lang::registry::{ModuleDecl, ParamDecl, ParamType};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "topoh",
    functions: &[],
    params: &[
        ParamDecl { name: "mask_key", ty: ParamType::Str },
        ParamDecl { name: "mask_ip", ty: ParamType::Str },
        ParamDecl { name: "mask_callid", ty: ParamType::Int },
        ParamDecl { name: "uparam_name", ty: ParamType::Str },
        ParamDecl { name: "uparam_prefix", ty: ParamType::Str },
        ParamDecl { name: "vparam_name", ty: ParamType::Str },
        ParamDecl { name: "vparam_prefix", ty: ParamType::Str },
        ParamDecl { name: "callid_prefix", ty: ParamType::Str },
        ParamDecl { name: "sanity_checks", ty: ParamType::Int },
        ParamDecl { name: "uri_prefix_checks", ty: ParamType::Int },
        ParamDecl { name: "event_callback", ty: ParamType::Str },
        ParamDecl { name: "event_mode", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

pub mod mask;
pub mod msg;

pub use msg::Topoh;

use crate::host::{Hooks, Module, Shared};
use crate::transport::{Local, Outbox};
use sipvm_lang::compile::ModParamSetting;
use std::net::SocketAddr;
use std::sync::Arc;

/// The parameters sipvm honours (`sanity_checks`, `event_callback` and `event_mode` are not).
const PARAMS: &[&str] = &[
    "mask_key",
    "mask_ip",
    "mask_callid",
    "uparam_name",
    "uparam_prefix",
    "vparam_name",
    "vparam_prefix",
    "callid_prefix",
    "uri_prefix_checks",
];

/// The module's state: `None` when the file does not load `topoh.so`.
pub struct State {
    pub topoh: Option<Topoh>,
    /// `alias=` values of the first snapshot, for "is this address us".
    aliases: Vec<String>,
}

fn param(m: &[ModParamSetting], name: &str, default: &str) -> String {
    m.iter()
        .rev()
        .find(|s| s.module == "topoh" && s.param == name)
        .map_or_else(|| default.to_string(), |s| s.value.to_str().into_owned())
}

fn int_param(m: &[ModParamSetting], name: &str) -> Result<bool, String> {
    match m
        .iter()
        .rev()
        .find(|s| s.module == "topoh" && s.param == name)
    {
        None => Ok(false),
        Some(s) => s
            .value
            .try_int()
            .map(|v| v != 0)
            .ok_or_else(|| format!("topoh: {name} must be an integer")),
    }
}

/// Kamailio's defaults, the settings applied over them.
pub fn from_modparams(m: &[ModParamSetting]) -> Result<Topoh, String> {
    for s in m.iter().filter(|s| s.module == "topoh") {
        if !PARAMS.contains(&s.param.as_str()) {
            return Err(format!(
                "topoh: parameter {} is not implemented by sipvm",
                s.param
            ));
        }
    }
    Topoh::new(
        &param(m, "mask_key", "aL9.n8~Hm]Z"),
        &param(m, "mask_ip", "127.0.0.8"),
        &param(m, "uparam_name", "line"),
        &param(m, "uparam_prefix", "sr-"),
        &param(m, "vparam_name", "branch"),
        &param(m, "vparam_prefix", "z9hG4bKsr-"),
        &param(m, "callid_prefix", "!!:"),
        int_param(m, "mask_callid")?,
        int_param(m, "uri_prefix_checks")?,
    )
}

fn check(m: &[ModParamSetting]) -> Result<(), String> {
    from_modparams(m).map(|_| ())
}

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    let loaded = snap.modules.iter().any(|m| m == "topoh");
    let topoh = if loaded {
        Some(from_modparams(&snap.modparams)?)
    } else {
        None
    };
    let aliases = snap.global("alias").map(|a| a.raw.clone()).collect();
    Ok(Arc::new(State { topoh, aliases }))
}

impl State {
    /// Kamailio's `check_self`: a listening socket (port 5060 when absent) or an alias.
    fn is_self(&self, locals: &[Local], host: &str, port: Option<u16>) -> bool {
        let h = host.trim_start_matches('[').trim_end_matches(']');
        let want = port.unwrap_or(5060);
        let by_socket = locals.iter().any(|l| {
            h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip == l.addr.ip() && want == l.addr.port())
                || l.advertise.as_ref().is_some_and(|a| {
                    a.host.eq_ignore_ascii_case(h) && want == a.port.unwrap_or(l.addr.port())
                })
        });
        by_socket || self.aliases.iter().any(|a| alias_matches(a, h, port))
    }
}

/// `alias=[proto:]host[:port]`: a port-less alias matches any port.
fn alias_matches(raw: &str, host: &str, port: Option<u16>) -> bool {
    let raw = raw.trim().trim_matches('"');
    let raw = match raw.split_once(':') {
        Some(("udp" | "tcp" | "tls" | "sctp" | "ws" | "wss", r)) => r,
        _ => raw,
    };
    let (h, p) = match raw.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h, p.parse::<u16>().ok()),
        _ => (raw, None),
    };
    h.eq_ignore_ascii_case(host) && (p.is_none() || p == Some(port.unwrap_or(5060)))
}

fn data_in(
    shared: &Shared,
    locals: &[Local],
    data: &mut bytes::Bytes,
    _: SocketAddr,
    _: &Local,
    _: &mut Outbox,
) {
    let st = shared.state::<State>();
    let Some(t) = &st.topoh else { return };
    let is_self = |h: &str, p: Option<u16>| st.is_self(locals, h, p);
    if let Some(new) = t.received(data, &is_self) {
        *data = new;
    }
}

fn data_out(shared: &Shared, locals: &[Local], out: &mut Outbox, first: usize, _: &Local) {
    let st = shared.state::<State>();
    let Some(t) = &st.topoh else { return };
    let is_self = |h: &str, p: Option<u16>| st.is_self(locals, h, p);
    for item in out.items_mut().iter_mut().skip(first).filter(|i| !i.aside) {
        if let Some(new) = t.sent(&item.data, &is_self) {
            item.data = new;
        }
    }
}

/// Kamailio runs `event_route[topoh:msg-outgoing]` and `[topoh:msg-sending]` for each message
/// sent; sipvm does not, so a file that has one is refused rather than run differently.
fn startup(shared: &Shared, snap: &sipvm_cfg::Snapshot) -> Result<(), String> {
    if shared.state::<State>().topoh.is_none() {
        return Ok(());
    }
    for name in ["topoh:msg-outgoing", "topoh:msg-sending"] {
        if snap
            .program
            .route(sipvm_vm::RouteKind::Event, name)
            .is_some()
        {
            return Err(format!("event_route[{name}] is not implemented by sipvm"));
        }
    }
    Ok(())
}

/// The topoh module: topology hiding on raw messages in and out.
pub static MODULE: Module = Module {
    params: PARAMS,
    restart: PARAMS,
    check: Some(check),
    state: Some(state),
    hooks: Hooks {
        startup: Some(startup),
        data_in: Some(data_in),
        data_out: Some(data_out),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};

#[cfg(test)]
mod tests;
