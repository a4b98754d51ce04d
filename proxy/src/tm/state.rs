//! What a running script knows about its transaction (`Ctx::tm`).

use super::{Armed, Txn, TxnRef};
use sipvm_vm::RouteKind;

/// The transaction a script works on.
#[derive(Default)]
pub enum Tx<'a> {
    #[default]
    None,
    /// request_route after `t_newtran`/`t_relay`: locked by each native that needs it.
    Held(TxnRef),
    /// failure/onreply routes: the caller holds the lock for the whole route.
    Borrowed(&'a mut Txn),
}

#[derive(Default)]
pub struct TmCtx<'a> {
    pub tx: Tx<'a>,
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
    /// Targets waiting for the armed branch_route (URI, `$du`).
    pub pending: Vec<(String, Option<String>)>,
}

impl<'a> TmCtx<'a> {
    pub fn has_tx(&self) -> bool {
        !matches!(self.tx, Tx::None)
    }

    /// Runs `f` on the transaction, locking it when held.
    pub fn with<R>(&mut self, f: impl FnOnce(&mut Txn) -> R) -> Option<R> {
        match &mut self.tx {
            Tx::None => None,
            Tx::Held(t) => Some(f(&mut super::lock(t))),
            Tx::Borrowed(t) => Some(f(t)),
        }
    }
}
