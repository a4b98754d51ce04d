//! A worker: one per transport thread. It owns a VM (so `$var` is per worker) and a cache of
//! the current snapshot, loaded once per message; it parses, runs the script, and relays.

use crate::forward as send;
use crate::host::{ctx, Ctx, Env, ReplyVerdict, Shared};
use crate::sip::{build_error_reply, Msg, ParseErrorKind};
use crate::transport::{Handler, Local, Outbox, Proto};
use bytes::Bytes;
use sipvm_cfg::{Counters, SnapshotCache};
use sipvm_vm::{End, Program, RouteKind, Vm};
use std::net::SocketAddr;
use std::sync::Arc;

pub struct Worker {
    vm: Vm,
    cache: SnapshotCache,
    shared: Arc<Shared>,
    locals: Arc<[Local]>,
}

impl Worker {
    pub fn new(cache: SnapshotCache, shared: Arc<Shared>, locals: Arc<[Local]>) -> Self {
        let mut vm = Vm::new();
        vm.set_trace(shared.tracing());
        Worker {
            vm,
            cache,
            shared,
            locals,
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
        let (code, reason) = match err.kind() {
            ParseErrorKind::TooLarge => (513, "Message Too Large"),
            _ => (400, err.detail()),
        };
        if build_error_reply(&err, code, reason, None, &mut buf).is_ok() {
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
    fn on_message(&mut self, mut data: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
        let first = out.len();
        // Reverse list order: the module that touches the wire last on the way out (a tracer
        // after topology hiding) sees the bytes first on the way in.
        for f in self.shared.hooks.data_in.iter().rev() {
            f(&self.shared, &self.locals, &mut data, src, via, out);
        }
        self.handle(data, src, via, out);
        data_out(&self.shared, &self.locals, via, out, first);
    }

    fn on_tick(&mut self, out: &mut Outbox) {
        let first = out.len();
        let shared = &*self.shared;
        let mut env = Env {
            shared,
            locals: &self.locals,
            out,
        };
        for f in shared.hooks.tick.iter() {
            f(&mut env, &mut self.vm);
        }
        if let Some(l) = self.locals.first() {
            data_out(&self.shared, &self.locals, l, out, first);
        }
    }
}

/// Offers the items queued since `first` to the modules' raw-data hooks, in list order.
fn data_out(shared: &Shared, locals: &[Local], via: &Local, out: &mut Outbox, first: usize) {
    for f in shared.hooks.data_out.iter() {
        f(shared, locals, out, first, via);
    }
}

impl Worker {
    fn handle(&mut self, data: Bytes, src: SocketAddr, via: &Local, out: &mut Outbox) {
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
        if !msg.has_required_headers() {
            // Before the script, so no transaction is made for it (Kamailio's receive path
            // drops these): a request gets 400 from its raw lines where it has a Via.
            tracing::debug!("a message from {src} without its required headers: not routed");
            if let Some(buf) = crate::forward::raw_reply(&msg, 400, "Bad Request", &[]) {
                reply_to(out, via, src, Bytes::from(buf));
            }
            return;
        }
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
            // Modules may take a request before the script (tm's and sl's ACK absorption).
            let shared = &*self.shared;
            if shared.hooks.request_in.iter().any(|f| f(shared, &msg, src)) {
                return;
            }
            let Some(route) = prog.route(RouteKind::Request, "") else {
                return;
            };
            counters.request();
            let mut c = Ctx::new(&msg, src, via, &self.locals, out, snap, &self.shared);
            c.running = Some(running);
            let _prefix = log_prefix(&mut self.vm, prog, &mut c);
            let r = self.vm.run(prog, route, &mut c);
            for f in shared.hooks.request_done.iter() {
                f(&mut c, &mut self.vm, prog);
            }
            c.finish();
            drop(c);
            if let Err(e) = &r {
                tracing::error!("request_route: {}", e.render(prog));
            }
            count_outcome(counters, r.is_err(), out, before);
        } else {
            let shared = &*self.shared;
            if shared.hooks.reply_in.iter().any(|f| f(shared, &msg)) {
                return;
            }
            counters.reply_received();
            let mut failed = false;
            let dropped = match prog.route(RouteKind::Reply, "") {
                Some(route) => {
                    let mut c = Ctx::new(&msg, src, via, &self.locals, out, snap, &self.shared);
                    let _prefix = log_prefix(&mut self.vm, prog, &mut c);
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
            let mut handled = false;
            if !dropped {
                let mut env = Env {
                    shared,
                    locals: &self.locals,
                    out,
                };
                for f in shared.hooks.reply.iter() {
                    if f(&mut env, &mut self.vm, &msg, src) == ReplyVerdict::Taken {
                        handled = true;
                        break;
                    }
                }
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
}

/// The file's `log_prefix` expanded for this message, in force until the guard drops.
fn log_prefix(vm: &mut Vm, prog: &Program, c: &mut Ctx<'_>) -> Option<crate::logging::PrefixGuard> {
    let f = prog.log_prefix?;
    let p = vm.expand(prog, c, f).ok()?;
    Some(crate::logging::PrefixGuard::set(&p))
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
