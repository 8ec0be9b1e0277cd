//! The run pipeline's writes: runs and run-users for a slot hour, stored
//! exports, stuck orders and ranges, fenced range ownership, the reports
//! ledger and the run's single finish. Every function is one transaction
//! or one statement, so a crash between two of them loses nothing.
//!
//! `runs` (runs, run-users, the finish), `exports` (stored exports and the
//! compare), `fenced_ranges` (range ownership and the ledger, all fencing
//! in one file), `shadow` (what a shadow part checked instead of filing)
//! and `sweep` (what may have lost its job).

mod exports;
mod fenced_ranges;
mod runs;
mod shadow;
mod sweep;

pub use exports::*;
pub use fenced_ranges::*;
pub use runs::*;
pub use shadow::*;
pub use sweep::*;
