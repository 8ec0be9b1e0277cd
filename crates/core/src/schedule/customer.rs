//! What a customer is told about the schedule, in Spanish: when their next
//! run is (a reservation made after its hour's time today waits for
//! tomorrow) and when a run of theirs started late.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::clock::{business_date, next_occurrence, slot_instant};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NextRun {
    /// The next run that includes the reservation.
    pub next_run_at: Option<DateTime<Utc>>,
    /// Reserved (or moved) after the hour's time today: today's run did not
    /// include it, its first run is tomorrow.
    pub starts_tomorrow: bool,
    pub next_run_note: String,
}

/// For a reservation of `hour` that got it at `assigned_at`.
pub fn next_run(tz: Tz, hour: u8, assigned_at: DateTime<Utc>, now: DateTime<Utc>) -> NextRun {
    let today = business_date(now, tz);
    let label = format!("{hour:02}:00");
    let today_instant = slot_instant(tz, today, hour);
    let starts_tomorrow =
        business_date(assigned_at, tz) == today && today_instant.is_some_and(|t| t < assigned_at);
    let next = next_occurrence(tz, hour, now.max(assigned_at));
    let note = match next {
        None => format!("Las {label} no existen en los próximos días por un cambio de horario"),
        Some(_) if starts_tomorrow => format!(
            "Reservaste después de las {label} de hoy: la ejecución de hoy ya había empezado sin ti, tu primera ejecución será mañana a las {label}"
        ),
        Some(t) if business_date(t, tz) == today => format!("Tu próxima ejecución es hoy a las {label}"),
        Some(t) if Some(business_date(t, tz)) == today.succ_opt() => {
            format!("Tu próxima ejecución es mañana a las {label}")
        }
        Some(t) => format!(
            "Tu próxima ejecución es el {} a las {label}",
            business_date(t, tz).format("%d/%m/%Y")
        ),
    };
    NextRun {
        next_run_at: next,
        starts_tomorrow,
        next_run_note: note,
    }
}

/// "Tu ejecución de las 09:00 se recuperó a las 11:02" for a run the
/// schedule started late (caught up or backfilled); `None` otherwise.
pub fn late_start_note(
    tz: Tz,
    scheduled_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    late_start: bool,
) -> Option<String> {
    if !late_start {
        return None;
    }
    let hour = scheduled_at.with_timezone(&tz).format("%H:%M");
    let started = started_at?.with_timezone(&tz);
    let same_day = business_date(scheduled_at, tz) == started.date_naive();
    Some(if same_day {
        format!(
            "Tu ejecución de las {hour} se recuperó a las {}",
            started.format("%H:%M")
        )
    } else {
        format!(
            "Tu ejecución de las {hour} del {} se recuperó el {} a las {}",
            business_date(scheduled_at, tz).format("%d/%m"),
            started.format("%d/%m"),
            started.format("%H:%M")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn bogota() -> Tz {
        "America/Bogota".parse().unwrap()
    }

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        bogota()
            .from_local_datetime(
                &NaiveDate::from_ymd_opt(2026, 12, d)
                    .unwrap()
                    .and_hms_opt(h, m, 0)
                    .unwrap(),
            )
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_reservation_after_its_hour_today_waits_for_tomorrow_and_says_so() {
        let n = next_run(bogota(), 9, at(2, 10, 30), at(2, 10, 31));
        assert!(n.starts_tomorrow);
        assert_eq!(n.next_run_at, Some(at(3, 9, 0)));
        assert!(
            n.next_run_note.contains("mañana a las 09:00"),
            "{}",
            n.next_run_note
        );
    }

    #[test]
    fn a_reservation_before_its_hour_runs_today() {
        let n = next_run(bogota(), 11, at(2, 10, 30), at(2, 10, 31));
        assert!(!n.starts_tomorrow);
        assert_eq!(n.next_run_at, Some(at(2, 11, 0)));
        assert_eq!(n.next_run_note, "Tu próxima ejecución es hoy a las 11:00");
        // Made days ago, after today's hour: next is tomorrow, nothing skipped.
        let n = next_run(bogota(), 9, at(1, 8, 0), at(2, 10, 31));
        assert!(!n.starts_tomorrow);
        assert_eq!(
            n.next_run_note,
            "Tu próxima ejecución es mañana a las 09:00"
        );
    }

    #[test]
    fn late_runs_are_described_with_both_times() {
        let tz = bogota();
        assert_eq!(
            late_start_note(tz, at(2, 9, 0), Some(at(2, 11, 2)), true).as_deref(),
            Some("Tu ejecución de las 09:00 se recuperó a las 11:02")
        );
        assert_eq!(
            late_start_note(tz, at(2, 9, 0), Some(at(2, 9, 1)), false),
            None
        );
        assert!(late_start_note(tz, at(1, 9, 0), Some(at(2, 8, 0)), true)
            .unwrap()
            .contains("del 01/12 se recuperó el 02/12 a las 08:00"));
    }
}
