//! The portal's day clock: what happens to orders when a day passes.

use rand::Rng;
use tracing::info;

use super::SimState;
use crate::data::{assign_shipment, day_rng, next_status};
use crate::model::OrderStatus;

impl SimState {
    /// Moves the portal to the next day. Orders in flight move on with
    /// probability `move_rate` (the rest stay put, i.e. become stuck), then
    /// each account may receive new orders.
    #[allow(
        clippy::unwrap_used,
        clippy::expect_used,
        reason = "cannot fail: portal day within chrono's range"
    )]
    pub fn advance_day(&mut self) {
        self.days_advanced += 1;
        self.day = self
            .day
            .succ_opt()
            .expect("portal day within chrono's range");
        let mut rng = day_rng(self.seed, self.days_advanced);

        let mut moved = 0usize;
        for order in self.orders.values_mut() {
            if order.status.is_terminal() {
                continue;
            }
            // Drawn for every order, moving or not, so one order's fate does
            // not shift the stream for the orders after it.
            let moves = rng.gen_bool(self.move_rate);
            let next = next_status(&mut rng, order.status);
            if !moves {
                continue;
            }
            if next.has_shipment() && order.carrier.is_empty() {
                assign_shipment(&mut rng, order);
            }
            order.status = next;
            moved += 1;
        }

        let mut created = 0usize;
        for account in &self.accounts {
            let count = rng.gen_range(0..=self.max_new_orders_per_day);
            for _ in 0..count {
                let order =
                    self.factory
                        .order(&mut rng, &account.email, self.day, OrderStatus::Pendiente);
                self.orders.insert(order.id, order);
                created += 1;
            }
        }
        info!(day = %self.day, moved, created, "portal day advanced");
    }
}

#[cfg(test)]
mod tests {
    use crate::config::SimConfig;
    use crate::state::SimState;

    fn state(seed: u64, move_rate: f64) -> SimState {
        let config = SimConfig {
            seed,
            move_rate,
            start_day: chrono::NaiveDate::from_ymd_opt(2025, 5, 1).unwrap(),
            ..SimConfig::default()
        };
        SimState::from_config(&config).unwrap()
    }

    #[test]
    fn move_rate_zero_freezes_every_order() {
        let mut s = state(4, 0.0);
        let before: Vec<_> = s.orders.values().map(|o| (o.id, o.status)).collect();
        s.advance_day();
        for (id, status) in before {
            assert_eq!(s.orders[&id].status, status);
        }
    }

    #[test]
    fn move_rate_one_moves_every_order_in_flight() {
        let mut s = state(4, 1.0);
        let in_flight: Vec<_> = s
            .orders
            .values()
            .filter(|o| !o.status.is_terminal())
            .map(|o| (o.id, o.status))
            .collect();
        s.advance_day();
        for (id, status) in in_flight {
            assert_ne!(s.orders[&id].status, status, "order {id} did not move");
        }
    }
}
