//! `GET /metrics`: HTTP counters and latencies recorded by the middleware,
//! plus gauges read at scrape time (queues, semaphore, runs, fleet).

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use metrics::{counter, gauge, histogram};
use reporter_core::browser_semaphore::BrowserSemaphore;
use reporter_core::schema::reporter_runs;

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

async fn refresh_gauges(state: &AppState) {
    let s = &state.settings;
    if let Ok(mut conn) = state.redis().await {
        if let Ok(stats) = reporter_core::jobs::queue_stats(&mut conn, &s.redis_prefix).await {
            for q in stats {
                gauge!("reporter_queue_jobs", "queue" => q.queue.clone(), "state" => "waiting")
                    .set(q.waiting as f64);
                gauge!("reporter_queue_jobs", "queue" => q.queue.clone(), "state" => "scheduled")
                    .set(q.scheduled as f64);
                gauge!("reporter_queue_jobs", "queue" => q.queue.clone(), "state" => "in_flight")
                    .set(q.in_flight as f64);
                gauge!("reporter_queue_jobs", "queue" => q.queue, "state" => "dead")
                    .set(q.dead as f64);
            }
        }
        let sem = BrowserSemaphore::from_settings(conn.clone(), s);
        if let Ok(n) = sem.in_use().await {
            gauge!("reporter_browser_leases_in_use").set(f64::from(n));
        }
        gauge!("reporter_browser_leases_limit").set(f64::from(s.max_active_selenium));
        if let Ok(w) = reporter_core::fleet::alive_workers(&mut conn, &s.redis_prefix, 60).await {
            gauge!("reporter_workers_alive").set(w.len() as f64);
        }
    }
    let counts = state
        .db(|c| {
            Ok(reporter_runs::table
                .group_by(reporter_runs::status)
                .select((reporter_runs::status, diesel::dsl::count_star()))
                .load::<(String, i64)>(c)?)
        })
        .await;
    if let Ok(counts) = counts {
        for status in ["pending", "running", "completed", "failed"] {
            let n = counts
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            gauge!("reporter_runs", "status" => status).set(n as f64);
        }
    }
    let now = chrono::Utc::now();
    let schedule = state
        .db(move |c| {
            let st = reporter_core::schedule::store::current_state(c)?;
            let missed = reporter_core::schedule::store::missed_total(c)?;
            let paused = reporter_core::schedule::store::pause_rows(c, Some(now))?
                .iter()
                .filter(|p| p.active_at(now))
                .count();
            Ok((st, missed, paused))
        })
        .await;
    if let Ok((st, missed, paused)) = schedule {
        let beat = reporter_core::schedule::beat_health(&st, now);
        if let Some(secs) = beat.seconds_since_reconcile {
            gauge!("reporter_schedule_seconds_since_reconcile").set(secs as f64);
        }
        // The database's count, so the API's scrape has it whichever beat
        // recorded the hours (alert on any increase).
        counter!("reporter_schedule_missed_hours_total").absolute(missed as u64);
        gauge!("reporter_schedule_pauses_active").set(paused as f64);
    }
}

pub async fn render(state: web::Data<AppState>) -> HttpResponse {
    refresh_gauges(&state).await;
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(reporter_core::metrics::recorder().render())
}
