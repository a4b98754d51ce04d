//! What a module is to the server: one description value per module folder, holding its
//! declarations, natives, pseudo-variables, shared state, RPC methods and hooks. The worker,
//! `sipvm run` and the RPC registry loop over the list of these; the core names no module.
//! See docs/modules/README.md for the recipe.

use super::{Ctx, Shared};
use crate::sip::{Edits, Msg};
use crate::transport::{Local, Outbox};
use bytes::Bytes;
use sipvm_lang::registry::ModuleDecl;
use sipvm_vm::{ArgValue, HostError, Pc, Program, PvKey, RouteIdx, Value, Vm};
use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;

/// A native implementation: the script's arguments, already evaluated; the return code.
pub type NativeFn = fn(&mut Ctx<'_>, &[ArgValue<'_>]) -> Result<i64, HostError>;

/// Reads a pseudo-variable (`key.name`/`key.index` are its inner name and index).
pub type PvGetFn = fn(&mut Ctx<'_>, PvKey<'_>) -> Result<Value, HostError>;

/// Writes a pseudo-variable; `Value::Null` deletes where that makes sense.
pub type PvSetFn = fn(&mut Ctx<'_>, PvKey<'_>, Value) -> Result<(), HostError>;

/// Builds a module's shared state from the first snapshot (its modparams); the state outlives
/// reloads. An error stops start-up.
pub type StateFn = fn(&sipvm_cfg::Snapshot) -> Result<Arc<dyn Any + Send + Sync>, String>;

/// Checks a module's `modparam` settings of a compiled file.
pub type CheckFn = fn(&[sipvm_lang::compile::ModParamSetting]) -> Result<(), String>;

/// Registers a module's RPC methods.
pub type RpcFn = fn(&sipvm_rpc::Registry, &Server);

/// One implemented native of a module.
pub struct Impl {
    pub name: &'static str,
    pub f: NativeFn,
}

/// One implemented pseudo-variable class of a module (`name` as declared: `sht`, `ru`).
pub struct PvImpl {
    pub name: &'static str,
    pub get: PvGetFn,
    /// Only for classes declared writable.
    pub set: Option<PvSetFn>,
}

/// What the worker and timers pass to hooks that act outside a script.
pub struct Env<'e> {
    pub shared: &'e Shared,
    pub locals: &'e [Local],
    pub out: &'e mut Outbox,
}

/// What a reply hook made of a reply the core reply route let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyVerdict {
    /// Not this module's: the next hook, or the stateless relay, gets it.
    Pass,
    /// Handled (relayed, absorbed or dropped) by the module.
    Taken,
}

/// A module's start-up check over its state; an error stops start-up.
pub type StartupFn = fn(&Shared, &sipvm_cfg::Snapshot) -> Result<(), String>;

/// A module's share of a reply the core reply route let through.
pub type ReplyFn = fn(&mut Env<'_>, &mut Vm, &Msg, SocketAddr) -> ReplyVerdict;

/// A request or reply offered to a module before the script; true consumes it.
pub type RequestInFn = fn(&Shared, &Msg, SocketAddr) -> bool;
pub type ReplyInFn = fn(&Shared, &Msg) -> bool;
/// After request_route, with the message's context still open.
pub type RequestDoneFn = fn(&mut Ctx<'_>, &mut Vm, &Program);
pub type TickFn = fn(&mut Env<'_>, &mut Vm);
pub type SendFn = fn(&Ctx<'_>, &Local, &mut Edits);
/// The raw bytes of a message as received on `local` from `src`, before parsing; may rewrite
/// them, and queue datagrams of its own (Kamailio's `SREV_NET_DATA_IN`).
pub type DataInFn = fn(&Shared, &[Local], &mut Bytes, SocketAddr, &Local, &mut Outbox);
/// The datagrams and stream writes queued from index `first` on, after everything else built
/// them; may rewrite their data and queue more (Kamailio's `SREV_NET_DATA_OUT`). `via` is the
/// socket the current message came on (where an item without `via_socket` leaves by).
pub type DataOutFn = fn(&Shared, &[Local], &mut Outbox, usize, &Local);

/// A statement at `pc` is about to run, in a run that began at route `entry`.
pub type TraceFn = fn(&Ctx<'_>, &Program, RouteIdx, Pc);

/// Statement tracing (Kamailio's debugger `cfgtrace`): `on` says, from the module's state,
/// whether the workers' VMs report statements at all (off, the VM pays nothing); `f` gets
/// each one.
#[derive(Clone, Copy)]
pub struct Trace {
    pub on: fn(&Shared) -> bool,
    pub f: TraceFn,
}

/// Where a module takes part outside its natives. Each is optional.
#[derive(Clone, Copy, Default)]
pub struct Hooks {
    /// Once, after every module's state exists and before the sockets open.
    pub startup: Option<StartupFn>,
    /// A request before the script: true consumes it (tm's and sl's ACK absorption).
    pub request_in: Option<RequestInFn>,
    /// After request_route ended, with the message's context still open (tm's branch_route).
    pub request_done: Option<RequestDoneFn>,
    /// A reply before the script: true consumes it (dispatcher's probe replies).
    pub reply_in: Option<ReplyInFn>,
    /// A reply the core reply_route did not drop (Kamailio's `response_f`: tm).
    pub reply: Option<ReplyFn>,
    /// Each worker's timer tick (every few milliseconds).
    pub tick: Option<TickFn>,
    /// A request is about to leave through `out`: last edits that depend on the socket
    /// (rr's Record-Route).
    pub send: Option<SendFn>,
    /// The server is stopping (flush what must reach disk).
    pub shutdown: Option<fn(&Shared)>,
    /// Raw bytes in, before parsing (topology hiding decodes, tracing mirrors).
    pub data_in: Option<DataInFn>,
    /// Raw bytes out, last of all (topology hiding encodes, tracing mirrors).
    pub data_out: Option<DataOutFn>,
    /// Each statement the script runs, when the module turns tracing on.
    pub trace: Option<Trace>,
}

impl Hooks {
    pub const NONE: Hooks = Hooks {
        startup: None,
        request_in: None,
        request_done: None,
        reply_in: None,
        reply: None,
        tick: None,
        send: None,
        shutdown: None,
        data_in: None,
        data_out: None,
        trace: None,
    };
}

/// Each hook of the listed modules, in list order, collected once so the worker runs a short
/// list per message instead of looking at every module.
#[derive(Default)]
pub struct HookLists {
    pub startup: Vec<(&'static str, StartupFn)>,
    pub request_in: Vec<RequestInFn>,
    pub request_done: Vec<RequestDoneFn>,
    pub reply_in: Vec<ReplyInFn>,
    pub reply: Vec<ReplyFn>,
    pub tick: Vec<TickFn>,
    pub send: Vec<SendFn>,
    pub shutdown: Vec<fn(&Shared)>,
    pub data_in: Vec<DataInFn>,
    pub data_out: Vec<DataOutFn>,
    pub trace: Vec<Trace>,
}

impl HookLists {
    pub fn of(modules: &[&Module]) -> HookLists {
        let mut l = HookLists::default();
        for m in modules {
            let h = &m.hooks;
            l.startup.extend(h.startup.map(|f| (m.decl.name, f)));
            l.request_in.extend(h.request_in);
            l.request_done.extend(h.request_done);
            l.reply_in.extend(h.reply_in);
            l.reply.extend(h.reply);
            l.tick.extend(h.tick);
            l.send.extend(h.send);
            l.shutdown.extend(h.shutdown);
            l.data_in.extend(h.data_in);
            l.data_out.extend(h.data_out);
            l.trace.extend(h.trace);
        }
        l
    }
}

/// A module: everything it brings, behind one value.
pub struct Module {
    pub decl: &'static ModuleDecl,
    pub natives: &'static [Impl],
    pub pvs: &'static [PvImpl],
    /// The `modparam`s this module reads and acts on. Any other parameter of `decl` is refused
    /// by the compiler ("declared but not implemented"): a setting sipvm accepts is honoured.
    pub params: &'static [&'static str],
    /// Those of `params` read once, when the module's state is built: a reload that changes
    /// one is refused (the others are read from each message's snapshot).
    pub restart: &'static [&'static str],
    /// Checks the module's parameters without starting anything (`sipvm check`).
    pub check: Option<CheckFn>,
    pub state: Option<StateFn>,
    pub rpc: Option<RpcFn>,
    pub hooks: Hooks,
}

impl Module {
    /// A module that only declares (its natives, if any, come later in the literal).
    pub const fn decl(decl: &'static ModuleDecl) -> Module {
        Module {
            decl,
            natives: &[],
            pvs: &[],
            params: &[],
            restart: &[],
            check: None,
            state: None,
            rpc: None,
            hooks: Hooks::NONE,
        }
    }
}

/// What RPC methods act on: the live configuration and the state workers share.
#[derive(Clone)]
pub struct Server {
    pub live: Arc<sipvm_cfg::Live>,
    pub shared: Arc<Shared>,
}

/// A module's per-message state: a typed slot in `Ctx`, made on first use.
pub trait MsgState: Any {
    /// The script ended: release what must not outlive the message (locks).
    fn finish(&mut self, _shared: &Shared) {}
}

/// The per-message slots of a `Ctx`: few, so a scan beats a map.
#[derive(Default)]
pub struct Slots(Vec<Box<dyn MsgState>>);

impl Slots {
    pub fn get<T: MsgState>(&self) -> Option<&T> {
        self.0
            .iter()
            .find_map(|s| (&**s as &dyn Any).downcast_ref::<T>())
    }

    pub fn get_mut<T: MsgState>(&mut self) -> Option<&mut T> {
        self.0
            .iter_mut()
            .find_map(|s| (&mut **s as &mut dyn Any).downcast_mut::<T>())
    }

    /// The slot, made with `T::default()` on first use.
    pub fn entry<T: MsgState + Default>(&mut self) -> &mut T {
        let i = match self.0.iter().position(|s| (&**s as &dyn Any).is::<T>()) {
            Some(i) => i,
            None => {
                self.0.push(Box::<T>::default());
                self.0.len() - 1
            }
        };
        (&mut *self.0[i] as &mut dyn Any)
            .downcast_mut::<T>()
            .expect("slot holds its type")
    }

    /// Replaces (or fills) the slot of `T`.
    pub fn put<T: MsgState>(&mut self, v: T) {
        match self.get_mut::<T>() {
            Some(s) => *s = v,
            None => self.0.push(Box::new(v)),
        }
    }

    /// Takes the slot of `T` out.
    pub fn take<T: MsgState>(&mut self) -> Option<T> {
        let i = self.0.iter().position(|s| (&**s as &dyn Any).is::<T>())?;
        let b: Box<dyn Any> = self.0.swap_remove(i);
        b.downcast::<T>().ok().map(|b| *b)
    }

    pub(super) fn finish(&mut self, shared: &Shared) {
        for s in &mut self.0 {
            s.finish(shared);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, PartialEq)]
    struct A(u32);
    impl MsgState for A {}
    #[derive(Default, Debug, PartialEq)]
    struct B(&'static str);
    impl MsgState for B {}

    #[test]
    fn slots_are_typed() {
        let mut s = Slots::default();
        assert!(s.get::<A>().is_none());
        s.entry::<A>().0 = 3;
        s.put(B("x"));
        assert_eq!(s.get::<A>(), Some(&A(3)));
        assert_eq!(s.get::<B>(), Some(&B("x")));
        s.entry::<A>().0 += 1;
        assert_eq!(s.take::<A>(), Some(A(4)));
        assert!(s.get::<A>().is_none());
        assert_eq!(s.get::<B>(), Some(&B("x")));
    }
}
