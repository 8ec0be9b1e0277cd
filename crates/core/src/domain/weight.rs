use serde::Serialize;

use super::MonthlyOrders;

/// How many capacity points a reservation takes: 1, 2 or 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Weight(u8);

impl Weight {
    /// The tiers, smallest first: a weight and the most monthly orders it
    /// covers (`None`: no bound). The one place the thresholds live; the
    /// API hands them to the customer page.
    pub const TIERS: [(Weight, Option<i32>); 3] = [
        (Weight(1), Some(2000)),
        (Weight(2), Some(5000)),
        (Weight(3), None),
    ];

    /// 0–2000 orders a month → 1, 2001–5000 → 2, more → 3.
    pub fn from_monthly_orders(m: MonthlyOrders) -> Self {
        Self::TIERS
            .iter()
            .find(|(_, max)| max.is_none_or(|max| m.get() <= max))
            .map_or(Weight(3), |(w, _)| *w)
    }

    pub fn points(self) -> i32 {
        i32::from(self.0)
    }

    /// Customer-facing size name.
    pub fn size_label(self) -> &'static str {
        match self.0 {
            1 => "pequeño",
            2 => "mediano",
            _ => "grande",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(n: i64) -> i32 {
        Weight::from_monthly_orders(MonthlyOrders::new(n).unwrap()).points()
    }

    #[test]
    fn boundaries() {
        for (n, want) in [
            (0, 1),
            (1, 1),
            (2000, 1),
            (2001, 2),
            (5000, 2),
            (5001, 3),
            (1_000_000, 3),
        ] {
            assert_eq!(w(n), want, "monthly orders {n}");
        }
    }

    proptest! {
        #[test]
        fn weight_is_monotonic_and_in_range(a in 0i64..100_000, b in 0i64..100_000) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(w(lo) <= w(hi));
            prop_assert!((1..=3).contains(&w(a)));
        }
    }
}
