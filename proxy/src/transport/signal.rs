//! Waiting for the signals that stop the server.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::TransportError;

/// Catches SIGTERM and SIGINT from the moment it is made; [`SignalWaiter::wait`] then returns
/// the first one (also one that arrived before `wait` was called). Make it before starting
/// the server so that an early signal is not lost. The handlers stay installed afterwards,
/// so a second signal does not kill the process mid-shutdown.
pub struct SignalWaiter {
    signals: Signals,
}

impl SignalWaiter {
    pub fn new() -> Result<SignalWaiter, TransportError> {
        let signals = Signals::new([SIGTERM, SIGINT])
            .map_err(|e| TransportError::io("installing signal handlers", e))?;
        Ok(SignalWaiter { signals })
    }

    /// Blocks until SIGTERM or SIGINT and returns its number.
    pub fn wait(mut self) -> i32 {
        self.signals.forever().next().unwrap_or(SIGTERM)
    }
}

/// Blocks until SIGTERM or SIGINT arrives and returns its number (`SignalWaiter::new()?.wait()`).
pub fn wait_for_signal() -> Result<i32, TransportError> {
    Ok(SignalWaiter::new()?.wait())
}
