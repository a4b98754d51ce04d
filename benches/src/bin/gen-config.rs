//! Writes `sipvm_tests::gen::generate(LINES)` to standard output (`gen-config [LINES]`,
//! 5000 by default), for `compare-kamailio.sh` and manual checks.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let lines = match std::env::args().nth(1).map(|a| a.parse::<usize>()) {
        None => 5000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("gen-config: bad line count: {e}");
            return ExitCode::from(2);
        }
    };
    let text = sipvm_tests::gen::generate(lines);
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        eprintln!("gen-config: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
