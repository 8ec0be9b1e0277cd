use std::net::TcpListener;

use anyhow::Context;
use reporter_core::config::Settings;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load_or_exit();
    reporter_core::telemetry::init(settings.log_json);
    let bind = settings.api_bind.clone();
    let state = reporter_api::build_state(settings);

    if state.settings.migrate_on_start {
        let pool = state.pool.clone();
        let applied = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<String>> {
            let mut conn = pool.get().context("connect to PostgreSQL to migrate")?;
            Ok(reporter_core::db::run_migrations_locked(&mut conn)?)
        })
        .await??;
        tracing::info!(count = applied.len(), "migrations applied at start");
    }
    sync_settings(&state).await;

    let listener =
        TcpListener::bind(&bind).with_context(|| format!("bind REPORTER_API_BIND={bind}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "reporter-api listening");
    println!("reporter-api listening on http://{addr}");
    let server = reporter_api::serve(state.clone(), listener, None)?;
    actix_web::rt::spawn(reporter_api::shutdown::on_signal(state, server.handle()));
    server.await?;
    tracing::info!("reporter-api stopped");
    Ok(())
}

/// Best effort: mirrors process settings into the legacy config row.
async fn sync_settings(state: &reporter_api::AppState) {
    let pool = state.pool.clone();
    let settings = state.settings.clone();
    let r = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = pool.get()?;
        reporter_core::models::slot::sync_process_settings(&mut conn, &settings)?;
        Ok(())
    })
    .await;
    match r {
        // The capacity or the window may have changed under other replicas'
        // snapshots.
        Ok(Ok(())) => state.slot_snapshot.changed(state).await,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "could not sync settings into reporter_slot_config")
        }
        Err(_) => {}
    }
}
