//! sipvm's virtual machine: values, the instruction set, compiled programs, the per-worker
//! interpreter and the `Host` trait through which it reaches the message and the world.

pub mod host;
pub mod op;
pub mod program;
pub mod value;

pub use host::{ArgValue, Host, HostError, Index, PvKey};
pub use op::*;
pub use program::*;
pub use value::Value;
