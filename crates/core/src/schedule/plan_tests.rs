use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::schedule::clock::{occurrences, slot_instant, Occurrence};

fn bogota() -> Tz {
    "America/Bogota".parse().unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

/// `HH:MM` on [`day`] in Bogotá (UTC-5).
fn at(hm: &str) -> DateTime<Utc> {
    let (h, m) = hm.split_once(':').unwrap();
    slot_instant(bogota(), day(), h.parse().unwrap()).unwrap()
        + Duration::minutes(m.parse().unwrap())
}

/// A world the reconciler runs in: it turns due hours into runs and missed
/// hours into records, as beat and the workers do.
struct World {
    tz: Tz,
    window: ReservableWindow,
    catch_up: CatchUp,
    reservations: Vec<(u8, DateTime<Utc>)>,
    runs: BTreeSet<DateTime<Utc>>,
    missed: BTreeSet<DateTime<Utc>>,
    pauses: Vec<Pause>,
}

impl World {
    fn new(catch_up: CatchUp) -> Self {
        World {
            tz: bogota(),
            window: ReservableWindow::new(6, 18).unwrap(),
            catch_up,
            // Reserved long before the day under test.
            reservations: vec![
                (9, at("00:00") - Duration::days(3)),
                (10, at("00:00") - Duration::days(3)),
                (11, at("00:00") - Duration::days(3)),
            ],
            runs: BTreeSet::new(),
            missed: BTreeSet::new(),
            pauses: Vec::new(),
        }
    }

    fn plan(&self, now: DateTime<Utc>) -> Plan {
        reconcile(&ScheduleInput {
            now,
            tz: self.tz,
            window: self.window,
            catch_up: self.catch_up,
            reservations: &self.reservations,
            runs: &self.runs,
            missed_recorded: &self.missed,
            pauses: &self.pauses,
        })
    }

    /// The 8 days before [`day`] ran their 09:00–11:00 normally.
    fn ran_the_days_before(&mut self) {
        let before = occurrences(
            self.tz,
            day() - Duration::days(8),
            day() - Duration::days(1),
            9..12u8,
        );
        self.runs.extend(before.iter().map(|o| o.scheduled_at));
    }

    /// One reconcile whose pushes all land and become runs.
    fn tick(&mut self, now: DateTime<Utc>) -> Plan {
        let p = self.plan(now);
        self.runs
            .extend(p.due.iter().map(|d| d.occurrence.scheduled_at));
        self.missed
            .extend(p.missed.iter().map(|m| m.occurrence.scheduled_at));
        p
    }
}

fn hours(due: &[Due]) -> Vec<(u8, bool)> {
    due.iter().map(|d| (d.occurrence.hour, d.late)).collect()
}

#[test]
fn beat_down_from_0855_to_1110_catches_up_three_hours_two_late() {
    let mut w = World::new(CatchUp::RestOfDay);
    // The days before ran normally.
    w.ran_the_days_before();
    assert!(w.tick(at("08:55")).due.is_empty());
    let p = w.tick(at("11:10"));
    assert_eq!(hours(&p.due), vec![(9, true), (10, true), (11, false)]);
    assert!(p.missed.is_empty());
    // The next reconcile finds nothing more to do.
    assert_eq!(w.tick(at("11:11")), Plan::default());
}

#[test]
fn a_failed_push_is_due_again_a_minute_later() {
    let w = World::new(CatchUp::RestOfDay);
    let mut w = w;
    w.runs.extend(
        occurrences(w.tz, day() - Duration::days(8), day(), 9..10u8)
            .iter()
            .map(|o| o.scheduled_at),
    );
    // 10:00:00: Redis refuses the push, so no run appears.
    let first = w.plan(at("10:00"));
    assert_eq!(hours(&first.due), vec![(10, false)]);
    // 10:01: the same hour is due again, still on time.
    let p = w.tick(at("10:01"));
    assert_eq!(hours(&p.due), vec![(10, false)]);
}

#[test]
fn out_of_the_window_means_recorded_missed_once_and_never_run() {
    let mut w = World::new(CatchUp::Minutes(30));
    w.ran_the_days_before();
    w.tick(at("09:00"));
    let p = w.tick(at("10:45"));
    assert!(p.due.is_empty());
    assert_eq!(p.missed.len(), 1);
    assert_eq!(p.missed[0].occurrence.hour, 10);
    assert_eq!(p.missed[0].reservations, 1);
    assert!(w.tick(at("10:46")).missed.is_empty());
    // 11:00 is on time again.
    assert_eq!(hours(&w.tick(at("11:00")).due), vec![(11, false)]);
}

#[test]
fn rest_of_day_serves_until_midnight_then_records_missed() {
    let mut w = World::new(CatchUp::RestOfDay);
    w.ran_the_days_before();
    assert_eq!(w.plan(at("23:59")).due.len(), 3);
    let next_day = at("00:10") + Duration::days(1);
    let p = w.tick(next_day);
    assert!(p.due.is_empty());
    assert_eq!(
        p.missed
            .iter()
            .map(|m| m.occurrence.hour)
            .collect::<Vec<_>>(),
        vec![9, 10, 11]
    );
}

#[test]
fn paused_hours_are_neither_run_nor_missed_even_after_the_pause_ends() {
    let mut w = World::new(CatchUp::RestOfDay);
    w.ran_the_days_before();
    w.pauses.push(Pause {
        hour: Some(10),
        from: at("08:00"),
        until: Some(at("10:30")),
    });
    let p = w.tick(at("10:05"));
    assert_eq!(hours(&p.due), vec![(9, true)]);
    assert_eq!(
        p.paused.iter().map(|o| o.hour).collect::<Vec<_>>(),
        vec![10]
    );
    // Resumed at 10:30: the 10:00 instant was paused, so it stays skipped.
    let p = w.tick(at("10:40"));
    assert!(p.due.is_empty());
    assert_eq!(p.paused.len(), 1);
    // A pause of every hour, open-ended, from 10:50: 11:00 is skipped too.
    w.pauses.push(Pause {
        hour: None,
        from: at("10:50"),
        until: None,
    });
    assert!(w.plan(at("11:00")).due.is_empty());
    let p = w.tick(at("11:00") + Duration::days(1));
    assert!(p.missed.is_empty(), "a paused hour is never counted missed");
}

#[test]
fn a_reservation_made_after_its_hours_instant_waits_for_tomorrow() {
    let mut w = World::new(CatchUp::RestOfDay);
    w.reservations = vec![(9, at("10:30"))];
    assert_eq!(w.tick(at("10:31")), Plan::default());
    let tomorrow_nine = at("09:00") + Duration::days(1);
    assert_eq!(hours(&w.tick(tomorrow_nine).due), vec![(9, false)]);
    // And the hour it skipped was never owed, so never missed.
    assert!(w
        .tick(tomorrow_nine + Duration::days(2))
        .missed
        .iter()
        .all(|m| m.occurrence.business_date != day()));
}

#[test]
fn hours_without_reservations_get_no_run_and_are_not_missed() {
    let mut w = World::new(CatchUp::Minutes(30));
    w.reservations.clear();
    assert_eq!(w.tick(at("12:00")), Plan::default());
    assert_eq!(w.tick(at("12:00") + Duration::days(3)), Plan::default());
}

#[test]
fn the_current_window_decides_which_hours_are_owed() {
    let mut w = World::new(CatchUp::RestOfDay);
    w.ran_the_days_before();
    w.tick(at("09:01"));
    // An admin narrows the window to 06–10 at 09:30: 10:00 and 11:00 are no
    // longer schedule hours (neither run nor missed) ...
    w.window = ReservableWindow::new(6, 10).unwrap();
    assert_eq!(w.tick(at("11:05")), Plan::default());
    // ... and widening it again owes 10:00 and 11:00 for the rest of the day.
    w.window = ReservableWindow::new(6, 18).unwrap();
    assert_eq!(
        hours(&w.tick(at("11:30")).due),
        vec![(10, true), (11, true)]
    );
}

#[test]
fn clock_jumps_neither_double_nor_lose_hours() {
    let mut w = World::new(CatchUp::RestOfDay);
    w.ran_the_days_before();
    assert_eq!(hours(&w.tick(at("09:00")).due), vec![(9, false)]);
    // Back an hour: 09:00 already ran, nothing is due, nothing missed.
    assert_eq!(w.tick(at("08:00")), Plan::default());
    // Forward past two hours: both are due once.
    assert_eq!(
        hours(&w.tick(at("11:20")).due),
        vec![(10, true), (11, true)]
    );
    assert_eq!(w.tick(at("11:21")), Plan::default());
    assert_eq!(w.tick(at("09:30")), Plan::default());
}

#[test]
fn half_hour_zones_schedule_at_their_local_hour() {
    let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
    let mut w = World::new(CatchUp::Minutes(30));
    w.tz = kolkata;
    let nine = slot_instant(kolkata, day(), 9).unwrap();
    w.reservations = vec![(9, nine - Duration::days(1))];
    assert!(w.plan(nine - Duration::minutes(1)).due.is_empty());
    let p = w.tick(nine + Duration::seconds(20));
    assert_eq!(p.due.len(), 1);
    assert_eq!(p.due[0].occurrence.scheduled_at, nine);
    assert_eq!(p.due[0].occurrence.hour, 9);
}

#[test]
fn a_dst_gap_hour_is_never_due_nor_missed() {
    let ny: Tz = "America/New_York".parse().unwrap();
    let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
    let mut w = World::new(CatchUp::Minutes(30));
    w.tz = ny;
    w.window = ReservableWindow::new(0, 24).unwrap();
    let before = slot_instant(ny, spring, 0).unwrap() - Duration::days(1);
    w.reservations = vec![(2, before), (3, before)];
    let p = w.tick(slot_instant(ny, spring, 3).unwrap() + Duration::days(1));
    // Day 7-8: the 02:00 of 8 March does not exist.
    let missed_days: Vec<_> = p
        .missed
        .iter()
        .filter(|m| m.occurrence.hour == 2)
        .map(|m| m.occurrence.business_date)
        .collect();
    assert!(!missed_days.contains(&spring));
    assert!(p
        .missed
        .iter()
        .any(|m| m.occurrence.hour == 3 && m.occurrence.business_date == spring));
}

#[test]
fn catch_up_setting_parses() {
    assert_eq!("day".parse::<CatchUp>(), Ok(CatchUp::RestOfDay));
    assert_eq!("30".parse::<CatchUp>(), Ok(CatchUp::Minutes(30)));
    assert!("0".parse::<CatchUp>().is_err());
    assert!("-5".parse::<CatchUp>().is_err());
    assert!("week".parse::<CatchUp>().is_err());
}

proptest! {
    /// Whatever the reconcile times (gaps, jumps back and forth), every
    /// owed hour ends up run once or recorded missed once, never both; an
    /// hour is missed only if no reconcile fell inside its catch-up window,
    /// and run only if one did.
    #[test]
    fn every_owed_hour_is_run_or_missed_exactly_once(
        offsets in proptest::collection::vec(0i64..(5 * 24 * 60), 1..40),
        minutes in prop_oneof![Just(None), (1u32..240).prop_map(Some)],
        start in 0i32..12, len in 1i32..12,
        reserved in proptest::collection::vec((0u8..24, 0i64..(5 * 24 * 60)), 0..8),
    ) {
        let origin = at("00:00");
        let mut w = World::new(minutes.map_or(CatchUp::RestOfDay, CatchUp::Minutes));
        w.window = ReservableWindow::new(start, (start + len).min(24)).unwrap();
        w.reservations = reserved.iter().map(|(h, m)| (*h, origin + Duration::minutes(*m))).collect();
        let times: Vec<_> = offsets.iter().map(|m| origin + Duration::minutes(*m)).collect();
        let mut runs_seen = 0;
        for t in &times {
            let p = w.tick(*t);
            for d in &p.due {
                prop_assert!(d.occurrence.scheduled_at <= *t);
                runs_seen += 1;
            }
        }
        prop_assert_eq!(runs_seen, w.runs.len(), "no hour enqueued twice once it has a run");
        prop_assert!(w.runs.is_disjoint(&w.missed));
        let last = *times.iter().max().unwrap();
        let owed: Vec<Occurrence> = occurrences(w.tz, day(), day() + Duration::days(5), (start..(start + len).min(24)).map(|h| h as u8))
            .into_iter()
            .filter(|o| o.scheduled_at <= last && reservations_at(&w.reservations, o) > 0)
            .collect();
        for o in owed {
            let served_in_time = times.iter().any(|t| w.catch_up.allows(&o, *t, w.tz));
            if w.missed.contains(&o.scheduled_at) {
                // Recorded missed by a later reconcile and then the clock
                // went back into its window: missed is final (backfill is
                // the explicit way to run it).
                prop_assert!(!w.runs.contains(&o.scheduled_at));
            } else if served_in_time {
                prop_assert!(w.runs.contains(&o.scheduled_at), "hour {} lost", o.label());
            } else {
                prop_assert!(!w.runs.contains(&o.scheduled_at));
                // Missed unless no later reconcile looked at it yet.
                let looked = times.iter().any(|t| *t > o.scheduled_at);
                prop_assert_eq!(w.missed.contains(&o.scheduled_at), looked, "hour {}", o.label());
            }
        }
    }
}
