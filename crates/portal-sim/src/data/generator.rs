//! Generation of orders: ids, customers, totals and shipments.

use chrono::{Days, NaiveDate};
use rand::seq::SliceRandom;
use rand::Rng;

use super::catalog::{CARRIERS, CITIES, FIRST_NAMES, SURNAMES};
use super::seeding::SimRng;
use crate::model::{Order, OrderStatus};

/// Ids look like a shop's order numbers, not like row numbers.
const FIRST_ORDER_ID: u64 = 100_001;

/// How far back the starting orders' dates reach.
const INITIAL_HISTORY_DAYS: u64 = 14;

/// Starting statuses and their weights: mostly in flight, some finished.
const INITIAL_STATUS_WEIGHTS: &[(OrderStatus, u32)] = &[
    (OrderStatus::Pendiente, 18),
    (OrderStatus::GuiaGenerada, 15),
    (OrderStatus::EnTransito, 20),
    (OrderStatus::EnReparto, 10),
    (OrderStatus::Novedad, 7),
    (OrderStatus::Entregado, 20),
    (OrderStatus::Devuelto, 5),
    (OrderStatus::Cancelado, 5),
];

/// Hands out order ids (unique across accounts) and fills in order details.
#[derive(Debug)]
pub struct OrderFactory {
    next_id: u64,
}

impl Default for OrderFactory {
    fn default() -> Self {
        Self {
            next_id: FIRST_ORDER_ID,
        }
    }
}

impl OrderFactory {
    /// The orders an account has when the simulator starts.
    pub fn initial_orders(
        &mut self,
        rng: &mut SimRng,
        account: &str,
        count: usize,
        start_day: NaiveDate,
    ) -> Vec<Order> {
        let mut orders: Vec<Order> = (0..count)
            .map(|_| {
                let age = rng.gen_range(0..=INITIAL_HISTORY_DAYS);
                let date = start_day
                    .checked_sub_days(Days::new(age))
                    .unwrap_or(start_day);
                let status = pick_initial_status(rng);
                self.order(rng, account, date, status)
            })
            .collect();
        // Older orders got smaller ids on a real shop; keep that look.
        let mut ids: Vec<u64> = orders.iter().map(|o| o.id).collect();
        orders.sort_by_key(|o| o.date);
        ids.sort_unstable();
        for (order, id) in orders.iter_mut().zip(ids) {
            order.id = id;
        }
        orders
    }

    /// A fresh order, with a carrier already assigned when `status` needs one.
    pub fn order(
        &mut self,
        rng: &mut SimRng,
        account: &str,
        date: NaiveDate,
        status: OrderStatus,
    ) -> Order {
        let id = self.next_id;
        self.next_id += 1;
        let mut order = Order {
            id,
            account: account.to_owned(),
            date,
            status,
            carrier: String::new(),
            tracking: String::new(),
            customer: customer_name(rng),
            city: pick(rng, CITIES).to_owned(),
            // COP, in whole hundreds like real price tags.
            total: f64::from(rng.gen_range(150..=9_500_u32) * 100),
        };
        // A cancelled order was sometimes cancelled after the label was printed.
        if status.has_shipment() || (status == OrderStatus::Cancelado && rng.gen_bool(0.5)) {
            assign_shipment(rng, &mut order);
        }
        order
    }
}

/// Gives the order a carrier and a tracking number of that carrier's format.
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: the carrier catalog is not empty"
)]
pub fn assign_shipment(rng: &mut SimRng, order: &mut Order) {
    let carrier = CARRIERS
        .choose(rng)
        .expect("the carrier catalog is not empty");
    let tracking: String = (0..carrier.tracking_digits)
        .map(|i| {
            let low = if i == 0 { 1 } else { 0 };
            char::from(b'0' + rng.gen_range(low..10_u8))
        })
        .collect();
    order.carrier = carrier.name.to_owned();
    order.tracking = tracking;
}

fn customer_name(rng: &mut SimRng) -> String {
    format!(
        "{} {} {}",
        pick(rng, FIRST_NAMES),
        pick(rng, SURNAMES),
        pick(rng, SURNAMES)
    )
}

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: catalog lists are not empty"
)]
fn pick(rng: &mut SimRng, items: &[&'static str]) -> &'static str {
    items.choose(rng).expect("catalog lists are not empty")
}

#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "cannot fail: status weights are positive"
)]
fn pick_initial_status(rng: &mut SimRng) -> OrderStatus {
    INITIAL_STATUS_WEIGHTS
        .choose_weighted(rng, |(_, weight)| *weight)
        .map(|(status, _)| *status)
        .expect("status weights are positive")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::initial_rng;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 3, 10).unwrap()
    }

    #[test]
    fn same_seed_same_orders() {
        let make = || OrderFactory::default().initial_orders(&mut initial_rng(5), "a", 20, day());
        assert_eq!(make(), make());
    }

    #[test]
    fn pending_orders_have_no_carrier_and_shipped_ones_do() {
        let orders = OrderFactory::default().initial_orders(&mut initial_rng(9), "a", 200, day());
        for order in &orders {
            assert_eq!(order.carrier.is_empty(), order.tracking.is_empty());
            if order.status == OrderStatus::Pendiente {
                assert!(order.carrier.is_empty());
            }
            if order.status.has_shipment() {
                assert!(!order.tracking.is_empty());
            }
        }
        let ids: Vec<u64> = orders.iter().map(|o| o.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
