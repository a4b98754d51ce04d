//! Probing destinations with OPTIONS (`ds_ping_interval`). The workers' ticks drive it: one
//! worker per interval wins the shared "next due" time and sends the round; replies whose top
//! Via branch has our prefix are handed here by the worker before anything else; a probe
//! without a final reply within tm's `fr_timer` counts as failed, as Kamailio's tm timeout.

use super::state::{
    Dispatcher, Probe, DISABLED, INACTIVE, PROBE_ALL, PROBE_INACTIVE, PROBE_NONE,
    PROBE_ONLYFLAGGED, PROBING, TRYING,
};
use crate::host::Shared;
use crate::sip::Msg;
use crate::transport::{Local, Outbox, Proto};
use bytes::Bytes;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::time::Instant;

/// The Via branch prefix of probes; stateless forwarding uses `z9hG4bKsv` and hex digits, so
/// it never makes this one.
pub const BRANCH_PREFIX: &str = "z9hG4bKsvds";

/// Called by every worker on every tick.
pub fn on_tick(shared: &Shared, locals: &[Local], out: &mut Outbox) {
    let ds = shared.state::<Dispatcher>();
    if !ds.cfg.enabled || ds.cfg.ping_interval_ms == 0 {
        return;
    }
    expire(ds);
    if !ds.ping_active.load(Relaxed) {
        return;
    }
    let now = ds.epoch.elapsed().as_millis() as u64;
    let due = ds.next_ping_ms.load(Relaxed);
    if now < due {
        return;
    }
    let next = now + ds.cfg.ping_interval_ms;
    if ds
        .next_ping_ms
        .compare_exchange(due, next, AcqRel, Relaxed)
        .is_err()
    {
        return; // another worker sends this round
    }
    send_round(ds, locals, out);
}

/// Kamailio's `ds_ping_result_helper`: whether a destination with `flags` gets a probe.
fn wants_probe(mode: i64, flags: u32) -> bool {
    if flags & DISABLED != 0 {
        return false;
    }
    match mode {
        PROBE_ALL => true,
        PROBE_INACTIVE => flags & PROBING != 0 && flags & INACTIVE != 0,
        _ => flags & PROBING != 0,
    }
}

fn send_round(ds: &Dispatcher, locals: &[Local], out: &mut Outbox) {
    let sets = ds.sets.load();
    for set in &sets.sets {
        for d in &set.dests {
            if !wants_probe(ds.cfg.probing_mode, d.flags()) {
                continue;
            }
            let proto = d.proto.unwrap_or(Proto::Udp);
            let local = d.addr.and_then(|a| {
                locals
                    .iter()
                    .find(|l| l.proto == proto && l.addr.is_ipv4() == a.is_ipv4())
            });
            let (Some(addr), Some(local)) = (d.addr, local) else {
                // Cannot send (no address without DNS, or no socket): a failed probe, as
                // Kamailio counts a t_request that fails.
                tracing::debug!("dispatcher: cannot probe {}", d.spec.uri);
                failed(ds, set.id, &d.spec.uri);
                continue;
            };
            if crate::forward::loopback_only() && !addr.ip().is_loopback() {
                continue;
            }
            let seq = ds.probe_seq.fetch_add(1, Relaxed);
            let branch = format!("{BRANCH_PREFIX}{seq:x}.{:08x}", super::algo::random());
            let from = d
                .spec
                .attrs
                .as_ref()
                .and_then(|a| a.ping_from.clone())
                .unwrap_or_else(|| ds.cfg.ping_from.clone());
            let req = options(
                &ds.cfg.ping_method,
                &d.spec.uri,
                &from,
                &branch,
                local,
                addr,
            );
            ds.probes.lock().unwrap_or_else(|p| p.into_inner()).insert(
                branch,
                Probe {
                    set: set.id,
                    uri: d.spec.uri.clone(),
                    sent: Instant::now(),
                },
            );
            out.send(addr, proto, Bytes::from(req), Some(local.index));
        }
    }
}

/// The probe request (Kamailio: `tm.t_request` with R-URI and To the destination).
fn options(
    method: &str,
    uri: &str,
    from: &str,
    branch: &str,
    l: &Local,
    dst: SocketAddr,
) -> Vec<u8> {
    let sent_by = crate::forward::via_sent_by(l);
    let tag = format!("{:08x}", super::algo::random());
    let callid = format!(
        "{}-{:08x}@{}",
        &branch[BRANCH_PREFIX.len()..],
        super::algo::random(),
        l.addr.ip()
    );
    format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: SIP/2.0/{} {sent_by};branch={branch};rport\r\n\
         To: <{uri}>\r\n\
         From: <{from}>;tag={tag}\r\n\
         Call-ID: {callid}\r\n\
         CSeq: 10 {method}\r\n\
         Max-Forwards: 70\r\n\
         User-Agent: sipvm dispatcher ({dst})\r\n\
         Content-Length: 0\r\n\r\n",
        l.proto.as_str().to_ascii_uppercase(),
    )
    .into_bytes()
}

/// Called by the worker for every reply before anything else: true when the reply answers a
/// probe (and is consumed: probes' replies are never relayed).
pub fn on_probe_reply(shared: &Shared, msg: &Msg) -> bool {
    probe_reply(shared.state::<Dispatcher>(), msg)
}

fn probe_reply(ds: &Dispatcher, msg: &Msg) -> bool {
    let Ok(via) = msg.top_via() else {
        return false;
    };
    let Some(branch) = via.branch() else {
        return false;
    };
    if !branch.starts_with(BRANCH_PREFIX) {
        return false;
    }
    let Some(code) = msg.status() else {
        return true;
    };
    if code < 200 {
        return true; // provisional: keep waiting for the final reply
    }
    let probe = ds
        .probes
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(branch);
    if let Some(p) = probe {
        result(ds, &p, code);
    }
    true
}

/// Probes past their time: failed (Kamailio's 408 from tm).
fn expire(ds: &Dispatcher) {
    let timeout = std::time::Duration::from_millis(ds.cfg.probe_timeout_ms);
    let late: Vec<Probe> = {
        let Ok(mut probes) = ds.probes.try_lock() else {
            return; // another worker is at it
        };
        if probes.is_empty() {
            return;
        }
        let mut late = Vec::new();
        probes.retain(|_, p| {
            let keep = p.sent.elapsed() < timeout;
            if !keep {
                late.push(p.clone());
            }
            keep
        });
        late
    };
    for p in late {
        result(ds, &p, 408);
    }
}

/// Kamailio's `ds_options_callback`: a final reply (or 408 for a timeout) updates the state.
pub fn result(ds: &Dispatcher, p: &Probe, code: u16) {
    let mode = ds.cfg.probing_mode;
    let Some(cur) = ds.state_of(p.set, &p.uri) else {
        return; // gone with a reload
    };
    if mode == PROBE_ONLYFLAGGED && cur & PROBING == 0 {
        return;
    }
    if cur & DISABLED != 0 {
        return;
    }
    if ds.cfg.alive_code(code) {
        let mut st = 0;
        if mode == PROBE_ALL || (mode == PROBE_ONLYFLAGGED && cur & PROBING != 0) {
            st |= PROBING;
        }
        ds.update_state(p.set, &p.uri, st);
    } else {
        failed(ds, p.set, &p.uri);
    }
}

/// A probe that failed: trying (inactive after `ds_probing_threshold` failures).
fn failed(ds: &Dispatcher, set: i64, uri: &str) {
    if ds.state_of(set, uri).is_some_and(|f| f & DISABLED != 0) {
        return;
    }
    let mut st = TRYING;
    if ds.cfg.probing_mode != PROBE_NONE {
        st |= PROBING;
    }
    ds.update_state(set, uri, st);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::dispatcher::list::parse;
    use crate::modules::dispatcher::state::{build, skipped, Config};

    fn ds(mode: i64, probing_threshold: u32, inactive_threshold: u32) -> Dispatcher {
        let cfg = Config {
            enabled: false,
            list_path: "/nonexistent".into(),
            flags: 2,
            force_dst: true,
            probing_threshold,
            inactive_threshold,
            ping_interval_ms: 1000,
            probing_mode: mode,
            ping_reply_codes: vec![404, 5],
            ping_method: "OPTIONS".into(),
            ping_from: "sip:dispatcher@localhost".into(),
            reload_delta_s: 0,
            probe_timeout_ms: 1000,
        };
        let d = Dispatcher::with_config(cfg);
        d.sets.store(std::sync::Arc::new(build(
            parse("1 sip:127.0.0.1:5081\n1 sip:127.0.0.1:5082 8\n", "t").unwrap(),
            None,
        )));
        d
    }

    fn probe(uri: &str) -> Probe {
        Probe {
            set: 1,
            uri: uri.into(),
            sent: Instant::now(),
        }
    }

    #[test]
    fn thresholds_take_a_destination_down_and_up() {
        let d = ds(PROBE_ALL, 2, 2);
        let u = "sip:127.0.0.1:5081";
        result(&d, &probe(u), 408);
        assert_eq!(d.state_of(1, u), Some(TRYING | PROBING));
        result(&d, &probe(u), 480);
        assert_eq!(d.state_of(1, u), Some(INACTIVE | PROBING));
        // One answer is not enough with ds_inactive_threshold 2.
        result(&d, &probe(u), 200);
        assert!(skipped(d.state_of(1, u).unwrap()));
        result(&d, &probe(u), 200);
        assert_eq!(d.state_of(1, u), Some(PROBING));
        // ds_ping_reply_codes: code=404 and class=5 count as alive.
        result(&d, &probe(u), 404);
        result(&d, &probe(u), 503);
        assert_eq!(d.state_of(1, u), Some(PROBING));
        result(&d, &probe(u), 486);
        assert_eq!(d.state_of(1, u), Some(TRYING | PROBING));
    }

    #[test]
    fn which_destinations_are_probed() {
        assert!(wants_probe(PROBE_ALL, 0));
        assert!(!wants_probe(PROBE_ALL, DISABLED));
        assert!(!wants_probe(PROBE_NONE, 0));
        assert!(wants_probe(PROBE_NONE, PROBING));
        assert!(!wants_probe(PROBE_INACTIVE, PROBING));
        assert!(wants_probe(PROBE_INACTIVE, PROBING | INACTIVE));
    }

    #[test]
    fn disabled_destinations_keep_their_state() {
        let d = ds(PROBE_ALL, 1, 1);
        let u = "sip:127.0.0.1:5082";
        assert!(d.set_state(1, u, DISABLED));
        result(&d, &probe(u), 408);
        assert_eq!(d.state_of(1, u), Some(DISABLED));
    }

    #[test]
    fn a_round_sends_options_and_replies_are_matched() {
        let d = ds(PROBE_ALL, 1, 1);
        let local = Local {
            index: 0,
            proto: Proto::Udp,
            addr: "127.0.0.1:5060".parse().unwrap(),
            advertise: None,
            name: None,
        };
        let mut out = Outbox::new();
        send_round(&d, std::slice::from_ref(&local), &mut out);
        assert_eq!(out.len(), 2);
        let first = String::from_utf8(out.items()[0].data.to_vec()).unwrap();
        assert!(
            first.starts_with("OPTIONS sip:127.0.0.1:5082 SIP/2.0\r\n"),
            "{first}"
        );
        assert!(first.contains(";branch=z9hG4bKsvds"), "{first}");
        assert_eq!(d.probes.lock().unwrap().len(), 2);
        let msg = Msg::parse(Bytes::from(first.into_bytes())).unwrap();
        let via = msg.top_via().unwrap().as_str().to_string();
        let reply = format!(
            "SIP/2.0 200 OK\r\nVia: {via}\r\nTo: <sip:127.0.0.1:5082>;tag=x\r\n\
             From: <sip:dispatcher@localhost>;tag=y\r\nCall-ID: c\r\nCSeq: 10 OPTIONS\r\n\
             Content-Length: 0\r\n\r\n"
        );
        let reply = Msg::parse(Bytes::from(reply.into_bytes())).unwrap();
        assert!(probe_reply(&d, &reply));
        assert_eq!(d.probes.lock().unwrap().len(), 1);
        assert_eq!(d.state_of(1, "sip:127.0.0.1:5082"), Some(PROBING));
    }
}
