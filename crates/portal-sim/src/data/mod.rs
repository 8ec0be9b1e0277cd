//! Seeded, deterministic data: the catalog of names and the order generator.

mod catalog;
mod generator;
mod seeding;
mod transitions;

pub use generator::{assign_shipment, OrderFactory};
pub use seeding::{day_rng, initial_rng};
pub use transitions::next_status;
