//! `modparam("debugger", "cfgtrace", 1)`: each statement the script runs is logged as
//! Kamailio's debugger logs its actions: `<route type>=[<block>] c=[<file>] l=<line>
//! a=<action type> n=<action name>`, behind `log_prefix` and, when set, `log_level_name` in
//! place of the level's name, at `log_level`. The VM reports statements only when this is on
//! (`Hooks::trace`), so a server without it pays nothing.

use crate::host::log::{level_of_int, Level};
use crate::host::{Ctx, Shared};
use sipvm_vm::{Op, Pc, Program, RouteIdx, RouteKind};
use std::any::Any;
use std::sync::Arc;

/// The parameters this file reads and honours.
pub const PARAMS: &[&str] = &[
    "cfgtrace",
    "cfgtrace_format",
    "log_level",
    "log_level_name",
    "log_prefix",
];

/// The tracing settings, from the first snapshot (Kamailio reads them once at start too).
pub struct Dbg {
    on: bool,
    /// `cfgtrace_format` bit 1: no `c=[file]`.
    no_file: bool,
    level: Level,
    level_name: Option<String>,
    prefix: String,
    /// Where relative file names are from: Kamailio prints the configuration's full path.
    cwd: std::path::PathBuf,
}

pub fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn Any + Send + Sync>, String> {
    let text = |p: &str| {
        snap.modparam("debugger", p)
            .map(|v| v.to_str().into_owned())
    };
    Ok(Arc::new(Dbg {
        // Kamailio turns tracing on for the value 1 only.
        on: snap.modparam_int("debugger", "cfgtrace", 0) == 1,
        no_file: snap.modparam_int("debugger", "cfgtrace_format", 0) & 1 != 0,
        level: level_of_int(snap.modparam_int("debugger", "log_level", -1)),
        level_name: text("log_level_name").filter(|s| !s.is_empty()),
        prefix: text("log_prefix").unwrap_or_else(|| "*** cfgtrace:".into()),
        cwd: std::env::current_dir().unwrap_or_default(),
    }))
}

pub fn on(shared: &Shared) -> bool {
    shared.try_state::<Dbg>().is_some_and(|d| d.on)
}

/// Kamailio's `get_current_route_type_name()` for the route a run began at.
fn route_type(kind: RouteKind) -> &'static str {
    match kind {
        RouteKind::Request | RouteKind::Sub => "request_route",
        RouteKind::Reply | RouteKind::OnReply => "onreply_route",
        RouteKind::Failure => "failure_route",
        RouteKind::Branch => "branch_route",
        RouteKind::OnSend => "onsend_route",
        RouteKind::Event => "unknown_route",
    }
}

/// The block holding `pc` (the route with the last entry at or before it) and whether `pc`
/// is its last instruction (the `return 1` the compiler adds at a block's end).
fn block_of(prog: &Program, pc: Pc) -> Option<(usize, bool)> {
    let (i, _) = prog
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| r.entry.0 <= pc.0)
        .max_by_key(|(_, r)| r.entry.0)?;
    let next = prog
        .routes
        .iter()
        .map(|r| r.entry.0)
        .filter(|&e| e > pc.0)
        .min()
        .unwrap_or(prog.code.len() as u32);
    Some((i, pc.0 + 1 == next))
}

/// A block's name as Kamailio's parser names it (`DEFAULT_ROUTE` for `request_route`...).
fn block_name(kind: RouteKind, name: &str) -> String {
    if !name.is_empty() {
        return name.to_string();
    }
    match kind {
        RouteKind::Request | RouteKind::Sub => "DEFAULT_ROUTE",
        RouteKind::Reply | RouteKind::OnReply => "DEFAULT_ONREPLY",
        RouteKind::Failure => "DEFAULT_FAILURE",
        RouteKind::Branch => "DEFAULT_BRANCH",
        RouteKind::OnSend => "DEFAULT_SEND",
        RouteKind::Event => "DEFAULT_EVENT",
    }
    .to_string()
}

/// Kamailio's action type numbers (`enum action_type`) and names for the core actions
/// sipvm has as natives; module functions are `MODULE<n>_T` (24 + n arguments, 31 beyond 6).
fn core_action(name: &str) -> Option<(u32, &'static str)> {
    Some(match name {
        "forward" => (1, "forward"),
        "log" => (3, "log"),
        "error" => (4, "error"),
        "exec" => (6, "exec"),
        "rewritehost" | "sethost" | "seth" => (7, "sethost"),
        "rewritehostport" | "sethostport" | "sethp" => (8, "sethostport"),
        "rewriteuser" | "setuser" | "setu" => (9, "setuser"),
        "rewriteuserpass" | "setuserpass" | "setup" => (10, "setuserpass"),
        "rewriteport" | "setport" | "setp" => (11, "setport"),
        "rewriteuri" | "seturi" => (12, "seturi"),
        "rewritehostporttrans" | "sethostporttrans" | "sethpt" => (13, "sethostporttrans"),
        "userphone" => (15, "setuserphone"),
        "setflag" => (39, "setflag"),
        "resetflag" => (40, "resetflag"),
        "isflagset" => (41, "isflagset"),
        "setavpflag" | "resetavpflag" | "isavpflagset" => (42, "avpflag"),
        "prefix" => (44, "prefix"),
        "strip" => (45, "strip"),
        "strip_tail" => (46, "striptail"),
        "remove_branch" => (48, "unknown"),
        "clear_branches" => (49, "unknown"),
        "revert_uri" => (50, "reverturi"),
        "forward_tcp" => (51, "forward_tcp"),
        "forward_udp" => (52, "forward_udp"),
        "forward_tls" => (53, "forward_tls"),
        "forward_sctp" => (54, "forward_sctp"),
        "force_rport" | "add_rport" => (55, "force_rport"),
        "add_local_rport" => (56, "add_local_rport"),
        "set_advertised_address" => (57, "set_adv_addr"),
        "set_advertised_port" => (58, "set_adv_port"),
        "force_tcp_alias" | "add_tcp_alias" => (59, "force_tcp_alias"),
        "force_send_socket" => (62, "force_send_socket"),
        "udp_mtu_try_proto" => (65, "udp_mtu_try_proto"),
        "set_forward_no_connect" => (66, "set_fwd_no_connect"),
        "set_reply_no_connect" => (67, "set_rpl_no_connect"),
        "set_forward_close" => (68, "set_fwd_close"),
        "set_reply_close" => (69, "set_rpl_close"),
        "cfg_select" => (70, "unknown"),
        "cfg_reset" => (71, "unknown"),
        _ => return None,
    })
}

/// The action type and name of the instruction at `pc`; `None` for what Kamailio does not
/// trace (the return the compiler adds at a block's end).
fn action(prog: &Program, pc: Pc, last: bool) -> Option<(u32, String)> {
    Some(match prog.code.get(pc.ix())? {
        Op::Call { native, args, .. } => {
            let n = prog.natives.get(native.ix())?;
            match (&*n.module, core_action(&n.name)) {
                ("core", Some((t, name))) => (t, name.to_string()),
                _ => {
                    let argc = prog.arglists.get(args.ix()).map_or(0, |a| a.len());
                    let t = if argc > 6 { 31 } else { 24 + argc as u32 };
                    (t, n.name.to_string())
                }
            }
        }
        Op::CallRoute { .. } => (5, "route".into()),
        Op::SetVar { .. } | Op::SetPv { .. } => (63, "assign".into()),
        Op::Exit => (2, "exit".into()),
        Op::Drop => (2, "drop".into()),
        Op::Return { .. } if last => return None,
        Op::Return { .. } => (2, "return".into()),
        _ => return None,
    })
}

/// The trace line of the statement at `pc`; `None` when it is not one Kamailio reports.
pub fn line(
    prog: &Program,
    entry: RouteIdx,
    pc: Pc,
    no_file: bool,
    cwd: &std::path::Path,
) -> Option<String> {
    let kind = prog.routes.get(entry.ix())?.kind;
    let (block, last) = block_of(prog, pc)?;
    let (t, name) = action(prog, pc, last)?;
    let r = &prog.routes[block];
    let rname = block_name(r.kind, &r.name);
    let (file, span) = prog.span(pc)?;
    let file = cwd.join(file);
    let file = file.display();
    Some(if no_file {
        format!(
            "{}=[{rname}] l={} a={t} n={name}",
            route_type(kind),
            span.line
        )
    } else {
        format!(
            "{}=[{rname}] c=[{file}] l={} a={t} n={name}",
            route_type(kind),
            span.line
        )
    })
}

pub fn trace(ctx: &Ctx<'_>, prog: &Program, entry: RouteIdx, pc: Pc) {
    let Some(d) = ctx.shared.try_state::<Dbg>() else {
        return;
    };
    let Some(l) = line(prog, entry, pc, d.no_file, &d.cwd) else {
        return;
    };
    let text = match &d.level_name {
        Some(n) => format!("{n}: {}dbg_cfg_trace(): {l}", d.prefix),
        None => format!("{}dbg_cfg_trace(): {l}", d.prefix),
    };
    crate::log_at!("cfgtrace", d.level, text);
}
