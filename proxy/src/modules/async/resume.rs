//! The suspended requests: what a script had when it called `async_route` (its edits,
//! R-URI, `$du`, branches, flags, AVPs, armed tm routes, Record-Route state), queued by due
//! time in state shared by every worker; each worker's tick takes the due ones and runs
//! their routes on the transaction's request, with the transaction held as in request_route.

use crate::host::{Ctx, Env};
use crate::modules::rr::record::RrState;
use crate::modules::tm::state::{TmSlot, Tx};
use crate::modules::tm::{lock, Armed, Tm};
use crate::sip::{Edits, Msg};
use sipvm_cfg::Running;
use sipvm_vm::{RouteIdx, Value, Vm};
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// The most requests suspended at once (Kamailio bounds its ms queue only; every table a
/// peer can grow has a limit here).
pub const MAX_PENDING: usize = 100_000;

/// The module's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Kamailio's timer processes; 0 disables async_route and async_ms_route.
    pub workers: i64,
    /// The millisecond timer's step; 0 (the default) disables async_ms_route.
    pub ms_timer: i64,
    /// What the suspending functions return (0: the script ends).
    pub ret: i64,
}

impl Config {
    pub fn from_snapshot(snap: &sipvm_cfg::Snapshot) -> Result<Config, String> {
        let cfg = Config {
            workers: snap.modparam_int("async", "workers", 1),
            ms_timer: snap.modparam_int("async", "ms_timer", 0),
            ret: snap.modparam_int("async", "return", 0),
        };
        if cfg.ms_timer < 0 {
            return Err(format!("ms_timer {}: must not be negative", cfg.ms_timer));
        }
        Ok(cfg)
    }
}

/// One suspended request.
pub struct Pending {
    txn: u64,
    route: RouteIdx,
    edits: Edits,
    ruri: Option<String>,
    dst_uri: Option<String>,
    branches: Vec<String>,
    flags: u64,
    force_rport: bool,
    force_socket: Option<usize>,
    avps: Vec<(Arc<str>, Value)>,
    armed: Armed,
    fr: Option<(u64, u64)>,
    rr: Option<RrState>,
}

impl Pending {
    /// What the script of `ctx` has now, to run `route` later on transaction `txn`.
    pub fn save(ctx: &mut Ctx<'_>, txn: u64, route: RouteIdx) -> Pending {
        let tm = ctx.slots.tm();
        let (armed, fr) = (tm.armed, tm.fr);
        Pending {
            txn,
            route,
            edits: ctx.edits.clone(),
            ruri: ctx.ruri.clone(),
            dst_uri: ctx.dst_uri.clone(),
            branches: ctx.branches.clone(),
            flags: ctx.flags,
            force_rport: ctx.force_rport,
            force_socket: ctx.force_socket,
            avps: ctx.avps.clone(),
            armed,
            fr,
            rr: ctx.slots.get::<RrState>().cloned(),
        }
    }
}

/// `async_task_data(route, data)`: a route to run on the faked request with `$async(data)`.
pub struct DataTask {
    pub route: RouteIdx,
    pub data: String,
    /// `$async(gname)`: the group of async workers (`default` without one).
    pub group: String,
    /// The generation that queued it (its route index is that program's).
    pub running: Running,
}

/// What the queue holds.
pub enum Item {
    /// Boxed: a request's saved state is large and waits in the heap.
    Suspended(Box<Pending>),
    Data(DataTask),
}

/// A queued item and when it is due (earliest first out of the heap).
struct Due {
    at: u64,
    seq: u64,
    ms: bool,
    p: Item,
}

impl PartialEq for Due {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Due {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// async's shared state.
pub struct Async {
    pub cfg: Config,
    queue: Mutex<(BinaryHeap<Due>, u64)>,
    /// Queued by async_ms_route (Kamailio's MAX_MS_SLEEP_QUEUE counts those).
    ms_len: AtomicUsize,
    epoch: Instant,
}

impl Async {
    pub fn new(cfg: Config) -> Async {
        Async {
            cfg,
            queue: Mutex::new((BinaryHeap::new(), 0)),
            ms_len: AtomicUsize::new(0),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn ms_len(&self) -> usize {
        self.ms_len.load(Ordering::Relaxed)
    }

    /// Queues `p` to run in `delay_ms`; false when the queue is full.
    pub fn push(&self, p: Item, delay_ms: u64, ms: bool) -> bool {
        let at = self.now_ms() + delay_ms;
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if q.0.len() >= MAX_PENDING {
            return false;
        }
        q.1 += 1;
        let seq = q.1;
        q.0.push(Due { at, seq, ms, p });
        if ms {
            self.ms_len.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    /// How many requests are suspended.
    pub fn len(&self) -> usize {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The requests due by now, each given to exactly one caller.
    fn take_due(&self) -> Vec<Item> {
        let now = self.now_ms();
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        while q.0.peek().is_some_and(|d| d.at <= now) {
            if let Some(d) = q.0.pop() {
                if d.ms {
                    self.ms_len.fetch_sub(1, Ordering::Relaxed);
                }
                out.push(d.p);
            }
        }
        out
    }
}

/// Every worker's tick: the due requests' routes run here.
pub fn tick(e: &mut Env<'_>, vm: &mut Vm) {
    let Some(a) = e.shared.try_state::<Async>() else {
        return;
    };
    for item in a.take_due() {
        match item {
            Item::Suspended(p) => resume(e, vm, *p),
            Item::Data(d) => run_data(e, vm, d),
        }
    }
}

/// `$async(data)` and `$async(gname)` of a data task's route.
pub struct TaskData {
    pub data: String,
    pub group: String,
}
impl crate::host::MsgState for TaskData {}

/// Runs a data task's route on Kamailio's faked request, as a request route.
fn run_data(e: &mut Env<'_>, vm: &mut Vm, d: DataTask) {
    let Some(local) = e.locals.first() else {
        return;
    };
    let running = d.running;
    let snap = &running.snapshot;
    let msg = crate::modules::rtimer::faked_msg();
    let src = crate::modules::rtimer::faked_src();
    let mut c = Ctx::new(&msg, src, local, e.locals, e.out, snap, e.shared);
    c.running = Some(&running);
    c.slots.put(TaskData {
        data: d.data,
        group: d.group,
    });
    let r = vm.run(&snap.program, d.route, &mut c);
    c.finish();
    drop(c);
    if let Err(err) = r {
        tracing::error!(target: "async", "async data route: {}", err.render(&snap.program));
        running.counters.runtime_error();
    }
}

/// Runs a suspended request's route (Kamailio's `t_continue`): skipped when its transaction
/// is gone, was canceled, or has a final reply.
fn resume(e: &mut Env<'_>, vm: &mut Vm, p: Pending) {
    let Some(tref) = e.shared.state::<Tm>().get(p.txn) else {
        tracing::warn!(target: "async", "active transaction not found");
        return;
    };
    let (req, src, local, running) = {
        let t = lock(&tref);
        if t.canceled || t.status >= 200 {
            tracing::debug!(target: "async", "transaction {} ended before its route ran", t.id);
            return;
        }
        (t.req.clone(), t.src, t.local, t.running.clone())
    };
    let Ok(msg) = Msg::parse(req) else {
        return;
    };
    let Some(local) = e.locals.get(local) else {
        return;
    };
    let snap = &running.snapshot;
    let prog = &snap.program;
    let before = e.out.len();
    let mut c = Ctx::new(&msg, src, local, e.locals, e.out, snap, e.shared);
    c.running = Some(&running);
    c.edits = p.edits;
    c.ruri = p.ruri;
    c.dst_uri = p.dst_uri;
    c.branches = p.branches;
    c.flags = p.flags;
    c.force_rport = p.force_rport;
    c.force_socket = p.force_socket;
    c.avps = p.avps;
    if let Some(rr) = p.rr {
        c.slots.put(rr);
    }
    let tm = c.slots.tm();
    tm.tx = Tx::Held(tref);
    tm.armed = p.armed;
    tm.fr = p.fr;
    let r = vm.run(prog, p.route, &mut c);
    for f in e.shared.hooks.request_done.iter() {
        f(&mut c, vm, prog);
    }
    c.finish();
    drop(c);
    if let Err(err) = r {
        tracing::error!(target: "async", "async route: {}", err.render(prog));
        running.counters.runtime_error();
    }
    // The replies the resumed route sent count for its generation like a request's.
    let sent = e.out.items().get(before..).unwrap_or_default();
    running
        .counters
        .replies_in(sent.iter().map(|o| &o.data[..]));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(txn: u64) -> Pending {
        Pending {
            txn,
            route: RouteIdx(0),
            edits: Edits::new(),
            ruri: None,
            dst_uri: None,
            branches: Vec::new(),
            flags: 0,
            force_rport: false,
            force_socket: None,
            avps: Vec::new(),
            armed: Armed::default(),
            fr: None,
            rr: None,
        }
    }

    #[test]
    fn due_in_order_and_once() {
        let a = Async::new(Config {
            workers: 1,
            ms_timer: 10,
            ret: 0,
        });
        assert!(a.push(Item::Suspended(Box::new(pending(2))), 0, true));
        assert!(a.push(Item::Suspended(Box::new(pending(1))), 0, false));
        assert!(a.push(Item::Suspended(Box::new(pending(3))), 60_000, false));
        assert_eq!(a.ms_len(), 1);
        let due: Vec<u64> = a
            .take_due()
            .iter()
            .map(|i| match i {
                Item::Suspended(p) => p.txn,
                Item::Data(_) => 0,
            })
            .collect();
        assert_eq!(due, vec![2, 1], "same due time: in queueing order");
        assert!(a.take_due().is_empty());
        assert_eq!((a.len(), a.ms_len()), (1, 0));
    }
}
