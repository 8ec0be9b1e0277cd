use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use reporter_core::config::Settings;
use reporter_worker::environment::Environment;
use reporter_worker::portal::http::{HttpPortal, HttpPortalOptions};
use reporter_worker::portal::webdriver::{WebDriverOptions, WebDriverPortal};
use reporter_worker::portal::{fake::FakePortal, Portal};
use reporter_worker::{fleet, runner};
use tokio::sync::watch;
use tracing::info;

/// Hard limit on draining after SIGTERM; set the orchestrator's grace
/// period (compose `stop_grace_period`) above it.
const DRAIN_GRACE: Duration = Duration::from_secs(90);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Arc::new(Settings::load_or_exit());
    reporter_core::telemetry::init(settings.log_json);
    let pool = reporter_core::db::build_pool_lazy(settings.database_url(), settings.db_pool_size);
    let redis = reporter_core::redis_conn::connect(settings.redis_url())
        .await
        .context("connect to Redis (REDIS_URL)")?;
    let worker_id = format!(
        "{}-{}-{:04x}",
        fleet::hostname(),
        std::process::id(),
        rand::random::<u16>()
    );

    let portal: Arc<dyn Portal> = match settings.portal_driver.as_str() {
        "fake" => Arc::new(FakePortal::new(redis.clone(), &settings.redis_prefix)),
        "webdriver" => {
            let opts = WebDriverOptions::from_settings(&settings)
                .map_err(|e| anyhow::anyhow!("REPORTER_PORTAL_PROFILE: {e}"))?;
            info!(webdriver = %opts.webdriver_url, portal = %opts.portal_url, profile = %opts.profile.name, "browser adapter");
            Arc::new(WebDriverPortal::new(opts))
        }
        "http" => {
            let opts = HttpPortalOptions::from_settings(&settings)
                .map_err(|e| anyhow::anyhow!("REPORTER_PORTAL_PROFILE: {e}"))?;
            info!(portal = %opts.portal_url, profile = %opts.profile.name, "http portal driver (portal-sim soaks only)");
            let portal = HttpPortal::new(opts)
                .map_err(|e| anyhow::anyhow!("REPORTER_PORTAL_DRIVER=http: {e}"))?;
            Arc::new(portal)
        }
        other => anyhow::bail!(
            "REPORTER_PORTAL_DRIVER={other}: expected `webdriver`, `http` or `fake` (see docs/portal.md)"
        ),
    };

    let (stop_tx, stop_rx) = watch::channel(false);
    let env = Arc::new(Environment::new(
        settings.clone(),
        pool,
        redis,
        portal,
        worker_id.clone(),
        stop_rx.clone(),
    ));
    tokio::spawn(async move {
        reporter_core::signals::stop_requested().await;
        info!("shutdown requested: finishing current orders, handing the rest back");
        let _ = stop_tx.send(true);
    });
    if let Some(addr) = &settings.metrics_bind {
        let addr = addr
            .parse()
            .context("REPORTER_METRICS_BIND must be host:port")?;
        reporter_core::metrics::serve(addr).context("serve metrics")?;
    }
    let background = fleet::spawn_background(env.clone());
    info!(worker = %worker_id, concurrency = settings.worker_concurrency, max_browsers = settings.max_active_selenium, "reporter-worker started");

    // apalis polls every job inside its monitor's future. Awaited here, that
    // future would run on the thread blocked in `#[tokio::main]`, outside
    // the runtime's workers: every Redis reply and database result (about
    // three per reported order) would then cross threads through a futex to
    // wake it. As a task it runs on a worker thread, next to the I/O driver.
    tokio::spawn(runner::run(env.clone(), stop_rx, DRAIN_GRACE))
        .await
        .context("job runner task")??;
    background.abort();
    fleet::leave(&env).await;
    info!("reporter-worker stopped");
    Ok(())
}
