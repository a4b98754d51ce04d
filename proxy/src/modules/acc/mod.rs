//! `acc`: declarations mirroring Kamailio 5.6's acc module: accounting.

use sipvm_lang::registry::ArgKind::Fmt;
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "acc",
    functions: &[
        FnDecl { name: "acc_log_request", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "acc_db_request", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
        FnDecl { name: "acc_request", args: &[Fmt, Fmt], min_args: 2, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "early_media", ty: ParamType::Int },
        ParamDecl { name: "failed_transaction_flag", ty: ParamType::Int },
        ParamDecl { name: "failed_filter", ty: ParamType::Str },
        ParamDecl { name: "report_ack", ty: ParamType::Int },
        ParamDecl { name: "report_cancels", ty: ParamType::Int },
        ParamDecl { name: "multi_leg_info", ty: ParamType::Str },
        ParamDecl { name: "detect_direction", ty: ParamType::Int },
        ParamDecl { name: "acc_prepare_flag", ty: ParamType::Int },
        ParamDecl { name: "acc_prepare_always", ty: ParamType::Int },
        ParamDecl { name: "reason_from_hf", ty: ParamType::Int },
        ParamDecl { name: "acc_extra_nullable", ty: ParamType::Int },
        ParamDecl { name: "log_flag", ty: ParamType::Int },
        ParamDecl { name: "log_missed_flag", ty: ParamType::Int },
        ParamDecl { name: "log_level", ty: ParamType::Int },
        ParamDecl { name: "log_facility", ty: ParamType::Str },
        ParamDecl { name: "log_extra", ty: ParamType::Str },
        ParamDecl { name: "cdr_enable", ty: ParamType::Int },
        ParamDecl { name: "cdr_skip", ty: ParamType::Str },
        ParamDecl { name: "cdr_log_enable", ty: ParamType::Int },
        ParamDecl { name: "cdr_start_on_confirmed", ty: ParamType::Int },
        ParamDecl { name: "cdr_facility", ty: ParamType::Str },
        ParamDecl { name: "cdr_extra", ty: ParamType::Str },
        ParamDecl { name: "cdr_extra_nullable", ty: ParamType::Int },
        ParamDecl { name: "cdr_start_id", ty: ParamType::Str },
        ParamDecl { name: "cdr_end_id", ty: ParamType::Str },
        ParamDecl { name: "cdr_duration_id", ty: ParamType::Str },
        ParamDecl { name: "cdr_expired_dlg_enable", ty: ParamType::Int },
        ParamDecl { name: "db_flag", ty: ParamType::Int },
        ParamDecl { name: "db_missed_flag", ty: ParamType::Int },
        ParamDecl { name: "db_extra", ty: ParamType::Str },
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "db_table_acc", ty: ParamType::Str },
        ParamDecl { name: "db_table_missed_calls", ty: ParamType::Str },
        ParamDecl { name: "acc_method_column", ty: ParamType::Str },
        ParamDecl { name: "acc_from_tag_column", ty: ParamType::Str },
        ParamDecl { name: "acc_to_tag_column", ty: ParamType::Str },
        ParamDecl { name: "acc_callid_column", ty: ParamType::Str },
        ParamDecl { name: "acc_sip_code_column", ty: ParamType::Str },
        ParamDecl { name: "acc_sip_reason_column", ty: ParamType::Str },
        ParamDecl { name: "acc_time_column", ty: ParamType::Str },
        ParamDecl { name: "db_insert_mode", ty: ParamType::Int },
        ParamDecl { name: "time_mode", ty: ParamType::Int },
        ParamDecl { name: "time_attr", ty: ParamType::Str },
        ParamDecl { name: "time_exten", ty: ParamType::Str },
        ParamDecl { name: "cdrs_table", ty: ParamType::Str },
        ParamDecl { name: "time_format", ty: ParamType::Str },
        ParamDecl { name: "clone_msg", ty: ParamType::Int },
        ParamDecl { name: "cdr_on_failed", ty: ParamType::Int },
        ParamDecl { name: "acc_extra_size", ty: ParamType::Int },
        ParamDecl { name: "cdr_extra_size", ty: ParamType::Int },
    ],
    pvs: &[],
    transforms: &[],
};

// ---- the module ----

mod extra;
pub mod record;

use crate::host::natives::arg_str;
use crate::host::{Ctx, Hooks, Impl, Module, Shared};
use crate::modules::tm::events::{TxEnv, TxEvent, TxEventKind};
use crate::modules::tm::Tm;
use crate::sip::{Method, Msg};
use record::{error_text, line, Acc, Core, What};
use sipvm_vm::{ArgValue, HostError};
use std::sync::Arc;

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    Ok(Arc::new(Acc::from_snapshot(snap)?))
}

/// Follows transactions (tm's events) when the script loads acc.
fn startup(shared: &Shared, _: &sipvm_cfg::Snapshot) -> Result<(), String> {
    if shared.state::<Acc>().enabled {
        shared.state::<Tm>().events.add(on_tx);
    }
    Ok(())
}

/// Now, as seconds and microseconds.
fn now() -> (u64, u32) {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or((0, 0), |d| (d.as_secs(), d.subsec_micros()))
}

fn tag_of(h: Result<&crate::sip::NameAddr<'_>, crate::sip::HeaderError>) -> String {
    h.ok().and_then(|n| n.tag()).unwrap_or("").to_string()
}

/// rr's direction test on the request as received: our Route's `ftag` is not the From tag
/// (the callee sends this request).
fn upstream(ctx: &Ctx<'_>) -> bool {
    let from = tag_of(ctx.msg.from());
    let Ok(routes) = ctx.msg.route() else {
        return false;
    };
    routes
        .first()
        .filter(|r| ctx.is_local(r.uri().host(), r.uri().port()))
        .and_then(|r| r.uri().param("ftag").flatten())
        .is_some_and(|ftag| ftag != from)
}

/// The record's fixed part for a request and the To header to report (the reply's, or the
/// request's), swapped when `detect_direction` finds the request going upstream.
fn core(acc: &Acc, ctx: &Ctx<'_>, to_tag: String, code: String, reason: String) -> Core {
    let msg = ctx.msg;
    let mut from_tag = tag_of(msg.from());
    let mut to_tag = to_tag;
    if acc.detect_direction && upstream(ctx) {
        std::mem::swap(&mut from_tag, &mut to_tag);
    }
    Core {
        method: msg.cseq().map(|c| c.method.to_string()).unwrap_or_default(),
        from_tag,
        to_tag,
        call_id: msg.call_id().unwrap_or("").to_string(),
        code,
        reason,
    }
}

/// Writes one record for `ctx`'s message.
fn write(acc: &Acc, ctx: &mut Ctx<'_>, what: What, to_tag: String, code: String, reason: String) {
    let c = core(acc, ctx, to_tag, code, reason);
    let values = acc.extras.values(ctx);
    let (secs, usec) = now();
    let stamp = acc.time.stamp(secs, usec);
    record::emit(acc, &line(what, &stamp, &c, &acc.extras.names, &values));
}

/// Kamailio's `should_acc_reply`: a negative reply only with the failed-transaction flag and
/// outside `failed_filter`; a provisional one only with `early_media` and a body.
fn should_acc_reply(acc: &Acc, flags: u64, code: u16, reply: Option<&Msg>) -> bool {
    if code >= 300 {
        return Acc::is_set(flags, acc.failed_flag) && !acc.failed_filter.contains(&code);
    }
    if code < 200 {
        return acc.early_media && reply.is_some_and(|r| !r.body().is_empty());
    }
    true
}

/// tm's event hook: missed calls (once per transaction: the flag is cleared) and answered
/// (completed) transactions.
fn on_tx(env: &mut TxEnv<'_>, ev: &TxEvent<'_>) -> u64 {
    let acc = env.shared.state::<Acc>();
    let t = ev.txn;
    let (acc_on, mc_on) = (
        Acc::is_set(t.flags, acc.log_flag),
        Acc::is_set(t.flags, acc.log_missed_flag),
    );
    if !(acc_on || mc_on) || (ev.req.method() == Some(Method::Cancel) && !acc.report_cancels) {
        return 0;
    }
    let missed = t.invite && ev.code >= 300 && mc_on;
    let answered = ev.kind == TxEventKind::ResponseOut
        && acc_on
        && should_acc_reply(acc, t.flags, ev.code, ev.reply);
    if !missed && !answered {
        return 0;
    }
    let Some(local) = env.locals.get(t.local) else {
        return 0;
    };
    let snap = &t.running.snapshot;
    let mut ctx = Ctx::new(ev.req, t.src, local, env.locals, env.out, snap, env.shared);
    ctx.flags = t.flags;
    ctx.ruri = ev
        .branch
        .and_then(|b| t.branches.get(b))
        .map(|b| b.uri.clone());
    let (reply_tag, reason) = match ev.reply {
        Some(r) => (tag_of(r.to()), reply_reason(acc, r)),
        None => (tag_of(ev.req.to()), error_text(ev.code).to_string()),
    };
    // A reply sipvm made has the request's To: its tag is the one local replies carry, which
    // Kamailio adds to missed-call records (and keeps for the record that follows).
    let local_tag = || {
        ev.local_to_tag
            .map(str::to_string)
            .unwrap_or_else(|| crate::forward::to_tag(ev.req))
    };
    let code = ev.code.to_string();
    let mut clear = 0;
    let mut tag = reply_tag;
    let mut remembered = None;
    if missed {
        clear |= 1u64 << acc.log_missed_flag.unwrap_or(0);
    }
    {
        let mut kept = acc.local_tags.lock().unwrap_or_else(|e| e.into_inner());
        if ev.kind == TxEventKind::ResponseOut && ev.code >= 200 {
            remembered = kept.remove(&t.id);
        }
        // Only replies sipvm made lack a To-tag of their own.
        if missed && tag.is_empty() && ev.reply.is_none() {
            tag = local_tag();
            if ev.kind == TxEventKind::OnFailure {
                if kept.len() >= record::MAX_LOCAL_TAGS {
                    kept.clear();
                }
                kept.insert(t.id, tag.clone());
            }
        }
    }
    if missed {
        let (c, r) = (code.clone(), reason.clone());
        write(acc, &mut ctx, What::Missed, tag.clone(), c, r);
    }
    if answered {
        if tag.is_empty() && ev.reply.is_none() {
            tag = remembered.unwrap_or_default();
        }
        write(acc, &mut ctx, What::Answered, tag, code, reason);
    }
    clear
}

/// The reason of a received reply: its status line's, or with `reason_from_hf` the value
/// of its first Reason header (Kamailio's `env_set_code_status`).
fn reply_reason(acc: &Acc, r: &Msg) -> String {
    let hf = if acc.reason_from_hf {
        r.header_values_by_name("Reason").next()
    } else {
        None
    };
    hf.or_else(|| r.reason())
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .unwrap_or_default()
}

/// Kamailio's `acc_parse_code`: a comment starting with three digits gives the code, the
/// rest (blanks skipped) the reason; otherwise no code and the whole comment.
fn comment_parts(comment: &str) -> (String, String) {
    let b = comment.as_bytes();
    if b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) {
        (
            comment[..3].to_string(),
            comment[3..].trim_start().to_string(),
        )
    } else {
        (String::new(), comment.to_string())
    }
}

/// A record of the request now (`ACC: request accounted:`), with the request's To tag.
/// -1 when the request lacks Call-ID, CSeq, From or To.
fn request_record(ctx: &mut Ctx<'_>, comment: &str) -> i64 {
    let acc = ctx.state::<Acc>();
    let msg = ctx.msg;
    if msg.call_id().is_err() || msg.cseq().is_err() || msg.from().is_err() || msg.to().is_err() {
        return -1;
    }
    let (code, reason) = comment_parts(comment);
    let to_tag = tag_of(msg.to());
    write(acc, ctx, What::Request, to_tag, code, reason);
    1
}

/// `acc_log_request(comment)`: a record of the request now. 1, or -1 (headers missing).
fn acc_log_request(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let comment = arg_str(args, 0).into_owned();
    Ok(request_record(ctx, &comment))
}

/// `acc_request(comment, table)`: Kamailio's `ki_acc_request`: the comment, once evaluated,
/// must be non-empty and free of `$`; the log record is written (the table names a database
/// table: the database backend is not enabled, so only the log gets it). 1 or -1.
fn acc_request(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let comment = arg_str(args, 0).into_owned();
    if comment.is_empty() {
        tracing::error!(target: "acc", "acc_request: invalid parameters");
        return Ok(-1);
    }
    if comment.contains('$') {
        tracing::error!(target: "acc", "acc_request: cfg variable detected - not supported");
        return Ok(-1);
    }
    Ok(request_record(ctx, &comment))
}

static IMPLS: &[Impl] = &[
    Impl {
        name: "acc_log_request",
        f: acc_log_request,
    },
    Impl {
        name: "acc_request",
        f: acc_request,
    },
];

/// Parameters sipvm honours (all read at start-up).
const PARAMS: &[&str] = &[
    "early_media",
    "failed_transaction_flag",
    "failed_filter",
    "report_ack",
    "report_cancels",
    "detect_direction",
    "log_flag",
    "log_missed_flag",
    "log_level",
    "log_facility",
    "log_extra",
    "reason_from_hf",
    "acc_extra_nullable",
    "acc_extra_size",
    "acc_prepare_always",
    "clone_msg",
    "time_mode",
    "time_attr",
    "time_exten",
    "time_format",
];

/// The acc module, log backend: transactions, missed calls and requests to the log.
pub static MODULE: Module = Module {
    natives: IMPLS,
    params: PARAMS,
    restart: PARAMS,
    state: Some(state),
    hooks: Hooks {
        startup: Some(startup),
        ..Hooks::NONE
    },
    ..Module::decl(&DECL)
};
