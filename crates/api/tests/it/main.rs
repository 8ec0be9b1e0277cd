//! API integration tests: the real server on a random port, a fresh
//! PostgreSQL database per test, a Redis key prefix per test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod helpers;
mod ledger_seed;

mod accounts;
mod admin;
mod capacity_under_concurrency;
mod dashboard_api;
mod edge;
mod errors;
mod exports;
mod health_and_docs;
mod history;
mod planner;
mod portal_check;
mod reservations;
mod runs;
mod schedule;
mod slot_snapshot;
mod web_session;
