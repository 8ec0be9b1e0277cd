//! Accounts and orders as held in the simulator's state.

use chrono::NaiveDate;
use serde::Serialize;

use super::OrderStatus;

#[derive(Debug, Clone)]
pub struct Account {
    pub email: String,
    pub password: String,
}

impl Account {
    /// Portals treat the email case-insensitively; so does the simulator.
    pub fn matches_email(&self, email: &str) -> bool {
        self.email.eq_ignore_ascii_case(email.trim())
    }
}

/// One order. Serializes to the shape of `GET /_sim/export/{account}`, which
/// mirrors the columns of the xlsx export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub id: u64,
    #[serde(skip)]
    pub account: String,
    pub date: NaiveDate,
    pub status: OrderStatus,
    /// Empty until the order is handed to a carrier.
    pub carrier: String,
    pub tracking: String,
    pub customer: String,
    pub city: String,
    pub total: f64,
}
