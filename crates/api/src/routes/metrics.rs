//! `GET /metrics`: HTTP counters and latencies recorded by the middleware,
//! plus gauges read at scrape time (queues, semaphore, runs, fleet,
//! schedule, dependencies): the fleet-wide numbers the alert rules of
//! deploy/prometheus/ read (docs/monitoring.md).

use reporter_core::domain::RunStatus;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use metrics::{counter, gauge, histogram};
use reporter_core::browser_semaphore::BrowserSemaphore;
use reporter_core::checks::{self, Status};
use reporter_core::fleet_metrics;
use reporter_core::schema::reporter_runs;

use tokio::time::timeout;

use crate::state::AppState;

/// Counts every request by method, route pattern (not the raw path, so ids
/// do not explode the label set) and status, and times it.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().to_string();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let status = res.status().as_u16().to_string();
    counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status).increment(1);
    histogram!("http_request_duration_seconds", "route" => route)
        .record(start.elapsed().as_secs_f64());
    Ok(res)
}

/// How long a scrape waits for a dependency's probe, and then for the
/// gauges read from it: a slow database or Redis must never make the scrape
/// itself time out (Prometheus gives it 10 s). A source that does not answer
/// in time is reported down (`reporter_dependency_up`) and its gauges keep
/// their last value.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// `reporter_dependency_up{dependency}`: the same probes as `/api/v1/readyz`
/// (1 unless unhealthy), each bounded by [`PROBE_TIMEOUT`].
async fn probe_dependencies(state: &AppState) -> (bool, bool) {
    let pool = state.pool.clone();
    let db = async {
        matches!(
            timeout(PROBE_TIMEOUT, web::block(move || checks::probe_database(&pool))).await,
            Ok(Ok(p)) if p.status != Status::Unhealthy
        )
    };
    let redis = async {
        let probe = async {
            let mut conn = state.redis().await.ok()?;
            Some(checks::probe_redis(&mut conn).await)
        };
        matches!(timeout(PROBE_TIMEOUT, probe).await, Ok(Some(p)) if p.status != Status::Unhealthy)
    };
    let (db, redis) = tokio::join!(db, redis);
    gauge!("reporter_dependency_up", "dependency" => "database").set(f64::from(u8::from(db)));
    gauge!("reporter_dependency_up", "dependency" => "redis").set(f64::from(u8::from(redis)));
    (db, redis)
}

async fn refresh_redis_gauges(state: &AppState) {
    let s = &state.settings;
    let Ok(mut conn) = state.redis().await else {
        return;
    };
    if let Ok(stats) = reporter_core::jobs::queue_stats(&mut conn, &s.redis_prefix).await {
        for q in stats {
            gauge!("reporter_queue_jobs", "queue" => q.queue.clone(), "state" => "waiting")
                .set(q.waiting as f64);
            gauge!("reporter_queue_jobs", "queue" => q.queue.clone(), "state" => "scheduled")
                .set(q.scheduled as f64);
            gauge!("reporter_queue_jobs", "queue" => q.queue.clone(), "state" => "in_flight")
                .set(q.in_flight as f64);
            gauge!("reporter_queue_jobs", "queue" => q.queue, "state" => "dead").set(q.dead as f64);
        }
    }
    let now = chrono::Utc::now();
    if let Ok(ages) = fleet_metrics::oldest_job_ages(&mut conn, &s.redis_prefix, now).await {
        for (queue, age) in ages {
            gauge!("reporter_queue_oldest_job_age_seconds", "queue" => queue).set(age);
        }
    }
    let sem = BrowserSemaphore::from_settings(conn.clone(), s);
    if let Ok(n) = sem.in_use().await {
        gauge!("reporter_browser_leases_in_use").set(f64::from(n));
    }
    if let Ok(holders) = sem.holders().await {
        gauge!("reporter_browser_lease_oldest_seconds")
            .set(fleet_metrics::oldest_lease_seconds(&holders, now));
    }
    if let Ok(w) = reporter_core::fleet::alive_workers(&mut conn, &s.redis_prefix, 60).await {
        gauge!("reporter_workers_alive").set(w.len() as f64);
    }
}

async fn refresh_db_gauges(state: &AppState) {
    let counts = state
        .db(|c| {
            Ok(reporter_runs::table
                .group_by(reporter_runs::status)
                .select((reporter_runs::status, diesel::dsl::count_star()))
                .load::<(RunStatus, i64)>(c)?)
        })
        .await;
    if let Ok(counts) = counts {
        for status in RunStatus::ALL {
            let n = counts
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            gauge!("reporter_runs", "status" => status.as_str()).set(n as f64);
        }
    }
    let now = chrono::Utc::now();
    let (tz, catch_up) = (state.settings.timezone, state.settings.beat_catch_up);
    let schedule = state
        .db(move |c| {
            let st = reporter_core::schedule::store::current_state(c)?;
            let missed = reporter_core::schedule::store::missed_total(c)?;
            let paused = reporter_core::schedule::store::pause_rows(c, Some(now))?
                .iter()
                .filter(|p| p.active_at(now))
                .count();
            let lag = fleet_metrics::schedule_lag(c, now, tz, catch_up)?;
            let unfinished = fleet_metrics::runs_unfinished_past_hour(c, now)?;
            let pruned = reporter_core::retention::last_success_at(c)?;
            Ok((st, missed, paused, lag, unfinished, pruned))
        })
        .await;
    if let Ok((st, missed, paused, lag, unfinished, pruned)) = schedule {
        let beat = reporter_core::schedule::beat_health(&st, now);
        if let Some(secs) = beat.seconds_since_reconcile {
            gauge!("reporter_schedule_seconds_since_reconcile").set(secs as f64);
        }
        // The database's count, so the API's scrape has it whichever beat
        // recorded the hours (alert on any increase).
        counter!("reporter_schedule_missed_hours_total").absolute(missed as u64);
        gauge!("reporter_schedule_pauses_active").set(paused as f64);
        gauge!("reporter_schedule_hours_due").set(lag.due as f64);
        gauge!("reporter_schedule_hours_overdue").set(lag.overdue as f64);
        gauge!("reporter_runs_unfinished_past_hour").set(unfinished as f64);
        // Read from the prune log, so it survives beat restarts (alerted on
        // when older than a day and a bit).
        if let Some(at) = pruned {
            gauge!("reporter_prune_last_success_timestamp_seconds").set(at.timestamp() as f64);
        }
    }
}

async fn refresh_gauges(state: &AppState) {
    let s = &state.settings;
    gauge!("reporter_browser_leases_limit").set(f64::from(s.max_active_selenium));
    let expected = std::env::var("WORKER_REPLICAS").ok();
    if let Some(n) = fleet_metrics::workers_expected(expected.as_deref()) {
        gauge!("reporter_workers_expected").set(f64::from(n));
    }
    let (db_up, redis_up) = probe_dependencies(state).await;
    let redis = async {
        if redis_up {
            let _ = timeout(READ_TIMEOUT, refresh_redis_gauges(state)).await;
        }
    };
    let db = async {
        if db_up {
            let _ = timeout(READ_TIMEOUT, refresh_db_gauges(state)).await;
        }
    };
    tokio::join!(redis, db);
}

pub async fn render(state: web::Data<AppState>) -> HttpResponse {
    refresh_gauges(&state).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(reporter_core::metrics::recorder().render())
}
