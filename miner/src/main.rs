//! `oxminer` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match oxminer::run(oxminer::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("oxminer: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
