//! The web UI in a real headless Chromium: the customer's page and the
//! operators' console, against the real API, PostgreSQL and Redis, and for
//! the live run, a worker driving a second browser against portal-sim.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod harness;
#[path = "../it/ledger_seed.rs"]
mod ledger_seed;

mod access;
mod console;
mod customer;
mod history;
mod live_run;
mod planner;
mod portal_check;
