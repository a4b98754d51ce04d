//! The state of one message while its script runs, and the proxy's `Host`.

use super::module::Slots;
use super::shared::Shared;
use crate::sip::{Edits, Msg, Uri};
use crate::transport::{Local, Outbox};
use sipvm_cfg::Snapshot;
use sipvm_vm::{ArgValue, Host, HostError, NativeIdx, Program, PvKey, Value};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// One message being routed: the message, what the script changed, and where things go.
pub struct Ctx<'a> {
    pub msg: &'a Msg,
    /// The peer the message came from.
    pub src: SocketAddr,
    /// The socket it arrived on, and every socket of the server (for `myself`).
    pub local: &'a Local,
    pub locals: &'a [Local],
    pub out: &'a mut Outbox,
    pub snap: &'a Snapshot,
    pub shared: &'a Shared,
    /// Header edits, applied once when a message is built from this one.
    pub edits: Edits,
    /// The rewritten Request-URI (`None`: unchanged).
    pub ruri: Option<String>,
    /// `$du`, the outbound proxy / next hop.
    pub dst_uri: Option<String>,
    /// Extra branches (`append_branch`), each a URI.
    pub branches: Vec<String>,
    /// Message flags (`setflag`).
    pub flags: u64,
    /// Branch flags of branch 0 (the Request-URI); `branch_flags[i]` are those of
    /// `branches[i]` (missing entries are 0, so code that only pushes a URI stays right).
    pub bflags: u32,
    pub branch_flags: Vec<u32>,
    /// How this message's replies and forwards may use TCP (core `set_*_no_connect()`,
    /// `set_*_close()`); no effect over UDP.
    pub send_flags: SendFlags,
    /// `force_rport()` was called: replies and the received Via use the source port.
    pub force_rport: bool,
    /// `$avp` values of this message (no transaction yet).
    pub avps: Vec<(Arc<str>, Value)>,
    /// The socket to send from (Kamailio's `force_send_socket`, or rr's double Record-Route):
    /// an index into `locals`.
    pub force_socket: Option<usize>,
    /// The program generation running (snapshot and counters), kept by a transaction.
    pub running: Option<&'a sipvm_cfg::Running>,
    /// Each module's state for this message, made on first use.
    pub slots: Slots,
    /// Output pseudo-variables a native set (`natives::set_out`), for the VM to assign.
    pub pv_out: Vec<(sipvm_vm::PvIdx, Value)>,
    /// Values of the current native's pseudo-variable arguments only the VM can read.
    pub pv_in: Vec<(sipvm_vm::PvIdx, Value)>,
    /// Where the native being called sits in the program (its line, for `xlogl`).
    pub call_pc: Option<sipvm_vm::Pc>,
    /// A route a native asked the VM to run in its place, taken after the call.
    pub route_call: Option<sipvm_vm::RouteIdx>,
    /// The instruction reading a pseudo-variable now (`None` outside the VM).
    pub pc: Option<sipvm_vm::Pc>,
}

/// Kamailio's `SND_F_FORCE_CON_REUSE` and `SND_F_CON_CLOSE` for replies and for forwarded
/// requests of one message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendFlags {
    /// Replies go only on an open connection (sipvm's replies never open one anyway).
    pub reply_no_connect: bool,
    /// The connection is closed once the reply is written.
    pub reply_close: bool,
    /// Forwarded requests go only on an open connection.
    pub forward_no_connect: bool,
    /// The connection is closed once the forwarded request is written.
    pub forward_close: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(
        msg: &'a Msg,
        src: SocketAddr,
        local: &'a Local,
        locals: &'a [Local],
        out: &'a mut Outbox,
        snap: &'a Snapshot,
        shared: &'a Shared,
    ) -> Self {
        Ctx {
            msg,
            src,
            local,
            locals,
            out,
            snap,
            shared,
            edits: Edits::new(),
            ruri: None,
            dst_uri: None,
            branches: Vec::new(),
            flags: 0,
            bflags: 0,
            branch_flags: Vec::new(),
            send_flags: SendFlags::default(),
            force_rport: false,
            avps: Vec::new(),
            force_socket: None,
            running: None,
            slots: Slots::default(),
            pv_out: Vec::new(),
            pv_in: Vec::new(),
            call_pc: None,
            route_call: None,
            pc: None,
        }
    }

    /// The flags of branch `i` (0: the Request-URI, i: `branches[i - 1]`); `None` when there
    /// is no such branch.
    pub fn branch_flags(&self, i: usize) -> Option<u32> {
        match i {
            0 => Some(self.bflags),
            i if i <= self.branches.len() => {
                Some(self.branch_flags.get(i - 1).copied().unwrap_or(0))
            }
            _ => None,
        }
    }

    /// The flags of branch `i` to change; `None` when there is no such branch.
    pub fn branch_flags_mut(&mut self, i: usize) -> Option<&mut u32> {
        match i {
            0 => Some(&mut self.bflags),
            i if i <= self.branches.len() => {
                if self.branch_flags.len() < self.branches.len() {
                    self.branch_flags.resize(self.branches.len(), 0);
                }
                self.branch_flags.get_mut(i - 1)
            }
            _ => None,
        }
    }

    /// Appends a branch with its flags.
    pub fn push_branch(&mut self, uri: String, flags: u32) {
        self.branch_flags.resize(self.branches.len(), 0);
        self.branches.push(uri);
        self.branch_flags.push(flags);
    }

    /// The current Request-URI as text (rewritten or as received).
    pub fn ruri_str(&self) -> &str {
        self.ruri.as_deref().unwrap_or_else(|| self.msg.ruri_str())
    }

    /// The script ended: each module releases what must not outlive the message (locks a
    /// script left held, so a forgotten `unlock` cannot stall other workers).
    pub fn finish(&mut self) {
        self.slots.finish(self.shared);
    }

    /// The shared state of the module whose state type is `T`.
    pub fn state<T: std::any::Any + Send + Sync>(&self) -> &'a T {
        self.shared.state::<T>()
    }

    /// Whether `host[:port]` names this server.
    pub fn is_local(&self, host: &str, port: Option<u16>) -> bool {
        is_local(self.locals, self.snap, host, port)
    }
}

/// Whether `host[:port]` names this server: a listen address or advertised name with a
/// matching port (5060 when absent), or an `alias`.
pub fn is_local(locals: &[Local], snap: &Snapshot, host: &str, port: Option<u16>) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: Option<IpAddr> = host.parse().ok();
    let want = port.unwrap_or(5060);
    let by_socket = locals.iter().any(|l| {
        let by_addr = ip.is_some_and(|ip| ip == l.addr.ip()) && want == l.addr.port();
        let by_adv = l.advertise.as_ref().is_some_and(|a| {
            a.host.eq_ignore_ascii_case(host) && want == a.port.unwrap_or(l.addr.port())
        });
        by_addr || by_adv
    });
    by_socket
        || snap
            .global("alias")
            .any(|a| alias_matches(&a.raw, host, port))
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

impl Host for Ctx<'_> {
    fn get_pv_at(
        &mut self,
        prog: &Program,
        key: PvKey<'_>,
        pc: sipvm_vm::Pc,
    ) -> Result<Value, HostError> {
        let was = self.pc.replace(pc);
        let v = self.get_pv(prog, key);
        self.pc = was;
        v
    }

    fn get_pv(&mut self, prog: &Program, key: PvKey<'_>) -> Result<Value, HostError> {
        let class = prog.pvs[key.pv.ix()].class;
        match self.shared.pv_get(class) {
            Some(f) => f(self, key),
            // The compiler refuses what no module implements; a program compiled against
            // another registry could still hold one.
            None => Err(HostError(format!(
                "pseudo-variable ${} is not implemented",
                prog.pvs[key.pv.ix()].class_name
            ))),
        }
    }

    fn set_pv(&mut self, prog: &Program, key: PvKey<'_>, v: Value) -> Result<(), HostError> {
        let class = prog.pvs[key.pv.ix()].class;
        match self.shared.pv_set(class) {
            Some(f) => f(self, key, v),
            None => Err(HostError(format!(
                "${} cannot be assigned",
                prog.pvs[key.pv.ix()].class_name
            ))),
        }
    }

    fn call(
        &mut self,
        prog: &Program,
        native: NativeIdx,
        args: &[ArgValue<'_>],
    ) -> Result<i64, HostError> {
        let n = prog
            .natives
            .get(native.ix())
            .ok_or_else(|| HostError("no such native".into()))?;
        match self.shared.native(n.id) {
            Some(f) => {
                let r = f(self, args);
                self.pv_in.clear();
                r
            }
            None => Err(HostError(format!(
                "{}.{}() is declared but not implemented by sipvm yet",
                n.module, n.name
            ))),
        }
    }

    fn take_route_call(&mut self) -> Option<sipvm_vm::RouteIdx> {
        self.route_call.take()
    }

    fn calling_at(&mut self, pc: sipvm_vm::Pc) {
        self.call_pc = Some(pc);
    }

    fn failed(&mut self, prog: &Program, pc: sipvm_vm::Pc, err: &HostError) {
        // Kamailio logs a failing function at ERROR and the script goes on.
        match prog.span(pc) {
            Some((f, s)) => tracing::error!(target: "sipvm::script", "{f}:{}: {}", s.line, err.0),
            None => tracing::error!(target: "sipvm::script", "pc {}: {}", pc.0, err.0),
        }
        if let Some(r) = self.running {
            r.counters.runtime_error();
        }
    }

    fn pv_arg(&mut self, pv: sipvm_vm::PvIdx, v: Value) {
        self.pv_in.push((pv, v));
    }

    fn take_pv_write(&mut self) -> Option<(sipvm_vm::PvIdx, Value)> {
        (!self.pv_out.is_empty()).then(|| self.pv_out.remove(0))
    }

    fn trace(&mut self, prog: &Program, entry: sipvm_vm::RouteIdx, pc: sipvm_vm::Pc) {
        for t in &self.shared.hooks.trace {
            if (t.on)(self.shared) {
                (t.f)(self, prog, entry, pc);
            }
        }
    }

    fn is_myself(&mut self, uri: &str) -> bool {
        match Uri::parse(uri) {
            Ok(u) => self.is_local(u.host(), u.port()),
            // `src_ip == myself` compares a bare address.
            Err(_) => {
                self.is_local(uri, None)
                    || uri
                        .parse::<IpAddr>()
                        .is_ok_and(|ip| self.locals.iter().any(|l| l.addr.ip() == ip))
            }
        }
    }
}
