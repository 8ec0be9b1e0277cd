//! The browser path end to end: real `reporter-worker` processes drive
//! headless Chromium (through a chromedriver started by the test) against
//! portal-sim, with real PostgreSQL and Redis. Needs /usr/bin/chromedriver
//! and chromium (scripts/test.sh installs them).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or bench: a failed unwrap fails it with its message"
)]

mod harness;
mod proxy;

mod alt_layout;
mod day_two;
mod failures;
mod kill;
mod orphan;
mod pause;
