//! `mqueue`: Kamailio 5.6's mqueue module: named queues of (key, value) items shared by every
//! worker, `mq_add`/`mq_fetch`/`mq_size`/`mq_pv_free`, `$mqk`/`$mqv`/`$mq_size`, and the
//! `mqueue.*` RPCs. See docs/modules/mqueue.md.

use sipvm_lang::registry::ArgKind::{Fmt, Str};
use sipvm_lang::registry::{FnDecl, ModuleDecl, ParamDecl, ParamType, PvDecl, PvForm, RouteMask};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "mqueue",
    functions: &[
        FnDecl { name: "mq_fetch", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "mq_add", args: &[Fmt, Fmt, Fmt], min_args: 3, routes: RouteMask::ANY },
        FnDecl { name: "mq_pv_free", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        FnDecl { name: "mq_size", args: &[Fmt], min_args: 1, routes: RouteMask::ANY },
        // The C API binding other modules use; not a script function.
        FnDecl { name: "bind_mq", args: &[Str], min_args: 1, routes: RouteMask::ANY },
    ],
    params: &[
        ParamDecl { name: "db_url", ty: ParamType::Str },
        ParamDecl { name: "mqueue", ty: ParamType::Str },
        ParamDecl { name: "mqueue_name", ty: ParamType::Str },
        ParamDecl { name: "mqueue_size", ty: ParamType::Int },
        ParamDecl { name: "mqueue_addmode", ty: ParamType::Int },
    ],
    pvs: &[
        PvDecl { name: "mqk", form: PvForm::Named, writable: false },
        PvDecl { name: "mqv", form: PvForm::Named, writable: false },
        PvDecl { name: "mq_size", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

// ---- the module ----

pub mod queue;
mod rpc;

pub use queue::{AddMode, Def, Queue, Queues, MAX_ITEMS};

use crate::host::natives::arg_str;
use crate::host::{Ctx, Impl, Module, PvImpl};
use sipvm_vm::{ArgValue, HostError, PvKey, Value};
use std::cell::RefCell;
use std::sync::Arc;

thread_local! {
    /// The item each queue last gave this worker (Kamailio keeps it per process): what
    /// `$mqk`/`$mqv` read until the next `mq_fetch` or `mq_pv_free` of that queue. Only
    /// defined queues get an entry, so it is as bounded as their list.
    static FETCHED: RefCell<Vec<(String, (String, String))>> = const { RefCell::new(Vec::new()) };
}

fn set_fetched(name: &str, item: Option<(String, String)>) {
    FETCHED.with(|f| {
        let mut f = f.borrow_mut();
        f.retain(|(n, _)| n != name);
        if let Some(it) = item {
            f.push((name.to_string(), it));
        }
    });
}

fn fetched<R>(name: &str, g: impl FnOnce(&(String, String)) -> R) -> Option<R> {
    FETCHED.with(|f| {
        f.borrow()
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, it)| g(it))
    })
}

/// The queue `name`, with the definitions of the message's snapshot applied.
fn queue(ctx: &Ctx<'_>, name: &str) -> Option<Arc<Queue>> {
    let qs = ctx.state::<Queues>();
    qs.sync(ctx.snap);
    qs.get(name)
}

/// `mq_add(q, key, value)`: 1, or -1 when the queue does not exist.
fn mq_add(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let Some(q) = queue(ctx, &name) else {
        tracing::error!(target: "mqueue", "mqueue not found: {name}");
        return Ok(-1);
    };
    q.add(&arg_str(args, 1), &arg_str(args, 2));
    Ok(1)
}

/// `mq_fetch(q)`: drops the item fetched before, then takes the oldest: 1, -2 when the queue
/// is empty, -1 when it does not exist.
fn mq_fetch(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    let Some(q) = queue(ctx, &name) else {
        return Ok(-1);
    };
    let item = q.pop();
    let found = item.is_some();
    set_fetched(&name, item);
    Ok(if found { 1 } else { -2 })
}

/// `mq_size(q)`: the number of items; an empty queue gives -1, one that does not exist -2
/// (Kamailio subtracts one from what is not positive, so the answer is never 0).
fn mq_size(ctx: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    let name = arg_str(args, 0);
    match queue(ctx, &name) {
        Some(q) => Ok(match q.len() as i64 {
            0 => -1,
            n => n,
        }),
        None => {
            tracing::error!(target: "mqueue", "mqueue {name} not found");
            Ok(-2)
        }
    }
}

/// `mq_pv_free(q)`: forgets the fetched item; always 1.
fn mq_pv_free(_: &mut Ctx<'_>, args: &[ArgValue<'_>]) -> Result<i64, HostError> {
    set_fetched(&arg_str(args, 0), None);
    Ok(1)
}

static IMPLS: &[Impl] = &[
    Impl {
        name: "mq_add",
        f: mq_add,
    },
    Impl {
        name: "mq_fetch",
        f: mq_fetch,
    },
    Impl {
        name: "mq_size",
        f: mq_size,
    },
    Impl {
        name: "mq_pv_free",
        f: mq_pv_free,
    },
];

/// `$mqk(q)`/`$mqv(q)`: the fetched item's key or value, `$null` when there is none or it is
/// empty; reading a queue that does not exist is Kamailio's error (logged, `$null`).
fn item_part(ctx: &mut Ctx<'_>, k: PvKey<'_>, part: fn(&(String, String)) -> &String) -> Value {
    let name = k.name.unwrap_or("");
    if queue(ctx, name).is_none() {
        tracing::error!(target: "mqueue", "mqueue not found: {name}");
        return Value::Null;
    }
    fetched(name, |it| part(it).clone())
        .filter(|s| !s.is_empty())
        .map(|s| Value::Str(Arc::from(s)))
        .unwrap_or(Value::Null)
}

fn mqk(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    Ok(item_part(ctx, k, |it| &it.0))
}

fn mqv(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    Ok(item_part(ctx, k, |it| &it.1))
}

fn mq_size_pv(ctx: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    let name = k.name.unwrap_or("");
    match queue(ctx, name) {
        Some(q) => Ok(Value::Int(q.len() as i64)),
        None => {
            tracing::error!(target: "mqueue", "mqueue not found: {name}");
            Ok(Value::Null)
        }
    }
}

static PVS: &[PvImpl] = &[
    PvImpl {
        name: "mqk",
        get: mqk,
        set: None,
    },
    PvImpl {
        name: "mqv",
        get: mqv,
        set: None,
    },
    PvImpl {
        name: "mq_size",
        get: mq_size_pv,
        set: None,
    },
];

fn check(m: &[sipvm_lang::compile::ModParamSetting]) -> Result<(), String> {
    queue::defs(m).map(|_| ())
}

fn state(snap: &sipvm_cfg::Snapshot) -> Result<Arc<dyn std::any::Any + Send + Sync>, String> {
    Ok(Arc::new(Queues::new(
        queue::defs(&snap.modparams)?,
        snap.generation,
    )))
}

/// The mqueue module.
pub static MODULE: Module = Module {
    natives: IMPLS,
    pvs: PVS,
    params: &["mqueue", "mqueue_name", "mqueue_size", "mqueue_addmode"],
    restart: &["mqueue", "mqueue_name", "mqueue_size", "mqueue_addmode"],
    check: Some(check),
    state: Some(state),
    rpc: Some(rpc::register),
    ..Module::decl(&DECL)
};
