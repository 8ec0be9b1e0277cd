//! One file per job kind. Handlers never return errors to apalis for
//! retrying (see `reporter_core::jobs`): they retry by pushing a delayed job
//! themselves, and only an unrecoverable failure to do even that aborts.

pub mod download_compare;
pub mod process_slot;
pub mod report_range;

use apalis::prelude::{AbortError, BoxDynError};

/// Ends a job for good (apalis' dead set), with the reason logged once here.
pub(crate) fn abort(job: &str, e: impl std::fmt::Display) -> BoxDynError {
    tracing::error!(job, error = %e, "job aborted");
    AbortError::new(std::io::Error::other(e.to_string())).into()
}
