//! The RPC method registry and JSON-RPC 2.0 transport. Laid out now so modules in `proxy` can
//! depend on it; its contents arrive with the live-control milestone (see docs/architecture.md).
