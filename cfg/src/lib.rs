//! The live configuration: `Snapshot { generation, program, parameters }` behind one
//! `ArcSwap`, reloads and canaries. The crate is laid out now so dependencies point one way
//! (`cfg` → `lang` → `vm`); its contents arrive with the live-control milestone
//! (see docs/architecture.md).
