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

/// Parses preprocessed text; syntax errors recovered from come back in the second value.
pub fn parse_raw(
    src: &str,
) -> (
    Option<ast::Config>,
    Vec<lalrpop_util::ErrorRecovery<usize, lexer::Tok, lexer::LexErr>>,
    Option<lalrpop_util::ParseError<usize, lexer::Tok, lexer::LexErr>>,
) {
    let toks = lexer::lex(src);
    let mut errors = Vec::new();
    let r = grammar::ConfigParser::new().parse(src, &mut errors, toks);
    match r {
        Ok(c) => (Some(c), errors, None),
        Err(e) => (None, errors, Some(e)),
    }
}
