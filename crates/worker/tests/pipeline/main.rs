//! The run pipeline end to end with real PostgreSQL, Redis and separate
//! `reporter-worker` processes driving the scripted fake portal.

mod harness;

mod beat_and_trigger;
mod drills;
mod full_run;
mod ledger;
mod pg_restart;
mod range_budget;
mod redis_restart;
mod retries;
mod schedule_clock;
mod sweep;
