//! The proxy's side of the VM: the per-message context that implements `Host`, message
//! pseudo-variables, native dispatch, and state shared across workers.

pub mod ctx;
pub mod htable;
pub mod loose;
pub mod natives;
pub mod pvs;
pub mod rng;
pub mod rr;
pub mod send;
pub mod shared;
pub mod uri_edit;

pub use ctx::Ctx;
pub use natives::{Impl, NativeFn};
pub use shared::Shared;
