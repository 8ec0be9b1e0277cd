use super::DomainError;

/// A wall-clock hour of the day (0–23) in the reporter's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hour(u8);

impl Hour {
    pub fn new(h: i64) -> Result<Self, DomainError> {
        if (0..24).contains(&h) {
            Ok(Hour(h as u8))
        } else {
            Err(DomainError::InvalidHour)
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn label(self) -> String {
        hour_label(self.0 as i32)
    }
}

/// `HH:00`, the label customers see for a slot.
pub fn hour_label(hour: i32) -> String {
    format!("{hour:02}:00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_zero_padded() {
        for (h, want) in [(0, "00:00"), (6, "06:00"), (17, "17:00"), (23, "23:00")] {
            assert_eq!(hour_label(h), want);
        }
    }

    #[test]
    fn hour_rejects_out_of_range() {
        assert!(Hour::new(-1).is_err());
        assert!(Hour::new(24).is_err());
        assert_eq!(Hour::new(23).unwrap().get(), 23);
        assert_eq!(Hour::new(9).unwrap().label(), "09:00");
    }
}
