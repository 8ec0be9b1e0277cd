//! The schedule: which slot hours are owed a run, and when.
//!
//! PostgreSQL is the truth: an hour is served when its run row exists.
//! Beat reconciles every minute (and at start): every hour of the current
//! window that had reservations at its instant, is not paused and has no
//! run is enqueued while it is inside the catch-up window
//! (`REPORTER_BEAT_CATCHUP_MINUTES`, default the rest of its business day),
//! and recorded missed once it falls out of it. So a lost tick is repaired a
//! minute later, any number of beats may run (the push's idempotency key and
//! the unique run constraint make it one run), and an hour that could not be
//! served is counted and shown, never lost silently. See docs/architecture.md.

pub mod clock;
pub mod customer;
pub mod health;
pub mod plan;
pub mod runner;
pub mod store;

pub use clock::{business_date, hour_start, next_occurrence, slot_instant, Occurrence};
pub use customer::{late_start_note, next_run, NextRun};
pub use health::{beat_health, BeatHealth};
pub use plan::{reconcile, CatchUp, Due, Missed, Pause, Plan, ScheduleInput, LATE_GRACE};
pub use runner::{BackfillRefusal, Overview, ReconcileReport, ScheduleError, Scheduler};
