//! sipvm end-to-end and golden tests: shared helpers for the integration tests in `tests/`.

#[cfg(has_gen)]
pub mod gen;
pub mod golden;
pub mod layers;
