//! Reports about a compiled program for the command line.

use sipvm_vm::{Op, Program};
use std::fmt::Write as _;

/// The natives a program calls that are declared but not implemented yet, one per line with
/// every place that calls it: `module.function  file:line, ...`.
pub fn unimplemented(prog: &Program) -> String {
    let mut out = String::new();
    for (i, n) in prog.natives.iter().enumerate() {
        if n.implemented {
            continue;
        }
        let sites: Vec<String> = prog
            .code
            .iter()
            .enumerate()
            .filter(|(_, op)| matches!(op, Op::Call { native, .. } if native.ix() == i))
            .filter_map(|(pc, _)| {
                prog.span(sipvm_vm::Pc(pc as u32))
                    .map(|(f, s)| format!("{f}:{}", s.line))
            })
            .collect();
        let _ = writeln!(out, "{}.{}\t{}", n.module, n.name, sites.join(", "));
    }
    out
}
