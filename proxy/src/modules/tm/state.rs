//! What a running script knows about its transaction: tm's per-message slot in `Ctx`.

use super::{Armed, Txn, TxnRef};
use crate::host::{Ctx, MsgState};
use sipvm_vm::RouteKind;
use std::ptr::NonNull;

/// The transaction a script works on.
#[derive(Default)]
pub enum Tx {
    #[default]
    None,
    /// request_route after `t_newtran`/`t_relay`: locked by each native that needs it.
    Held(TxnRef),
    /// failure/onreply routes: the caller holds the lock for the whole route and lends the
    /// transaction to the script through [`lend`].
    Lent(Lent),
}

/// A transaction lent for one route. Only [`lend`] makes one, from a `&mut Txn` it keeps
/// borrowed until the route ends and the slot is cleared; tm never moves one elsewhere.
pub struct Lent(NonNull<Txn>);

impl Lent {
    pub fn get(&mut self) -> &mut Txn {
        // SAFETY: the pointer comes from a `&mut Txn` that `lend` holds exclusively for as
        // long as any `Lent` of it exists (its guard clears the slot before `lend` returns,
        // on unwinding too), and `&mut self` keeps this the only access.
        unsafe { self.0.as_mut() }
    }
}

#[derive(Default)]
pub struct TmCtx {
    pub tx: Tx,
    /// The route type running (request_route unless tm runs one of its own).
    pub route: Option<RouteKind>,
    /// Routes armed by `t_on_*`, copied into the transaction when it relays.
    pub armed: Armed,
    /// `t_set_fr(fr_inv, fr)` in milliseconds (0: keep).
    pub fr: Option<(u64, u64)>,
    /// onreply_route: the branch the reply came on.
    pub branch: Option<usize>,
    /// onreply_route: the reply's code and reason; failure_route: the picked reply.
    pub reply: Option<(u16, String)>,
    /// The request's own transaction key, once computed.
    pub key: Option<super::Key>,
    /// Targets waiting for the armed branch_route (URI, `$du`, branch flags).
    pub pending: Vec<(String, Option<String>, u32)>,
}

impl MsgState for TmCtx {}

impl TmCtx {
    pub fn has_tx(&self) -> bool {
        !matches!(self.tx, Tx::None)
    }

    /// Runs `f` on the transaction, locking it when held.
    pub fn with<R>(&mut self, f: impl FnOnce(&mut Txn) -> R) -> Option<R> {
        match &mut self.tx {
            Tx::None => None,
            Tx::Held(t) => Some(f(&mut super::lock(t))),
            Tx::Lent(t) => Some(f(t.get())),
        }
    }
}

/// tm's slot of a message: `ctx.slots.tm()` (made on first use).
pub trait TmSlot {
    fn tm(&mut self) -> &mut TmCtx;
}

impl TmSlot for crate::host::module::Slots {
    fn tm(&mut self) -> &mut TmCtx {
        self.entry()
    }
}

/// Whether the script has a transaction (sl's `send_reply` asks).
pub fn has_tx(ctx: &Ctx<'_>) -> bool {
    ctx.slots.get::<TmCtx>().is_some_and(TmCtx::has_tx)
}

/// Runs `f` with `t` lent to the script of `ctx` as its transaction.
pub fn lend<R>(ctx: &mut Ctx<'_>, t: &mut Txn, f: impl FnOnce(&mut Ctx<'_>) -> R) -> R {
    struct Clear<'c, 'a>(&'c mut Ctx<'a>);
    impl Drop for Clear<'_, '_> {
        fn drop(&mut self) {
            if let Some(s) = self.0.slots.get_mut::<TmCtx>() {
                s.tx = Tx::None;
            }
        }
    }
    ctx.slots.tm().tx = Tx::Lent(Lent(NonNull::from(t)));
    let g = Clear(ctx);
    f(&mut *g.0)
}
