//! What the portal stores: accounts, orders and their statuses.

mod order;
mod status;

pub use order::{Account, Order};
pub use status::OrderStatus;
