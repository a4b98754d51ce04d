//! `uuid`: Kamailio 5.6's uuid module, its one pseudo-variable `$uuid(g|r|t|s)` (the module
//! has no functions and no parameters). Values are lower-case RFC 4122 text as libuuid's
//! `uuid_unparse_lower` writes them.

use sipvm_lang::registry::{ModuleDecl, PvDecl, PvForm};

#[rustfmt::skip]
pub static DECL: ModuleDecl = ModuleDecl {
    name: "uuid",
    functions: &[],
    params: &[],
    pvs: &[
        PvDecl { name: "uuid", form: PvForm::Named, writable: false },
    ],
    transforms: &[],
};

use crate::host::{Ctx, Module, PvImpl};
use sipvm_vm::{HostError, PvKey, Value};
use std::sync::{Arc, OnceLock};
use uuid::Uuid;

/// The node of time-based UUIDs: random, with the multicast bit set as RFC 4122 §4.5 asks
/// of a node that is not a MAC address; one per process.
fn node() -> &'static [u8; 6] {
    static NODE: OnceLock<[u8; 6]> = OnceLock::new();
    NODE.get_or_init(|| {
        let b = Uuid::new_v4();
        let mut n = [0u8; 6];
        n.copy_from_slice(&b.as_bytes()[..6]);
        n[0] |= 0x01;
        n
    })
}

/// What the first letter of the name asks for: `r` random (v4), `t`/`s` time-based (v1;
/// "safe" because one process-wide clock sequence keeps them unique), anything else (`g`)
/// libuuid's default, which is random when the system has a random source.
pub fn generate(kind: &str) -> Uuid {
    match kind.chars().next() {
        Some('t' | 'T' | 's' | 'S') => Uuid::now_v1(node()),
        _ => Uuid::new_v4(),
    }
}

fn get_uuid(_: &mut Ctx<'_>, k: PvKey<'_>) -> Result<Value, HostError> {
    let u = generate(k.name.unwrap_or("g"));
    Ok(Value::Str(Arc::from(
        u.hyphenated().encode_lower(&mut Uuid::encode_buffer()) as &str,
    )))
}

pub static PVS: &[PvImpl] = &[PvImpl {
    name: "uuid",
    get: get_uuid,
    set: None,
}];

pub static MODULE: Module = Module {
    pvs: PVS,
    ..Module::decl(&DECL)
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_by_name() {
        assert_eq!(generate("g").get_version_num(), 4);
        assert_eq!(generate("r").get_version_num(), 4);
        assert_eq!(generate("t").get_version_num(), 1);
        assert_eq!(generate("S").get_version_num(), 1);
        assert_ne!(generate("t"), generate("t"));
        let text = generate("r").hyphenated().to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text, text.to_lowercase());
    }
}
