//! The `tradeflow` binary (thin: parsing, logging setup and exit codes; the work is in the
//! library).

use clap::Parser;
use std::io::IsTerminal;
use tradeflow::cli::{self, Cli, Command, LogFormat};

fn main() {
    let args = match Cli::try_parse() {
        Ok(a) => a,
        Err(e) => std::process::exit(cli::usage_error_exit(&e)),
    };
    init_logging(args.log_format);
    let code = match &args.command {
        Command::Run(a) => cli::run(a),
        Command::Bench(a) => tradeflow::bench::cli::bench(a),
        Command::MockExchange(a) => match tradeflow::mock_cmd::run(a) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("tradeflow mock-exchange: {e:#}");
                2
            }
        },
        Command::Tail(a) => match tradeflow::tail_cmd::run(a) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("tradeflow tail: {e:#}");
                2
            }
        },
        Command::CheckConfig(a) => cli::check_config(a),
    };
    std::process::exit(code);
}

/// Logs go to stderr, filtered by `TRADEFLOW_LOG` (default `warn`), as JSON lines or readable
/// text; colours only when stderr is a terminal.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRADEFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Pretty => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}
