//! The front end for Kamailio's routing language: preprocessor, lexer, parser, checks and
//! code generation to sipvm's register bytecode.

pub mod diag;
pub mod pp;
pub mod registry;

pub use compile::{compile_file, compile_str, CompileOptions, Compiled, Failed};
pub use diag::{Diagnostic, Loc, Sources};
pub mod ast;
pub mod compile;
pub mod lexer;

#[allow(clippy::all, clippy::pedantic, unused_parens, dead_code)]
mod grammar {
    include!(concat!(env!("OUT_DIR"), "/grammar.rs"));
}
