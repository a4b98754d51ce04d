//! One transaction: the server side (the request as received, what was answered) and its
//! client branches, with every timer as an absolute deadline in milliseconds.

use super::Timers;
use crate::sip::Edits;
use crate::transport::Proto;
use bytes::Bytes;
use sipvm_cfg::Running;
use sipvm_vm::{RouteIdx, Value};
use std::net::SocketAddr;
use std::sync::Arc;

/// A client branch (RFC 3261 §17.1).
#[derive(Debug)]
pub struct Branch {
    /// The Request-URI this branch was sent to.
    pub uri: String,
    pub dst: SocketAddr,
    pub local: usize,
    pub proto: Proto,
    /// The request as sent (retransmissions; ACK and CANCEL are built from it).
    pub req: Bytes,
    /// The highest status received (0: none yet); a timeout counts as 408.
    pub status: u16,
    /// The final reply received (kept for relaying and `$T_rpl`).
    pub reply: Option<Bytes>,
    /// Final: a final reply arrived, or the branch timed out.
    pub done: bool,
    /// Any reply arrived on this branch (`t_branch_replied`).
    pub replied: bool,
    pub timed_out: bool,
    /// Next retransmission (timers A/E) and its interval.
    pub retr_at: Option<u64>,
    pub retr_ivl: u64,
    /// Final-response timer (fr_timer, fr_inv_timer after a provisional: timer B/F).
    pub fr_at: Option<u64>,
    /// The CANCEL sent on this branch, if any, with its retransmission timer.
    pub cancel: Option<Bytes>,
    pub cancel_at: Option<u64>,
    pub cancel_ivl: u64,
    /// CANCEL wanted but no provisional reply yet (RFC 3261 §9.1): sent when one arrives.
    pub cancel_pending: bool,
    /// CANCEL retransmissions so far (they stop after `CANCEL_TRIES`, timer F's reach).
    pub cancel_tries: u8,
    /// Its reply no longer competes for the final one (`failure_reply_mode`).
    pub dropped: bool,
    /// The hop-by-hop ACK sent for a negative final reply (resent on its retransmissions).
    pub ack: Option<Bytes>,
    /// The branch flags it was sent with (kex `setbflag()`, a contact's cflags); branch 0's
    /// flags in the onreply and failure routes of its replies.
    pub bflags: u32,
}

impl Branch {
    /// A branch just sent to `dst`: no reply, no timer, no CANCEL yet.
    pub fn new(uri: String, dst: SocketAddr, local: usize, proto: Proto, req: Bytes) -> Branch {
        Branch {
            uri,
            dst,
            local,
            proto,
            req,
            status: 0,
            reply: None,
            done: false,
            replied: false,
            timed_out: false,
            retr_at: None,
            retr_ivl: 0,
            fr_at: None,
            cancel: None,
            cancel_at: None,
            cancel_ivl: 0,
            cancel_pending: false,
            cancel_tries: 0,
            dropped: false,
            ack: None,
            bflags: 0,
        }
    }

    pub fn pending(&self) -> bool {
        !self.done
    }
}

/// Where the transaction is, server side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No final reply sent upstream yet.
    Proceeding,
    /// A final reply went upstream; for INVITE with a negative one, waiting for the ACK.
    Completed,
    /// Kept only to absorb retransmissions until `delete_at`.
    Waiting,
}

/// Routes armed with `t_on_failure` / `t_on_reply` / `t_on_branch`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Armed {
    pub failure: Option<RouteIdx>,
    pub reply: Option<RouteIdx>,
    pub branch: Option<RouteIdx>,
}

#[derive(Debug)]
pub struct Txn {
    pub id: u64,
    pub key: super::Key,
    pub invite: bool,
    /// The request as received (own copy; header edits refer to its offsets).
    pub req: Bytes,
    pub src: SocketAddr,
    pub local: usize,
    pub proto: Proto,
    /// Where replies go upstream (RFC 3261 §18.2.2 / RFC 3581).
    pub reply_dst: SocketAddr,
    pub force_rport: bool,
    /// The program generation the transaction was created under: its failure, reply and
    /// branch routes run on it, whatever reloads happen meanwhile.
    pub running: Running,
    /// Script state of the request carried to failure routes.
    /// Boxed, and only when there is something: most transactions have neither.
    pub edits: Option<Box<Edits>>,
    pub ruri: Option<String>,
    pub flags: u64,
    pub avps: Vec<(Arc<str>, Value)>,
    /// The request's xavps (pv): Kamailio keeps them with the transaction for its routes.
    pub xavps: Option<Box<crate::modules::pv::xavp::Xavps>>,
    /// record_route() of the request: failure-route branches are record-routed too.
    pub rr: Option<Box<crate::modules::rr::record::RrState>>,
    pub armed: Armed,
    pub timers: Timers,
    pub branches: Vec<Branch>,
    pub phase: Phase,
    /// The last reply sent upstream (resent on request retransmissions) and its code.
    pub last_reply: Option<Bytes>,
    pub status: u16,
    /// Timer G: retransmissions of a negative final INVITE reply until the ACK.
    pub g_at: Option<u64>,
    pub g_ivl: u64,
    /// Timer H / wait timer: when the transaction is forgotten.
    pub delete_at: Option<u64>,
    /// Kamailio's max_inv_lifetime / max_noninv_lifetime: past it, pending branches end as
    /// if their fr timer had fired.
    pub lifetime_at: Option<u64>,
    pub canceled: bool,
    /// A failure route is running (t_relay from it adds branches).
    pub in_failure: bool,
    /// The first branch of the last serial-forking step (`failure_reply_mode` 2).
    pub step_start: usize,
    /// Our 100 Trying went up (a retransmission makes it again).
    pub trying: bool,
    /// The branch whose reply the failure route sees, and its code.
    pub picked: Option<(usize, u16)>,
    /// The earliest deadline already on the wheel.
    pub scheduled: Option<u64>,
    /// The branch whose reply is being relayed upstream (Kamailio's relayed_reply_branch).
    pub relayed: Option<usize>,
    /// The script's reply lumps at t_relay: local replies (t_reply in failure routes,
    /// timeouts) carry them.
    pub rpl: Option<Box<crate::forward::ReplyLumps>>,
}

impl Txn {
    /// The earliest deadline of any timer.
    pub fn next_deadline(&self) -> Option<u64> {
        let mut best: Option<u64> = None;
        let mut take = |t: Option<u64>| {
            if let Some(t) = t {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        };
        take(self.g_at);
        take(self.delete_at);
        if self.phase == Phase::Proceeding {
            take(self.lifetime_at);
        }
        for b in &self.branches {
            take(b.retr_at);
            take(b.fr_at);
            take(b.cancel_at);
        }
        best
    }

    pub fn all_done(&self) -> bool {
        !self.branches.is_empty() && self.branches.iter().all(|b| b.done)
    }

    pub fn pick(&self) -> Option<(usize, u16)> {
        pick(&self.branches)
    }
}

/// RFC 3261 §16.7 step 6: a 6xx if there is one, else the lowest class (a real reply is
/// preferred to a timeout within a class); among equals, the first branch.
pub fn pick(branches: &[Branch]) -> Option<(usize, u16)> {
    let rank = |b: &Branch| -> (u16, u8) {
        let class = b.status / 100;
        let class = if class == 6 { 0 } else { class };
        (class, u8::from(b.timed_out))
    };
    branches
        .iter()
        .enumerate()
        .filter(|(_, b)| b.done && b.status >= 300 && !b.dropped)
        .min_by_key(|(_, b)| rank(b))
        .map(|(i, b)| (i, b.status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(status: u16, timed_out: bool) -> Branch {
        let dst = "127.0.0.1:1".parse().unwrap();
        Branch {
            status,
            done: true,
            replied: !timed_out,
            timed_out,
            ..Branch::new(String::new(), dst, 0, Proto::Udp, Bytes::new())
        }
    }

    fn pick(bs: Vec<Branch>) -> Option<(usize, u16)> {
        super::pick(&bs)
    }

    #[test]
    fn best_reply_follows_rfc3261_16_7() {
        assert_eq!(
            pick(vec![branch(486, false), branch(603, false)]),
            Some((1, 603))
        );
        assert_eq!(
            pick(vec![branch(503, false), branch(404, false)]),
            Some((1, 404))
        );
        assert_eq!(
            pick(vec![branch(408, true), branch(480, false)]),
            Some((1, 480))
        );
        assert_eq!(
            pick(vec![branch(302, false), branch(404, false)]),
            Some((0, 302))
        );
    }

    #[test]
    fn a_dropped_branch_no_longer_competes() {
        // failure_reply_mode: the 486 of an earlier serial step is dropped; the new 503 wins.
        let mut old = branch(486, false);
        old.dropped = true;
        assert_eq!(pick(vec![old, branch(503, false)]), Some((1, 503)));
        let mut only = branch(404, false);
        only.dropped = true;
        assert_eq!(pick(vec![only]), None);
    }
}
