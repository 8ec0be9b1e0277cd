use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use reporter_core::checks::{self, Probe, Status};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: Status,
    pub timestamp: DateTime<Utc>,
    pub checks: BTreeMap<&'static str, Probe>,
    /// `workers` and `beat`: the job fleet.
    #[schema(value_type = Object)]
    pub fleet: BTreeMap<&'static str, serde_json::Value>,
}

async fn probe_all(state: &AppState) -> BTreeMap<&'static str, Probe> {
    let pool = state.pool.clone();
    let db = web::block(move || checks::probe_database(&pool))
        .await
        .unwrap_or_else(|e| Probe {
            status: Status::Unhealthy,
            latency_ms: 0.0,
            error: Some(e.to_string()),
        });
    let redis = match state.redis().await {
        Ok(mut conn) => checks::probe_redis(&mut conn).await,
        Err(e) => Probe {
            status: Status::Unhealthy,
            latency_ms: 0.0,
            error: Some(e.to_string()),
        },
    };
    BTreeMap::from([("database", db), ("redis", redis)])
}

/// Workers alive in the last minute (none: degraded) and the age of the
/// schedule's last reconcile, read from PostgreSQL where every beat records
/// it (degraded past 3 minutes, unhealthy past 10, none recorded yet:
/// degraded).
async fn fleet_checks(state: &AppState) -> BTreeMap<&'static str, serde_json::Value> {
    let mut out = BTreeMap::new();
    let schedule = state
        .db(|c| Ok(reporter_core::schedule::store::current_state(c)?))
        .await;
    if let Ok(s) = schedule {
        let beat = reporter_core::schedule::beat_health(&s, Utc::now());
        out.insert("beat", serde_json::to_value(beat).unwrap_or_default());
    }
    let Ok(mut conn) = state.redis().await else {
        return out;
    };
    let prefix = &state.settings.redis_prefix;
    if let Ok(w) = reporter_core::fleet::alive_workers(&mut conn, prefix, 60).await {
        let status = if w.is_empty() {
            Status::Degraded
        } else {
            Status::Healthy
        };
        out.insert(
            "workers",
            serde_json::json!({"status": status, "alive": w.len()}),
        );
    }
    out
}

/// Dependencies with latency: `degraded` past 500 ms (DB) / 200 ms (Redis),
/// 503 when `unhealthy`.
#[utoipa::path(get, path = "/api/v1/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let checks = probe_all(&state).await;
    let fleet = fleet_checks(&state).await;
    let fleet_statuses: Vec<Status> = fleet
        .values()
        .filter_map(|v| serde_json::from_value(v["status"].clone()).ok())
        .collect();
    let status = checks::overall(
        checks
            .values()
            .map(|p| &p.status)
            .chain(fleet_statuses.iter()),
    );
    let body = Health {
        status,
        timestamp: Utc::now(),
        checks,
        fleet,
    };
    if status == Status::Unhealthy {
        HttpResponse::ServiceUnavailable().json(body)
    } else {
        HttpResponse::Ok().json(body)
    }
}

/// The process is up (no dependency checked).
#[utoipa::path(get, path = "/api/v1/livez", tag = "health", responses((status = 200)))]
pub async fn livez() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "alive"}))
}

/// Ready to serve: database and Redis reachable (latency not judged), and
/// not shutting down. A draining replica answers 503 `draining` while it
/// still serves, so the proxy's health check takes it out first.
#[utoipa::path(get, path = "/api/v1/readyz", tag = "health", responses((status = 200), (status = 503)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.is_draining() {
        return HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({"status": "draining", "checks": {}}));
    }
    let checks = probe_all(&state).await;
    let ready = checks.values().all(|p| p.status != Status::Unhealthy);
    let body =
        serde_json::json!({"status": if ready { "ready" } else { "not_ready" }, "checks": checks});
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
