//! The `cache-cli` binary: parses the command line, runs it, prints the
//! report on stdout or the error on stderr.

use std::io::ErrorKind as IoErrorKind;
use std::process::ExitCode;

use cache_cli::args::{Cli, URL_ENV};
use cache_cli::error::CliError;
use clap::Parser;
use clap::error::{ContextKind, ContextValue, ErrorKind};

fn main() -> ExitCode {
    // Whatever is printed passes through `redact_urls` with every argument
    // and the URL variable: a URL's password is never shown.
    let mut secrets: Vec<String> = std::env::args().collect();
    secrets.extend(std::env::var(URL_ENV));
    let redact = |text: &str| cache_cli::redact_urls(text, secrets.iter().map(String::as_str));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(mut error) => {
            suggest_cache_version(&mut error);
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
    let mut stderr = std::io::stderr().lock();
    match cache_cli::run(&cli, &mut stdout, &mut stderr) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`cache-cli list | head`): nothing to say.
        Err(CliError::Output(error)) if error.kind() == IoErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("cache-cli: {}", redact(&error.to_string()));
            if let Some(hint) = error.hint() {
                eprintln!("{}", redact(hint));
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// `--version` after a subcommand was the cache version's option before it
/// became `--cache-version` (`-V`/`--version` is the tool's own): clap's
/// error then points to the new name.
fn suggest_cache_version(error: &mut clap::Error) {
    let old_name = matches!(
        error.get(ContextKind::InvalidArg),
        Some(ContextValue::String(arg)) if arg == "--version" || arg.starts_with("--version=")
    );
    if error.kind() == ErrorKind::UnknownArgument && old_name {
        error.insert(
            ContextKind::SuggestedArg,
            ContextValue::String("--cache-version".to_owned()),
        );
    }
}
