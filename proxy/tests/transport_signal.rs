//! Signal helpers (their own test process: signal handlers are process-wide).

use std::time::Duration;

use sipvm_proxy::transport::{wait_for_signal, SignalWaiter};

#[test]
fn sigterm_and_sigint_end_the_wait() {
    // A signal that arrives before `wait` is not lost.
    let w = SignalWaiter::new().unwrap();
    // SAFETY: signalling our own process, whose handler is installed.
    unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
    assert_eq!(w.wait(), libc::SIGINT);

    // The one-call form, from another thread, signalled until it returns. (signal-hook never
    // uninstalls its low-level handler, so a SIGTERM sent before the thread has registered
    // is ignored, not fatal; the next one reaches it.)
    let waiter = std::thread::spawn(wait_for_signal);
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(20));
        if waiter.is_finished() {
            break;
        }
        // SAFETY: as above.
        unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
    }
    assert_eq!(waiter.join().unwrap().unwrap(), libc::SIGTERM);
}
