use anyhow::Context;
use chrono::{Duration, Utc};
use reporter_core::config::Settings;
use reporter_core::jobs::JobQueues;
use reporter_core::schedule::{hour_start, Scheduler};
use tracing::{info, warn};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load_or_exit();
    reporter_core::telemetry::init(settings.log_json);
    if let Some(addr) = &settings.metrics_bind {
        let addr = addr
            .parse()
            .context("REPORTER_METRICS_BIND must be host:port")?;
        reporter_core::metrics::serve(addr).context("serve metrics")?;
    }
    let name = format!("beat-{}-{}", hostname(), std::process::id());
    let scheduler = Scheduler {
        pool: reporter_core::db::build_pool_lazy(settings.database_url(), 2),
        tz: settings.timezone,
        catch_up: settings.beat_catch_up,
        by: name.clone(),
    };
    info!(beat = %name, timezone = %settings.timezone.name(), catch_up = %settings.beat_catch_up,
          "reporter-beat started");
    let mut queues: Option<(JobQueues, redis::aio::ConnectionManager)> = None;
    let mut last_download_sweep = None;
    let mut last_range_sweep = None;
    let mut daily_prune = reporter_beat::prune::DailyPrune::default();
    let shutdown = reporter_core::signals::stop_requested();
    tokio::pin!(shutdown);
    loop {
        let now = Utc::now();
        // Liveness (`reporterctl alive`): the loop turned, whatever Redis or
        // PostgreSQL answer below.
        if let Some(path) = &settings.heartbeat_file {
            if let Err(e) = reporter_core::liveness::touch(std::path::Path::new(path)) {
                warn!(error = %e, path = %path, "could not touch the heartbeat file");
            }
        }
        // Redis may be down at start or at any tick: reconcile anyway (the
        // database part runs, due hours are retried next minute).
        if queues.is_none() {
            match reporter_core::redis_conn::connect(settings.redis_url()).await {
                Ok(conn) => {
                    queues = Some((
                        JobQueues::new(conn.clone(), &settings.redis_prefix, 1),
                        conn,
                    ))
                }
                Err(e) => warn!(error = %e, "Redis is not reachable; due hours wait for it"),
            }
        }
        match scheduler
            .reconcile_once(queues.as_ref().map(|(q, _)| q), now, true)
            .await
        {
            Ok(r) if r.failed.is_empty() => {
                // The previous release's API and console read beat's
                // freshness from this key; keep it while a rollback may
                // bring them back.
                if let Some((_, conn)) = &mut queues {
                    let key = reporter_core::fleet::last_tick_key(&settings.redis_prefix);
                    let set: redis::RedisResult<()> =
                        redis::AsyncCommands::set(conn, key, now.timestamp()).await;
                    if let Err(e) = set {
                        warn!(error = %e, "could not record the tick for the previous release");
                    }
                }
            }
            Ok(r) => warn!(
                failed = r.failed.len(),
                "reconcile could not enqueue every due hour"
            ),
            Err(e) => warn!(error = %e, "reconcile failed; trying again in a minute"),
        }
        if let Some((q, _)) = &queues {
            // Open ranges get one more job per hour (surplus report-range jobs
            // poll until the run ends, so not more often); lost
            // download-compare pushes are repaired every 10 minutes.
            let hour = hour_start(now, scheduler.tz);
            let ranges = last_range_sweep != Some(hour);
            let downloads =
                last_download_sweep.is_none_or(|t| now - t >= reporter_beat::DOWNLOAD_SWEEP_EVERY);
            if ranges || downloads {
                match reporter_beat::sweep(q, &scheduler.pool, Duration::minutes(10), now, ranges)
                    .await
                {
                    Ok(_) => {
                        last_download_sweep = Some(now);
                        if ranges {
                            last_range_sweep = Some(hour);
                        }
                    }
                    Err(e) => warn!(error = %e, "sweep failed"),
                }
            }
        }
        daily_prune.tick(
            now,
            &scheduler.pool,
            queues.as_ref().map(|(_, conn)| conn.clone()),
            &settings,
            &name,
        );
        let wait = (reporter_beat::next_tick(Utc::now()) - Utc::now())
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = &mut shutdown => {
                info!("reporter-beat stopping");
                return Ok(());
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "host".into())
}
