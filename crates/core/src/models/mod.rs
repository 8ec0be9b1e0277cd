//! One file per table (or tight group of tables): the row structs and the
//! queries on them. Queries take a connection and return `QueryResult`
//! (or a small error enum when a business rule can refuse).

pub mod console;
pub mod dashboard;
pub mod history;
pub mod pipeline;
pub mod report_exports;
pub mod reservation;
pub mod run;
pub mod slot;
pub mod token;
pub mod user;

pub use reservation::{Reservation, ReservationChange, ReservationError};
pub use run::{Run, RunUser};
pub use slot::{HourSlot, SlotConfig, SlotView};
pub use token::ApiToken;
pub use user::{NewUser, Role, User};
