//! A worker: one per transport thread. It owns a VM (so `$var` is per worker) and a cache of
//! the current snapshot, loaded once per message; it parses, runs the script, and relays.

use crate::host::{ctx, send, Ctx, Shared};
use crate::sip::{build_error_reply, Msg, ParseErrorKind};
use crate::transport::{Handler, Local, Outbox, Proto};
use bytes::Bytes;
use sipvm_cfg::{Counters, SnapshotCache};
use sipvm_vm::{End, RouteKind, Vm};
use std::net::SocketAddr;
use std::sync::Arc;

pub struct Worker {
    vm: Vm,
    cache: SnapshotCache,
    shared: Arc<Shared>,
    locals: Arc<[Local]>,
    /// Transaction ids whose timers are due (reused).
    due: Vec<u64>,
}

impl Worker {
    pub fn new(cache: SnapshotCache, shared: Arc<Shared>, locals: Arc<[Local]>) -> Self {
        Worker {
            vm: Vm::new(),
            cache,
            shared,
            locals,
            due: Vec::new(),
        }
    }

    /// What cannot be parsed gets 400 when a reply can be built, else nothing (RFC 3261
    /// §8.2; RFC 4475: never route it).
    fn malformed(
        &self,
        data: &[u8],
        err: crate::sip::ParseError,
        src: SocketAddr,
        via: &Local,
        out: &mut Outbox,
    ) {
        if matches!(
            err.kind(),
            ParseErrorKind::Empty | ParseErrorKind::Incomplete
        ) {
            return;
        }
        tracing::debug!(
            "dropping malformed message from {src}: {} ({} bytes)",
            err.detail(),
            data.len()
        );
        if !err.can_reply() {
            return;
        }
        let mut buf = Vec::with_capacity(256);
        if build_error_reply(&err, 400, err.detail(), None, &mut buf).is_ok() {
            reply_to(out, via, src, Bytes::from(buf));
        }
    }
}

fn reply_to(out: &mut Outbox, via: &Local, src: SocketAddr, data: Bytes) {
    if via.proto == Proto::Udp {
        out.send(src, Proto::Udp, data, Some(via.index));
    } else {
        out.reply(src, via, data);
    }
}

impl Handler for Worker {
    fn on_message(&mut self, data: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
        let raw = data.clone();
        let msg = match Msg::parse(data) {
            Ok(m) => m,
            Err(e) => return self.malformed(&raw, e, src, via, out),
        };
        // One load of the routing state per message: the current program and any canary
        // candidate come from the same swap. With a candidate, the Call-ID's stable bucket
        // picks the program (replies too, so a stateless reply meets its request's program).
        // Borrowed from the cache, not cloned: no reference count touched per message.
        let routing = self.cache.routing();
        let running = match &routing.candidate {
            None => &routing.current,
            Some(_) => routing.select(msg.call_id().ok().map(str::as_bytes)),
        };
        let snap = &running.snapshot;
        let prog = &snap.program;
        let counters = &*running.counters;
        let before = out.len();
        if msg.is_request() {
            if !msg.version_ok() {
                let mut buf = Vec::with_capacity(256);
                if crate::sip::build_reply(&msg, 505, "Version Not Supported", None, &[], &mut buf)
                    .is_ok()
                {
                    reply_to(out, via, src, Bytes::from(buf));
                }
                return;
            }
            // The hop-by-hop ACK of a negative reply a transaction sent ends there (RFC 3261
            // §17.2.1); sipvm absorbs it before the script, see docs/modules/tm.md.
            if msg.method() == Some(crate::sip::Method::Ack)
                && crate::tm::flow::absorb_ack(&self.shared.tm, &msg)
            {
                return;
            }
            if crate::modules::sl::absorbs_ack(&msg) {
                tracing::debug!("ACK from {src} for our own reply absorbed");
                return;
            }
            let Some(route) = prog.route(RouteKind::Request, "") else {
                return;
            };
            counters.request();
            let mut c = Ctx::new(&msg, src, via, &self.locals, out, snap, &self.shared);
            c.running = Some(running);
            let r = self.vm.run(prog, route, &mut c);
            crate::tm::branch::run_pending(&mut c, &mut self.vm, prog);
            c.finish();
            drop(c);
            if let Err(e) = &r {
                tracing::error!("request_route: {}", e.render(prog));
            }
            count_outcome(counters, r.is_err(), out, before);
        } else {
            if crate::modules::dispatcher::on_probe_reply(&self.shared, &msg) {
                return;
            }
            counters.reply_received();
            let mut failed = false;
            let dropped = match prog.route(RouteKind::Reply, "") {
                Some(route) => {
                    let mut c = Ctx::new(&msg, src, via, &self.locals, out, snap, &self.shared);
                    let r = self.vm.run(prog, route, &mut c);
                    c.finish();
                    match r {
                        Ok(o) => o.end == End::Drop,
                        Err(e) => {
                            tracing::error!("reply_route: {}", e.render(prog));
                            failed = true;
                            false
                        }
                    }
                }
                None => false,
            };
            let branch = msg.top_via().ok().and_then(|v| v.branch());
            let ours = branch.and_then(crate::tm::key::parse_branch);
            // Our branch prefix without a valid check part: forged (or from an earlier run of
            // the process). Neither a transaction nor the stateless path may take it.
            let forged = ours.is_none()
                && branch.is_some_and(|b| b.starts_with(crate::tm::key::BRANCH_PREFIX));
            if forged {
                tracing::debug!("reply from {src} with a branch sipvm did not make: dropped");
            }
            let dropped = dropped || forged;
            let mut handled = false;
            if let (false, Some((id, idx))) = (dropped, ours) {
                let mut env = crate::tm::flow::Env {
                    tm: &self.shared.tm,
                    shared: &self.shared,
                    locals: &self.locals,
                    out,
                    now: self.shared.tm.now(),
                };
                handled = crate::tm::flow::on_reply(&mut env, &mut self.vm, id, idx, &msg, src);
            }
            if !dropped && !handled {
                let locals = &self.locals;
                let ours = |h: &str, p: Option<u16>| ctx::is_local(locals, snap, h, p);
                if !send::relay_reply(&msg, ours, via, out) {
                    tracing::debug!("reply from {src} not relayed: not ours or no next Via");
                }
            }
            count_outcome(counters, failed, out, before);
        }
    }

    fn on_tick(&mut self, out: &mut Outbox) {
        self.tm_tick(out);
        crate::modules::dispatcher::on_tick(&self.shared, &self.locals, out);
    }
}

impl Worker {
    /// Runs the transaction timers that are due.
    fn tm_tick(&mut self, out: &mut Outbox) {
        let mut env = crate::tm::flow::Env {
            tm: &self.shared.tm,
            shared: &self.shared,
            locals: &self.locals,
            out,
            now: self.shared.tm.now(),
        };
        crate::tm::flow::tick(&mut env, &mut self.vm, &mut self.due);
    }
}

/// Counts what handling one message on a generation produced: a runtime error, or replies
/// sent by class (local and relayed: every queued item from `before` on that is a SIP reply),
/// or a drop when nothing at all was queued. See docs/reload.md, "Counters".
fn count_outcome(counters: &Counters, failed: bool, out: &Outbox, before: usize) {
    if failed {
        counters.runtime_error();
    }
    let sent = out.items().get(before..).unwrap_or_default();
    if sent.is_empty() {
        if !failed {
            counters.drop_();
        }
        return;
    }
    counters.replies_in(sent.iter().map(|o| &o.data[..]));
}
