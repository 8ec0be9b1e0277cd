//! What a reservation that pushes its hour past the browser-time budget
//! gets: accepted with a warning (`points`, the default: the capacity
//! points stay the only hard rule) or refused (`time`).

use std::str::FromStr;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Admission {
    /// Over budget is a warning; only the points refuse.
    #[default]
    Points,
    /// Over budget is refused (`hour_over_time_budget`).
    Time,
}

impl Admission {
    pub fn as_str(self) -> &'static str {
        match self {
            Admission::Points => "points",
            Admission::Time => "time",
        }
    }
}

impl FromStr for Admission {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "points" => Ok(Admission::Points),
            "time" => Ok(Admission::Time),
            other => Err(format!("expected `points` or `time`, got {other:?}")),
        }
    }
}

/// An hour whose prediction passes its budget, in browser-minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverBudget {
    pub hour: i32,
    pub predicted_minutes: f64,
    pub available_minutes: f64,
}

impl OverBudget {
    /// The warning a customer sees when the reservation is accepted anyway.
    pub fn warning(&self) -> String {
        format!(
            "La hora {:02}:00 necesitaría unos {:.0} minutos de navegador y tiene {:.0} disponibles: tus reportes podrían terminar más tarde. Considera otra hora con menos carga.",
            self.hour, self.predicted_minutes, self.available_minutes
        )
    }

    /// The refusal's detail in `time` admission mode.
    pub fn refusal(&self) -> String {
        format!(
            "La hora {:02}:00 no tiene tiempo de navegador suficiente: necesitaría unos {:.0} minutos y tiene {:.0} disponibles. Elige otra hora.",
            self.hour, self.predicted_minutes, self.available_minutes
        )
    }
}

/// The planner's word on an hour after a reservation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HourVerdict {
    Within,
    Over(OverBudget),
}

/// Compares an hour's prediction with its budget. Equal is within.
pub fn check_hour(hour: i32, predicted_minutes: f64, available_minutes: f64) -> HourVerdict {
    if predicted_minutes > available_minutes {
        HourVerdict::Over(OverBudget {
            hour,
            predicted_minutes,
            available_minutes,
        })
    } else {
        HourVerdict::Within
    }
}
