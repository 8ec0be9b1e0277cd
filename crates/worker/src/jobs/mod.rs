//! One file per job kind. Business retries are the handlers' own (see
//! `reporter_core::jobs`): they push a delayed job and end. What reaches
//! apalis as an error is infrastructure failing under the handler (Redis or
//! PostgreSQL gone); apalis-redis then runs the job again later, which is
//! safe because every handler is idempotent.

pub mod download_compare;
mod dropped;
pub mod portal_check;
pub mod process_slot;
pub mod report_range;
pub(crate) mod settle_run;

use apalis::prelude::BoxDynError;

/// An infrastructure failure: logged once here, retried by apalis later.
pub(crate) fn abort(job: &str, e: impl std::fmt::Display) -> BoxDynError {
    tracing::error!(job, error = %e, "job failed; apalis will run it again");
    Box::new(std::io::Error::other(e.to_string()))
}

/// `reporter_jobs_total{queue, outcome}`: handled (business outcome inside)
/// or failed on infrastructure (apalis runs it again).
pub(crate) fn count_outcome(queue: &'static str, ok: bool) {
    metrics::counter!("reporter_jobs_total", "queue" => queue, "outcome" => if ok { "handled" } else { "failed" }).increment(1);
}

/// `reporter_job_retries_total{queue}`: a business retry was scheduled.
pub(crate) fn count_retry(queue: &'static str) {
    metrics::counter!("reporter_job_retries_total", "queue" => queue).increment(1);
}
