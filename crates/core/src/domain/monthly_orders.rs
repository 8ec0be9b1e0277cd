use serde::{de, Deserialize, Deserializer, Serialize};

use super::DomainError;

/// A customer's monthly orders estimate: a non-negative integer. Negative
/// and fractional values are rejected, never clamped or rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[schema(value_type = i32)]
pub struct MonthlyOrders(i32);

impl MonthlyOrders {
    pub fn new(n: i64) -> Result<Self, DomainError> {
        i32::try_from(n)
            .ok()
            .filter(|n| *n >= 0)
            .map(MonthlyOrders)
            .ok_or(DomainError::InvalidMonthlyOrders)
    }

    /// Accepts a JSON number only when it is an exact non-negative integer.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, DomainError> {
        match v {
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Self::new(i),
                (None, Some(_)) => Err(DomainError::InvalidMonthlyOrders),
                _ => Err(DomainError::InvalidMonthlyOrders),
            },
            _ => Err(DomainError::InvalidMonthlyOrders),
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for MonthlyOrders {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        MonthlyOrders::from_json(&v).map_err(|e| de::Error::custom(e.to_string()))
    }
}

/// Orders expected to be pending on a run: `monthly × factor`, rounded to the
/// nearest whole order.
pub fn estimated_pending_orders(monthly: MonthlyOrders, factor: f64) -> i32 {
    let v = (monthly.get() as f64 * factor).round();
    v.clamp(0.0, i32::MAX as f64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_negative_and_fractional() {
        assert!(MonthlyOrders::new(-1).is_err());
        assert!(MonthlyOrders::new(i64::from(i32::MAX) + 1).is_err());
        assert!(serde_json::from_str::<MonthlyOrders>("12.5").is_err());
        assert!(serde_json::from_str::<MonthlyOrders>("-3").is_err());
        assert!(serde_json::from_str::<MonthlyOrders>("\"100\"").is_err());
        assert_eq!(
            serde_json::from_str::<MonthlyOrders>("100").unwrap().get(),
            100
        );
        assert_eq!(serde_json::from_str::<MonthlyOrders>("0").unwrap().get(), 0);
    }

    #[test]
    fn pending_estimate_uses_factor() {
        let m = MonthlyOrders::new(2500).unwrap();
        assert_eq!(estimated_pending_orders(m, 0.08), 200);
        assert_eq!(
            estimated_pending_orders(MonthlyOrders::new(0).unwrap(), 0.08),
            0
        );
        assert_eq!(
            estimated_pending_orders(MonthlyOrders::new(13).unwrap(), 0.08),
            1
        );
    }

    proptest! {
        #[test]
        fn pending_estimate_never_exceeds_monthly_for_factors_up_to_one(n in 0i64..10_000_000, f in 0.0f64..=1.0) {
            let m = MonthlyOrders::new(n).unwrap();
            let p = estimated_pending_orders(m, f);
            prop_assert!(p >= 0 && i64::from(p) <= n);
        }
    }
}
