//! The `tradeflow` binary (thin: parsing and exit codes; the work is in the library).

use clap::Parser;
use tradeflow::cli::{self, Cli, Command};

fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRADEFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let args = Cli::parse();
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
        Command::CheckConfig { file } => cli::check_config(file),
    };
    std::process::exit(code);
}
