//! The browser path end to end: real `reporter-worker` processes drive
//! headless Chromium (through a chromedriver started by the test) against
//! portal-sim, with real PostgreSQL and Redis. Needs /usr/bin/chromedriver
//! and chromium (scripts/test.sh installs them).

mod harness;
mod proxy;

mod day_two;
mod failures;
mod kill;
mod orphan;
mod pause;
