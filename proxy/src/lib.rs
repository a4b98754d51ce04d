//! sipvm's SIP server: the core (host context, forwarding, transports, worker), its modules
//! (one folder each, `modules/`), the declarations of Kamailio modules it does not implement
//! (`kamailio/`), the control surface and reports for the command line.

pub mod control;
pub mod forward;
pub mod host;
pub mod kamailio;
pub mod logging;
pub mod modules;
pub mod report;
pub mod run;
pub use sipvm_sip as sip;
pub mod transport;
pub mod worker;
