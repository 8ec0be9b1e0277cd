//! Middleware that applies the `/_sim/faults` settings to portal pages.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use rand::Rng;
use tracing::warn;

use crate::html;
use crate::state::Sim;

/// Sleeps `latency_ms`, then answers 500 for a share `error_rate` of requests.
pub async fn inject_faults(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let (latency_ms, error_rate) = req
        .app_data::<web::Data<Sim>>()
        .map(|sim| sim.with(|s| (s.faults.latency_ms, s.faults.error_rate)))
        .unwrap_or_default();
    if latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(latency_ms)).await;
    }
    // Fault dice need no reproducibility, unlike the seeded portal data.
    if error_rate > 0.0 && rand::thread_rng().gen_bool(error_rate) {
        warn!(path = req.path(), "injected 500");
        return Ok(req
            .into_response(html::internal_error())
            .map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
