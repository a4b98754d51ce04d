//! Transaction events other modules follow: Kamailio's `TMCB_RESPONSE_OUT` (a reply went
//! upstream) and `TMCB_ON_FAILURE` (every branch failed, before the failure route). A module
//! registers a hook once (its `startup`), through tm's state; tm calls every hook for every
//! transaction, and a hook looks at the flags first (acc) or at the method (dialog), so a
//! transaction nobody follows costs one read lock. Hooks run with the transaction locked:
//! they must not look the transaction up again.

use super::Txn;
use crate::host::Shared;
use crate::sip::Msg;
use crate::transport::{Local, Outbox};
use std::sync::RwLock;

/// Which moment of the transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxEventKind {
    /// A reply went upstream (provisional or final, relayed or sipvm's own).
    ResponseOut,
    /// Every branch has a final negative answer; the failure route, if any, runs next.
    OnFailure,
}

/// One event of a transaction.
pub struct TxEvent<'a> {
    pub kind: TxEventKind,
    pub txn: &'a Txn,
    /// The request as received.
    pub req: &'a Msg,
    /// The reply sent upstream (ResponseOut) or picked (OnFailure); `None` when sipvm made it
    /// or the branch timed out (Kamailio's `FAKED_REPLY`).
    pub reply: Option<&'a Msg>,
    pub code: u16,
    /// The To-tag of a reply sipvm made (the same one every local reply carries).
    pub local_to_tag: Option<&'a str>,
    /// The branch whose reply this is, when there is one.
    pub branch: Option<usize>,
}

/// What a hook may use to act: send, evaluate pseudo-variables on the request.
pub struct TxEnv<'e> {
    pub shared: &'e Shared,
    pub locals: &'e [Local],
    pub out: &'e mut Outbox,
}

/// A hook; it returns the message flags to clear on the transaction (acc's missed-call flag,
/// so a call is reported missed once).
pub type TxHook = fn(&mut TxEnv<'_>, &TxEvent<'_>) -> u64;

/// The registered hooks (a few: one per following module).
#[derive(Default)]
pub struct TxHooks(RwLock<Vec<TxHook>>);

impl TxHooks {
    /// Adds `f` once: registering again (a second start-up in tests) changes nothing.
    pub fn add(&self, f: TxHook) {
        let mut v = self.0.write().unwrap_or_else(|e| e.into_inner());
        if !v.iter().any(|g| std::ptr::fn_addr_eq(*g, f)) {
            v.push(f);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.read().map(|v| v.is_empty()).unwrap_or(true)
    }

    /// Runs every hook on `ev`; the union of the flags they want cleared.
    pub fn run(&self, env: &mut TxEnv<'_>, ev: &TxEvent<'_>) -> u64 {
        let hooks: Vec<TxHook> = match self.0.read() {
            Ok(v) => v.clone(),
            Err(_) => return 0,
        };
        hooks.iter().fold(0, |acc, f| acc | f(env, ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(_: &mut TxEnv<'_>, _: &TxEvent<'_>) -> u64 {
        1
    }
    fn b(_: &mut TxEnv<'_>, _: &TxEvent<'_>) -> u64 {
        4
    }

    #[test]
    fn hooks_register_once() {
        let h = TxHooks::default();
        assert!(h.is_empty());
        h.add(a);
        h.add(a);
        h.add(b);
        assert_eq!(h.0.read().unwrap().len(), 2);
    }
}
