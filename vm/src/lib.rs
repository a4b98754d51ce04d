//! sipvm's virtual machine: values, the instruction set, compiled programs, the per-worker
//! interpreter and the `Host` trait through which it reaches the message and the world.

pub mod disasm;
pub mod host;
pub mod op;
pub mod program;
pub mod test_host;
pub mod value;
pub mod vm;

pub use disasm::disassemble;
pub use host::{ArgValue, Host, HostError, Index, PvKey};
pub use op::*;
pub use program::*;
pub use test_host::TestHost;
pub use value::{Value, ValueError};
pub use vm::{End, Outcome, Vm, VmError, DEFAULT_BUDGET, MAX_DEPTH};
