//! The `sipvm` command line.

use anyhow::Context;
use clap::{Parser, Subcommand};
use sipvm_lang::{compile_file, CompileOptions};
use std::process::ExitCode;

/// jemalloc: transactions come and go by the hundred thousand, and glibc's malloc spent about a
/// fifth of the stateful path coalescing free chunks; jemalloc costs 8-15 % less CPU per
/// transaction there (docs/performance.md).
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// A background thread returns freed pages after about a second, so RSS falls back after a
/// burst without a `malloc_trim` on the SIP path.
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8; 60] =
    b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[derive(Parser)]
#[command(
    name = "sipvm",
    version,
    about = "A SIP server that runs kamailio.cfg on a bytecode VM"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args)]
struct FileArgs {
    /// The configuration file.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: String,
    /// Define a preprocessor name, as `#!define NAME [VALUE]` would.
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    defines: Vec<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the SIP server in the foreground; logs go to stderr unless the file says
    /// `log_stderror=no` (then syslog). Stops on SIGTERM/SIGINT.
    Run {
        #[command(flatten)]
        f: FileArgs,
        /// Log to stderr whatever `log_stderror` says (Kamailio's `-E`).
        #[arg(short = 'E')]
        stderr: bool,
        /// JSON-RPC listen address (default 127.0.0.1:5065 or the `rpc_listen` parameter).
        #[arg(long, value_name = "ADDR")]
        rpc: Option<String>,
    },
    /// Compile only: exit 0, or print every diagnostic and exit 1.
    Check {
        #[command(flatten)]
        f: FileArgs,
        /// Also list, on stdout, what the file uses that sipvm does not implement yet.
        #[arg(long)]
        unimplemented: bool,
    },
    /// Print the bytecode listing of a configuration.
    Disasm {
        #[command(flatten)]
        f: FileArgs,
    },
    /// Call an RPC method of a running sipvm and print the reply the way kamcmd does.
    /// Arguments that parse as integers are sent as integers; `s:` forces a string.
    /// Exit status: 0, 1 on a fault, 2 when the server cannot be reached.
    #[command(name = "cmd")]
    Call {
        /// The server's JSON-RPC URL (or `host:port`).
        #[arg(short = 's', value_name = "URL", default_value = sipvm_rpc::client::DEFAULT_URL)]
        url: String,
        /// The method, e.g. `core.uptime`.
        method: String,
        /// The method's parameters.
        #[arg(allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn options(f: &FileArgs) -> CompileOptions {
    let mut o = CompileOptions::default();
    o.pp.defines = f
        .defines
        .iter()
        .map(|d| match d.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (d.clone(), None),
        })
        .collect();
    o
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sipvm: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let reg = sipvm_proxy::modules::registry();
    match cli.cmd {
        Cmd::Run { f, rpc, stderr } => {
            let o = sipvm_proxy::run::RunOptions {
                rpc: rpc.as_deref(),
                stderr,
            };
            sipvm_proxy::run::run(&f.file, options(&f), o).map(|()| ExitCode::SUCCESS)
        }
        Cmd::Check { f, unimplemented } => {
            std::fs::metadata(&f.file).with_context(|| format!("cannot read {}", f.file))?;
            match compile_file(&f.file, &options(&f), reg) {
                Ok(c) => {
                    eprint!("{}", sipvm_lang::diag::render_all(&c.warnings, &c.sources));
                    if let Err(e) = sipvm_proxy::modules::check(&c.modparams) {
                        eprintln!("{}: error: {e}", f.file);
                        return Ok(ExitCode::FAILURE);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(failed) => {
                    eprint!("{}", failed.render());
                    let n = failed.diagnostics.iter().filter(|d| d.is_error()).count();
                    eprintln!("{n} error{} in {}", if n == 1 { "" } else { "s" }, f.file);
                    if unimplemented {
                        print!("{}", sipvm_proxy::report::missing(&failed));
                    }
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Cmd::Call { url, method, args } => {
            let code = sipvm_rpc::client::cmd(Some(&url), &method, &args, &mut std::io::stdout());
            Ok(ExitCode::from(code))
        }
        Cmd::Disasm { f } => {
            std::fs::metadata(&f.file).with_context(|| format!("cannot read {}", f.file))?;
            match compile_file(&f.file, &options(&f), reg) {
                Ok(c) => {
                    print!("{}", sipvm_vm::disasm::disassemble(&c.program));
                    Ok(ExitCode::SUCCESS)
                }
                Err(failed) => {
                    eprint!("{}", failed.render());
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}
