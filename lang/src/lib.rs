//! The front end for Kamailio's routing language: preprocessor, lexer, parser, checks and
//! code generation to sipvm's register bytecode.

pub mod diag;
pub mod pp;
pub mod registry;

pub use diag::{Diagnostic, Loc, Sources};
