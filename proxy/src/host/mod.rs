//! The proxy's side of the VM: the per-message context that implements `Host`, what a module
//! is (`module`), native argument helpers, and the state shared across workers.

pub mod ctx;
pub mod hash;
pub mod log;
pub mod module;
pub mod natives;
pub mod rng;
pub mod shared;
pub mod uri_edit;

pub use ctx::{Ctx, SendFlags};
pub use module::{
    Env, Hooks, Impl, Module, MsgState, NativeFn, PvImpl, ReplyVerdict, Server, Trace, TraceFn,
};
pub use shared::Shared;
