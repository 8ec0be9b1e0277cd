//! Stopping one replica behind the proxy without failing a request.
//!
//! actix's own signal handling stops accepting at once, so a proxy that
//! still routes to this replica gets refused connections until its health
//! check notices. Instead, on SIGTERM (or Ctrl-C) the replica first says it
//! is not ready while it keeps serving, for `api_drain_secs` (above the
//! proxy's health-check interval); only then does the server stop accepting
//! and give in-flight requests `api_shutdown_secs`. A second signal during
//! the drain skips the rest of it.

use std::time::Duration;

use actix_web::dev::ServerHandle;

use crate::AppState;

/// Waits for SIGTERM or SIGINT, drains, then stops the server gracefully.
/// Spawn it next to a server built by [`crate::serve`] (which leaves signal
/// handling to this).
pub async fn on_signal(state: AppState, server: ServerHandle) {
    reporter_core::signals::stop_requested().await;
    let drain = Duration::from_secs(state.settings.api_drain_secs);
    tracing::info!(
        drain_secs = drain.as_secs(),
        shutdown_secs = state.settings.api_shutdown_secs,
        "shutdown requested: /readyz answers 503 while the proxy takes this replica out"
    );
    state.start_draining();
    tokio::select! {
        _ = tokio::time::sleep(drain) => {}
        _ = reporter_core::signals::stop_requested() => tracing::warn!("second signal: drain cut short"),
    }
    tracing::info!("drained: no new connections; finishing in-flight requests");
    server.stop(true).await;
}
