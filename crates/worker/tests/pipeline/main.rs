//! The run pipeline end to end with real PostgreSQL, Redis and separate
//! `reporter-worker` processes driving the scripted fake portal.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod harness;

mod beat_and_trigger;
mod drills;
mod full_run;
mod ledger;
mod pg_restart;
mod portal_check;
mod prediction;
mod range_budget;
mod redis_restart;
mod retries;
mod schedule_clock;
mod shadow;
mod sweep;
