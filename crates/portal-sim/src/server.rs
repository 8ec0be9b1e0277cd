//! Starting and stopping a simulator instance inside a tokio runtime.

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use tokio::task::JoinHandle;
use tracing::info;

use crate::config::SimConfig;
use crate::error::SimError;
use crate::routes;
use crate::state::{Sim, SimState};

/// A simulator serving in the background. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningSim {
    /// The bound address (the real port when the config asked for port 0).
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// Builds the state from `config`, binds, and serves in a spawned task.
/// Must be called inside a tokio runtime.
pub async fn spawn(config: SimConfig) -> anyhow::Result<RunningSim> {
    let state = SimState::from_config(&config)?;
    let sim = web::Data::new(Sim::new(state));
    let layout = config.layout;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(sim.clone())
            .configure(|cfg| routes::configure(cfg, layout))
    })
    .workers(config.workers.max(1))
    // The embedding program (or test) decides about signals, not the library.
    .disable_signals()
    .shutdown_timeout(1)
    .bind(config.bind)
    .map_err(|source| SimError::Bind {
        addr: config.bind,
        source,
    })?;
    let addr = *server
        .addrs()
        .first()
        .ok_or_else(|| anyhow::anyhow!("server bound no address"))?;
    let server = server.run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    info!(%addr, seed = config.seed, accounts = config.accounts.len(), day = %config.start_day, %layout, "portal-sim started");
    Ok(RunningSim {
        addr,
        handle,
        task: Some(task),
    })
}

impl RunningSim {
    /// `http://ADDR`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// Serves until the server stops (through [`RunningSim::handle`]).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }

    /// Stops gracefully and waits until the server is down.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        // The stop command is sent on call; awaiting it is optional.
        if self.task.is_some() {
            drop(self.handle.stop(false));
        }
    }
}
