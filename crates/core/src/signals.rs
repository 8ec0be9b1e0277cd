//! The stop request every long-running binary waits for.

use tokio::signal::unix::{signal, SignalKind};

/// Returns when SIGTERM (docker stop, a deploy) or SIGINT (Ctrl-C) arrives.
///
/// # Panics
/// When the handlers cannot be installed, which only happens outside a
/// tokio runtime with signal support: a startup bug, not a condition.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: only outside a tokio runtime, a startup bug"
)]
pub async fn stop_requested() {
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
