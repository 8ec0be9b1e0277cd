//! `portal-sim` binary: parses flags, serves, prints the bound address.

use std::io::{IsTerminal, Write};

use clap::Parser;
use portal_sim::cli::Cli;
use tracing::info;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Logs go to stderr: stdout carries only the address line scripts parse.
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let config = Cli::parse().into_config()?;
    let sim = portal_sim::spawn(config).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "portal-sim listening on {}", sim.base_url())?;
    stdout.flush()?;

    let handle = sim.handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutting down");
        handle.stop(true).await;
    });
    sim.wait().await
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
