//! `crossdock`: parse the command line, set up logging, run.

use clap::Parser;
use crossdock::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The demo prints its own progress and summary; a service logs what it does.
    let default_filter = match cli.command {
        Command::Serve { .. } => "warn,crossdock=info",
        _ => "error",
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)))
        .with_writer(std::io::stderr)
        .init();
    crossdock::cli::run(cli).await
}
