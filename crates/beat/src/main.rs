use std::str::FromStr;

use anyhow::Context;
use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use reporter_core::config::Settings;
use reporter_core::jobs::JobQueues;
use tracing::info;

#[derive(Clone)]
struct BeatState {
    queues: JobQueues,
    pool: reporter_core::db::DbPool,
    redis: redis::aio::ConnectionManager,
    prefix: String,
}

async fn on_tick(tick: Tick<Tz>, state: Data<BeatState>) -> Result<(), BoxDynError> {
    let scheduled_at = Utc
        .timestamp_opt(tick.get_timestamp() as i64, 0)
        .single()
        .ok_or("tick out of range")?;
    let mut redis = state.redis.clone();
    reporter_beat::enqueue_hour(&state.queues, &mut redis, &state.prefix, scheduled_at).await?;
    // Best effort: a sweep failure must not cost the next hour's tick.
    if let Err(e) =
        reporter_beat::sweep(&state.queues, &state.pool, chrono::Duration::minutes(10)).await
    {
        tracing::warn!(error = %e, "sweep failed");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = Settings::load_or_exit();
    reporter_core::telemetry::init(settings.log_json);
    let mut redis = reporter_core::redis_conn::connect(settings.redis_url())
        .await
        .context("connect to Redis (REDIS_URL)")?;
    let prefix = settings.redis_prefix.clone();
    let queues = JobQueues::new(redis.clone(), &prefix, 1);
    let tz = settings.timezone;
    if let Some(addr) = &settings.metrics_bind {
        let addr = addr
            .parse()
            .context("REPORTER_METRICS_BIND must be host:port")?;
        reporter_core::metrics::serve(addr).context("serve metrics")?;
    }

    reporter_beat::start_up(
        &queues,
        &mut redis,
        &prefix,
        tz,
        settings.beat_catchup_minutes,
    )
    .await?;
    let pool = reporter_core::db::build_pool_lazy(settings.database_url(), 2);
    if let Err(e) = reporter_beat::sweep(&queues, &pool, chrono::Duration::minutes(10)).await {
        tracing::warn!(error = %e, "start-up sweep failed");
    }

    // cron 0.17: SEC MIN HOUR DOM MON DOW; evaluated in the reporter's zone.
    let schedule = cron::Schedule::from_str("0 0 * * * *").expect("valid cron expression");
    info!(timezone = %tz.name(), "reporter-beat started");
    let worker = WorkerBuilder::new(format!(
        "beat-{}-{}",
        std::process::id(),
        Utc::now().timestamp()
    ))
    .backend(CronScheduler::new(schedule).with_timezone(tz))
    .data(BeatState {
        queues,
        pool,
        redis,
        prefix,
    })
    .build(on_tick);
    tokio::select! {
        r = worker.run() => r.context("beat scheduler stopped")?,
        _ = shutdown() => info!("reporter-beat stopping"),
    }
    Ok(())
}

async fn shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
