//! The `cache-cli` binary: parses the command line, runs it, prints the
//! report on stdout or the error on stderr.

use std::io::ErrorKind;
use std::process::ExitCode;

use cache_cli::args::{Cli, URL_ENV};
use cache_cli::error::CliError;
use clap::Parser;

fn main() -> ExitCode {
    // Whatever is printed passes through `redact_urls` with every argument
    // and the URL variable: a URL's password is never shown.
    let mut secrets: Vec<String> = std::env::args().collect();
    secrets.extend(std::env::var(URL_ENV));
    let redact = |text: &str| cache_cli::redact_urls(text, secrets.iter().map(String::as_str));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let text = redact(&error.render().to_string());
            if error.use_stderr() {
                eprint!("{text}");
            } else {
                print!("{text}");
            }
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let mut stdout = std::io::stdout().lock();
    match cache_cli::run(&cli, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`cache-cli list | head`): nothing to say.
        Err(CliError::Output(error)) if error.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cache-cli: {}", redact(&error.to_string()));
            ExitCode::from(error.exit_code())
        }
    }
}
