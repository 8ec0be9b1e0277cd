pub mod alive;
pub mod check;
pub mod migrate;
pub mod portal;
pub mod prune;
pub mod queues;
pub mod runs;
pub mod schedule;
pub mod semaphore;
pub mod slots;
pub mod token;
pub mod trigger;
pub mod user;

use anyhow::Context;
use diesel::{Connection, PgConnection};
use reporter_core::config::Settings;

/// The operator asked for something that cannot be done (bad time, a
/// backfill of an hour that already ran...): nothing was changed and the
/// command exits 2, like a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

pub fn connect(settings: &Settings) -> anyhow::Result<PgConnection> {
    PgConnection::establish(settings.database_url()).context("connect to PostgreSQL (DATABASE_URL)")
}

/// Reads one line from stdin when it is not a terminal (piped input).
pub fn read_stdin_secret() -> anyhow::Result<Option<String>> {
    use std::io::{IsTerminal, Read};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut s = String::new();
    stdin.lock().read_to_string(&mut s)?;
    let line = s
        .lines()
        .next()
        .unwrap_or("")
        .trim_end_matches(['\r', '\n'])
        .to_string();
    Ok(Some(line).filter(|l| !l.is_empty()))
}

/// A single-threaded runtime for the few commands that talk to Redis.
pub fn block_on<F: std::future::Future>(f: F) -> anyhow::Result<F::Output> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(f))
}
