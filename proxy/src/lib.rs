//! sipvm's SIP server: built-in modules (each declares its natives, parameters and
//! pseudo-variables), and reports for the command line.

pub mod control;
pub mod host;
pub mod modules;
pub mod report;
pub mod run;
pub mod sip;
pub mod tm;
pub mod transport;
pub mod usrloc;
pub mod worker;
