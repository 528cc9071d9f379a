//! The `aistagram` binary: parse the command line and hand over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    aistagram::cli::run(aistagram::cli::Cli::parse())
}
