//! Script values: null, integers and shared strings.

use std::sync::Arc;

/// A script value. Strings are reference-counted so cloning is cheap.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Value {
    #[default]
    Null,
    Int(i64),
    Str(Arc<str>),
}
