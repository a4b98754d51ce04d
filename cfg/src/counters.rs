//! Per-generation counters: what the workers did with each compiled program, so that a canary
//! can be compared with the current program before it is promoted (docs/reload.md).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one generation, shared by every worker (relaxed atomics; each is exact, but a
/// reader may see one counter a message ahead of another).
#[derive(Debug, Default)]
pub struct Counters {
    requests: AtomicU64,
    replies_received: AtomicU64,
    sent: [AtomicU64; 6],
    runtime_errors: AtomicU64,
    drops: AtomicU64,
}

impl Counters {
    /// A request for which `request_route` ran on this generation.
    pub fn request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    /// A reply received and handled (reply route and/or relay) on this generation.
    pub fn reply_received(&self) {
        self.replies_received.fetch_add(1, Relaxed);
    }

    /// A reply sent while handling a message on this generation (a local reply or a relayed
    /// one), by its status code; codes outside 100..=699 are not counted.
    pub fn reply_sent(&self, code: u16) {
        if let Some(c) = (code / 100).checked_sub(1).filter(|c| *c < 6) {
            self.sent[c as usize].fetch_add(1, Relaxed);
        }
    }

    /// `Vm::run` returned an error.
    pub fn runtime_error(&self) {
        self.runtime_errors.fetch_add(1, Relaxed);
    }

    /// A message handled without a runtime error for which nothing at all was sent.
    pub fn drop_(&self) {
        self.drops.fetch_add(1, Relaxed);
    }

    /// Counts the outgoing messages in `sent` (each the start of a datagram or stream write):
    /// SIP replies by class. Reads at most the first 12 bytes of each.
    pub fn replies_in<'a>(&self, sent: impl IntoIterator<Item = &'a [u8]>) {
        for d in sent {
            if let Some(code) = reply_code(d) {
                self.reply_sent(code);
            }
        }
    }

    /// The values now.
    pub fn get(&self) -> Counts {
        Counts {
            requests: self.requests.load(Relaxed),
            replies_received: self.replies_received.load(Relaxed),
            sent: std::array::from_fn(|i| self.sent[i].load(Relaxed)),
            runtime_errors: self.runtime_errors.load(Relaxed),
            drops: self.drops.load(Relaxed),
        }
    }
}

/// The status code of a SIP reply (`SIP/2.0 NNN`), from its first 12 bytes.
pub fn reply_code(data: &[u8]) -> Option<u16> {
    let rest = data.strip_prefix(b"SIP/2.0 ")?;
    let d = rest.get(..3)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(d.iter().fold(0u16, |n, b| n * 10 + u16::from(b - b'0')))
}

/// A plain copy of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub requests: u64,
    pub replies_received: u64,
    /// Replies sent, by class: `sent[0]` is 1xx ... `sent[5]` is 6xx.
    pub sent: [u64; 6],
    pub runtime_errors: u64,
    pub drops: u64,
}

impl Counts {
    /// Replies sent of class `class` (1..=6).
    pub fn sent_class(&self, class: usize) -> u64 {
        class
            .checked_sub(1)
            .and_then(|i| self.sent.get(i))
            .copied()
            .unwrap_or(0)
    }
}
