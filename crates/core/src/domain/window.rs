use super::{hour_label, DomainError, Weight};

/// The hours customers may reserve: `[start, end)`, in the reporter's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservableWindow {
    start: i32,
    end: i32,
}

impl ReservableWindow {
    pub fn new(start: i32, end: i32) -> Result<Self, DomainError> {
        if (0..24).contains(&start) && (1..=24).contains(&end) && start < end {
            Ok(Self { start, end })
        } else {
            Err(DomainError::InvalidWindow)
        }
    }

    pub fn start(&self) -> i32 {
        self.start
    }

    pub fn end(&self) -> i32 {
        self.end
    }

    pub fn contains(&self, hour: i32) -> bool {
        hour >= self.start && hour < self.end
    }

    /// Rejects an hour outside the window with the customer-facing message.
    pub fn check(&self, hour: i32) -> Result<(), DomainError> {
        if self.contains(hour) {
            Ok(())
        } else {
            Err(DomainError::OutsideWindow(
                hour_label(hour),
                self.describe(),
            ))
        }
    }

    /// e.g. `06:00–17:00` (the last reservable hour, not the exclusive end).
    pub fn describe(&self) -> String {
        format!("{}–{}", hour_label(self.start), hour_label(self.end - 1))
    }
}

/// One slot's current load, as the reservation rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotUsage {
    pub slot_id: i32,
    pub hour: i32,
    pub used_points: i32,
    pub capacity_points: i32,
}

/// The capacity rule: `used + weight <= capacity`.
pub fn slot_accepts(used_points: i32, weight: Weight, capacity_points: i32) -> bool {
    used_points + weight.points() <= capacity_points
}

/// First-fit: the earliest hour in the window with room for `weight`.
pub fn first_fit(
    slots: &[SlotUsage],
    weight: Weight,
    window: ReservableWindow,
) -> Option<SlotUsage> {
    slots
        .iter()
        .filter(|s| window.contains(s.hour))
        .filter(|s| slot_accepts(s.used_points, weight, s.capacity_points))
        .min_by_key(|s| s.hour)
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MonthlyOrders;
    use proptest::prelude::*;

    fn weight(n: i64) -> Weight {
        Weight::from_monthly_orders(MonthlyOrders::new(n).unwrap())
    }

    fn slot(hour: i32, used: i32) -> SlotUsage {
        SlotUsage {
            slot_id: hour + 1,
            hour,
            used_points: used,
            capacity_points: 6,
        }
    }

    #[test]
    fn capacity_rule_is_inclusive() {
        assert!(slot_accepts(5, weight(10), 6));
        assert!(!slot_accepts(6, weight(10), 6));
        assert!(slot_accepts(3, weight(9000), 6));
        assert!(!slot_accepts(4, weight(9000), 6));
    }

    #[test]
    fn window_is_half_open() {
        let w = ReservableWindow::new(6, 18).unwrap();
        assert!(!w.contains(5));
        assert!(w.contains(6));
        assert!(w.contains(17));
        assert!(!w.contains(18));
        assert_eq!(w.describe(), "06:00–17:00");
        assert_eq!(w.check(18).unwrap_err().code(), "outside_window");
        assert!(ReservableWindow::new(10, 10).is_err());
        assert!(ReservableWindow::new(-1, 10).is_err());
        assert!(ReservableWindow::new(0, 25).is_err());
    }

    #[test]
    fn first_fit_picks_earliest_hour_with_room_inside_window() {
        let w = ReservableWindow::new(6, 18).unwrap();
        let slots = [slot(5, 0), slot(8, 6), slot(7, 4), slot(9, 2), slot(10, 0)];
        assert_eq!(first_fit(&slots, weight(10), w).unwrap().hour, 7);
        assert_eq!(first_fit(&slots, weight(3000), w).unwrap().hour, 7);
        assert_eq!(first_fit(&slots, weight(9000), w).unwrap().hour, 9);
        let full = [slot(6, 6), slot(7, 5), slot(19, 0)];
        assert!(first_fit(&full, weight(3000), w).is_none());
    }

    proptest! {
        #[test]
        fn first_fit_result_always_satisfies_rules(
            used in proptest::collection::vec(0i32..=6, 24),
            n in 0i64..20_000,
            start in 0i32..23,
            len in 1i32..24,
        ) {
            let end = (start + len).min(24);
            let w = ReservableWindow::new(start, end).unwrap();
            let slots: Vec<_> = used.iter().enumerate().map(|(h, u)| slot(h as i32, *u)).collect();
            let wt = weight(n);
            match first_fit(&slots, wt, w) {
                Some(s) => {
                    prop_assert!(w.contains(s.hour));
                    prop_assert!(slot_accepts(s.used_points, wt, s.capacity_points));
                    for earlier in slots.iter().filter(|e| e.hour < s.hour && w.contains(e.hour)) {
                        prop_assert!(!slot_accepts(earlier.used_points, wt, earlier.capacity_points));
                    }
                }
                None => {
                    for s in slots.iter().filter(|s| w.contains(s.hour)) {
                        prop_assert!(!slot_accepts(s.used_points, wt, s.capacity_points));
                    }
                }
            }
        }
    }
}
