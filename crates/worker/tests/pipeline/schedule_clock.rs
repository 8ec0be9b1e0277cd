//! The schedule driven by a clock the test controls:
//! `reporterctl beat reconcile --at T` runs beat's reconcile at instant T
//! against the real database and Redis, and real workers turn what it
//! enqueues into runs. Bogotá (the harness's zone) has no DST.

use std::process::Output;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use reporter_core::models::slot;
use reporter_core::schema::{
    reporter_reservations as res, reporter_run_users as ru, reporter_runs as runs,
};

use crate::harness::*;

/// The day under test: two days ago, so backfill (past days only) and the
/// console's last 7 days both apply to it.
fn day() -> String {
    let tz: chrono_tz::Tz = "America/Bogota".parse().unwrap();
    (Utc::now().with_timezone(&tz).date_naive() - chrono::Duration::days(2)).to_string()
}

/// `HH:MM` of [`day`] in Bogotá.
fn at(hm: &str) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = "America/Bogota".parse().unwrap();
    let t = chrono::NaiveDateTime::parse_from_str(&format!("{} {hm}", day()), "%Y-%m-%d %H:%M")
        .unwrap();
    tz.from_local_datetime(&t).unwrap().with_timezone(&Utc)
}

/// Three customers reserved at 09:00, 10:00 and 11:00 since the start of
/// [`day`] (before that no hour is owed).
async fn three_hours(catch_up: &str) -> Pipeline {
    let mut p = Pipeline::new(
        &[(60, 3, true), (60, 3, true), (60, 3, true)],
        &[("REPORTER_BEAT_CATCHUP_MINUTES", catch_up)],
    )
    .await;
    let mut c = p.db.connect();
    let ids: Vec<i64> = res::table
        .order(res::id)
        .select(res::id)
        .load(&mut c)
        .unwrap();
    for (i, id) in ids.iter().enumerate() {
        let hour = HOUR as i32 + i as i32;
        let slot_id = slot::find_by_hour(&mut c, hour).unwrap().unwrap().id;
        diesel::update(res::table.find(id))
            .set((
                res::slot_id.eq(slot_id),
                res::slot_assigned_at.eq(at("00:00")),
            ))
            .execute(&mut c)
            .unwrap();
    }
    p.fake.set_day(1).await.unwrap();
    p.start_worker();
    p
}

fn ctl(p: &Pipeline, args: &[&str]) -> Output {
    p.command(&bin("reporterctl")).args(args).output().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn reconcile(p: &Pipeline, hm: &str) -> serde_json::Value {
    json(&ctl(
        p,
        &["beat", "reconcile", "--at", &at(hm).to_rfc3339()],
    ))
}

/// `(hour, late)` of each entry of a report list.
fn hours(v: &serde_json::Value) -> Vec<(u64, bool)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["hour"].as_u64().unwrap(),
                d["late"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

/// `(local hour, origin, late_start)` of every run, once `n` have finished.
async fn finished_runs(p: &Pipeline, n: usize) -> Vec<(DateTime<Utc>, String, bool)> {
    let start = Instant::now();
    loop {
        let all: Vec<(DateTime<Utc>, String, bool, bool)> = runs::table
            .order(runs::scheduled_at)
            .select((
                runs::scheduled_at,
                runs::origin,
                runs::late_start,
                runs::finished_at.is_not_null(),
            ))
            .load(&mut p.db.connect())
            .unwrap();
        if all.len() >= n && all.iter().all(|r| r.3) {
            return all.into_iter().map(|(a, b, c, _)| (a, b, c)).collect();
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{all:?}\n{}",
            tail(&p.worker_log(0))
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beat_down_from_0855_to_1110_catches_up_each_hour_once_and_marks_the_late_ones() {
    let p = three_hours("day").await;
    let r = reconcile(&p, "08:55");
    assert_eq!(hours(&r["enqueued"]), vec![]);
    // Beat is down from here until 11:10.
    let r = reconcile(&p, "11:10");
    assert_eq!(
        hours(&r["enqueued"]),
        vec![(9, true), (10, true), (11, false)],
        "{r}"
    );
    assert_eq!(hours(&r["missed_recorded"]), vec![]);
    let all = finished_runs(&p, 3).await;
    assert_eq!(
        all,
        vec![
            (at("09:00"), "schedule".into(), true),
            (at("10:00"), "schedule".into(), true),
            (at("11:00"), "schedule".into(), false),
        ]
    );
    // Every reconcile after finds nothing to do, and a second beat's
    // overlapping reconcile makes no second run.
    assert_eq!(hours(&reconcile(&p, "11:11")["enqueued"]), vec![]);
    assert_eq!(hours(&reconcile(&p, "11:10")["enqueued"]), vec![]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(finished_runs(&p, 3).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hour_out_of_a_30_minute_catch_up_is_recorded_missed_once_and_backfilled_once() {
    let p = three_hours("30").await;
    let r = reconcile(&p, "09:45");
    assert_eq!(hours(&r["enqueued"]), vec![]);
    assert_eq!(hours(&r["missed_recorded"]), vec![(9, false)], "{r}");
    assert_eq!(r["missed_recorded"][0]["reservations"], 1);
    // Recorded once, whoever reconciles next.
    assert_eq!(hours(&reconcile(&p, "09:46")["missed_recorded"]), vec![]);
    // 10:00 is served on time.
    assert_eq!(
        hours(&reconcile(&p, "10:00")["enqueued"]),
        vec![(10, false)]
    );
    finished_runs(&p, 1).await;

    let shown = json(&ctl(&p, &["schedule", "--json"]));
    let missed = shown["missed"].as_array().unwrap();
    assert_eq!(missed.len(), 1, "{shown}");
    assert_eq!(missed[0]["hour"], 9);
    assert!(missed[0]["run_id"].is_null());

    let day = day();
    let out = ctl(&p, &["backfill", "--date", &day, "--hour", "9"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = finished_runs(&p, 2).await;
    assert_eq!(all[0], (at("09:00"), "backfill".into(), true));
    // The hour has its run now: a second backfill is refused, changes nothing.
    let again = ctl(&p, &["backfill", "--date", &day, "--hour", "9"]);
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has a run"));
    let shown = json(&ctl(&p, &["schedule", "--json"]));
    assert!(shown["missed"][0]["run_id"].is_i64(), "{shown}");
    // The backfill's exports (today's orders under a past date) are not
    // baselines, so later compares skip them; the on-time 10:00 one is.
    {
        use reporter_core::schema::reporter_export_batches as b;
        let mut flags: Vec<(String, bool)> = b::table
            .inner_join(ru::table.on(ru::id.nullable().eq(b::run_user_id)))
            .inner_join(runs::table.on(runs::id.eq(ru::run_id)))
            .select((runs::origin, b::baseline))
            .load(&mut p.db.connect())
            .unwrap();
        flags.sort();
        assert_eq!(
            flags,
            vec![("backfill".into(), false), ("schedule".into(), true)]
        );
    }
    assert_eq!(finished_runs(&p, 2).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_schedule_commands_exit_2_and_change_nothing() {
    let p = three_hours("day").await;
    let day = day();
    let day = day.as_str();
    for args in [
        &["beat", "reconcile", "--at", "ayer"][..],
        &["backfill", "--date", "2026-13-01"],
        &["backfill", "--date", day, "--hour", "24"],
        &["backfill", "--date", "2999-01-01", "--hour", "9"],
        &["backfill", "--date", day, "--hour", "3"],
        &[
            "schedule",
            "pause",
            "--hour",
            "9",
            "--until",
            "2020-01-01T00:00:00Z",
        ],
        &["schedule", "pause", "--until", "mañana"],
        &["schedule", "pause", "--hour", "24"],
        &["schedule", "resume", "--hour", "-1"],
        &["schedule", "resume", "--hour", "nueve"],
        &["beat", "reconcile"],
    ] {
        let out = ctl(&p, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty());
    }
    let shown = json(&ctl(&p, &["schedule", "--json"]));
    assert_eq!(shown["pauses"], serde_json::json!([]), "{shown}");
    assert_eq!(finished_runs(&p, 0).await.len(), 0);

    // A pause of 10:00 skips it (not run, not missed) and resume ends it.
    let out = ctl(
        &p,
        &[
            "schedule",
            "pause",
            "--hour",
            "10",
            "--note",
            "mantenimiento",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let shown = json(&ctl(&p, &["schedule", "--json"]));
    assert_eq!(shown["pauses"][0]["hour"], 10);
    assert_eq!(shown["pauses"][0]["note"], "mantenimiento");
    let out = ctl(&p, &["schedule", "resume"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("resumed 1"),
        "{out:?}"
    );
    assert_eq!(
        json(&ctl(&p, &["schedule", "--json"]))["pauses"],
        serde_json::json!([])
    );
}
