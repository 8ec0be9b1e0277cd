//! What counts as a stuck order (portal contract, "What counts as a stuck
//! order"): non-terminal today, and the same status in the account's most
//! recent export of an earlier day.

use std::collections::HashMap;

/// Statuses after which an order never moves again. Every other status,
/// including ones we have never seen, is non-terminal.
pub const TERMINAL_STATUSES: [&str; 3] = ["ENTREGADO", "DEVUELTO", "CANCELADO"];

pub fn is_terminal(status: &str) -> bool {
    let s = status.trim();
    TERMINAL_STATUSES.iter().any(|t| t.eq_ignore_ascii_case(s))
}

/// One order as an export shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSnapshot {
    pub order_id: i64,
    pub order_date: String,
    pub status: String,
    pub carrier: String,
    pub tracking_number: String,
    pub customer: String,
    pub city: String,
    pub total: Option<f64>,
}

/// The stuck orders of `today` against `previous` (None on an account's first
/// day: nothing is stuck). Ordered by order date, then id, so ranges are
/// stable whoever computes them.
pub fn stuck_orders<'a>(
    today: &'a [OrderSnapshot],
    previous: Option<&[OrderSnapshot]>,
) -> Vec<&'a OrderSnapshot> {
    let Some(previous) = previous else {
        return Vec::new();
    };
    let before: HashMap<i64, &str> = previous
        .iter()
        .map(|o| (o.order_id, o.status.trim()))
        .collect();
    let mut stuck: Vec<&OrderSnapshot> = today
        .iter()
        .filter(|o| !is_terminal(&o.status))
        .filter(|o| {
            before
                .get(&o.order_id)
                .is_some_and(|s| s.eq_ignore_ascii_case(o.status.trim()))
        })
        .collect();
    stuck.sort_by(|a, b| {
        a.order_date
            .cmp(&b.order_date)
            .then(a.order_id.cmp(&b.order_id))
    });
    stuck.dedup_by_key(|o| o.order_id);
    stuck
}

/// 1-based inclusive ranges of `size` covering `total` positions.
pub fn cut_ranges(total: usize, size: usize) -> Vec<(i32, i32)> {
    assert!(size > 0, "range size must be positive");
    (0..total)
        .step_by(size)
        .map(|start| ((start + 1) as i32, (start + size).min(total) as i32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn o(id: i64, status: &str) -> OrderSnapshot {
        OrderSnapshot {
            order_id: id,
            order_date: format!("2026-11-{:02}", 1 + id % 20),
            status: status.into(),
            carrier: String::new(),
            tracking_number: String::new(),
            customer: String::new(),
            city: String::new(),
            total: None,
        }
    }

    #[test]
    fn first_day_has_no_stuck_orders() {
        assert!(stuck_orders(&[o(1, "EN_TRANSITO")], None).is_empty());
    }

    #[test]
    fn stuck_means_non_terminal_and_unchanged() {
        let yesterday = [
            o(1, "EN_TRANSITO"),
            o(2, "EN_TRANSITO"),
            o(3, "ENTREGADO"),
            o(4, "PENDIENTE"),
            o(6, "RARO"),
        ];
        let today = [
            o(1, "EN_TRANSITO"), // stuck
            o(2, "EN_REPARTO"),  // moved
            o(3, "ENTREGADO"),   // terminal
            o(4, "pendiente"),   // stuck (case)
            o(5, "EN_TRANSITO"), // new today
            o(6, "RARO"),        // unknown status: non-terminal, stuck
        ];
        let ids: Vec<i64> = stuck_orders(&today, Some(&yesterday))
            .iter()
            .map(|o| o.order_id)
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, vec![1, 4, 6]);
    }

    #[test]
    fn ranges_cover_everything_once() {
        assert_eq!(cut_ranges(0, 100), vec![]);
        assert_eq!(
            cut_ranges(340, 100),
            vec![(1, 100), (101, 200), (201, 300), (301, 340)]
        );
        assert_eq!(cut_ranges(100, 100), vec![(1, 100)]);
    }

    proptest! {
        #[test]
        fn ranges_partition_positions(total in 0usize..5000, size in 1usize..500) {
            let r = cut_ranges(total, size);
            let mut next = 1;
            for (a, b) in &r {
                prop_assert_eq!(*a, next);
                prop_assert!(b >= a && (b - a + 1) as usize <= size);
                next = b + 1;
            }
            prop_assert_eq!((next - 1) as usize, total);
        }
    }
}
