//! sipvm's SIP server: built-in modules (each declares its natives, parameters and
//! pseudo-variables), and reports for the command line.

pub mod control;
pub mod host;
pub mod modules;
pub mod report;
pub mod run;
pub use sipvm_sip as sip;
pub mod tm;
pub mod transport;
pub mod usrloc;
pub mod worker;
