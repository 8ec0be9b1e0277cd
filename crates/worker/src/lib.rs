//! `reporter-worker`: the job handlers that turn a slot hour into reports,
//! and the portal adapters they drive.

pub mod browser_reaper;
pub mod environment;
pub mod fleet;
pub mod jobs;
pub mod lock_keeper;
pub mod portal;
pub mod portal_check;
pub mod runner;
