//! `oxwallet` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match oxwallet::run(oxwallet::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("oxwallet: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
