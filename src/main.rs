//! The `workergen` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = workergen::cli::Cli::parse();
    let context = workergen::app::Context::from_process(&cli.global);
    workergen::app::run(&cli, &context).into()
}
