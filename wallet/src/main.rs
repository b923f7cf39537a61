//! `oxwallet` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match oxwallet::run(oxwallet::Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line: the context chain joined with ": ", newlines flattened.
            let message = format!("{error:#}").replace('\n', " ");
            eprintln!("oxwallet: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
