//! Pure rules shared by the API, the workers and the CLI: reservations,
//! stuck orders, and the states of runs and what they came to.

mod error;
mod hour;
mod monthly_orders;
mod status;
mod stuck;
mod weight;
mod window;

pub use error::DomainError;
pub use hour::{hour_label, Hour};
pub use monthly_orders::{estimated_pending_orders, MonthlyOrders};
pub use status::{DownloadStatus, RangeStatus, ReportMode, RunStatus, RunUserFacts, RunUserResult};
pub use stuck::{cut_ranges, is_terminal, stuck_orders, OrderSnapshot, TERMINAL_STATUSES};
pub use weight::Weight;
pub use window::{first_fit, slot_accepts, ReservableWindow, SlotUsage};
