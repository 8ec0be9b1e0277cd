//! The hour planner: how many browser-minutes an hour's customers will need
//! against how many the fleet has in an hour (docs/planner.md).
//!
//! `estimate.rs` and `plan.rs` are pure arithmetic (property-tested in
//! `plan_tests.rs`); `store.rs` reads the history they work on and records
//! each run's prediction; `kept.rs` keeps its estimates per process;
//! `admission.rs` is the reservation check.

mod admission;
mod estimate;
mod kept;
mod plan;
mod store;

#[cfg(test)]
mod plan_tests;

pub use admission::{check_hour, Admission, HourVerdict, OverBudget};
pub use estimate::{
    median, stuck_per_day, FleetTimings, StuckEstimate, DEFAULT_EXPORT_MINUTES,
    DEFAULT_LOGIN_MINUTES, DEFAULT_REPORT_MINUTES,
};
pub use kept::KeptEstimates;
pub use plan::{
    available_minutes, customer_minutes, hour_minutes, run_duration_minutes, PlanParams,
};
pub use store::{
    hour_plans, load_estimates, prediction_error, record_run_prediction, verdict_with,
    CustomerPlan, Estimates, HourPlan, PlannerSettings, Planning, PredictionError,
};
