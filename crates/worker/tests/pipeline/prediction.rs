//! The planner's prediction is recorded when process-slot creates a run,
//! and the actual duration when the run finishes.

use diesel::prelude::*;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_run_has_its_prediction_and_its_actual_duration() {
    use reporter_core::schema::reporter_runs as r;
    let mut p = Pipeline::new(&[(300, 3, true), (200, 2, true)], &[]).await;
    p.start_worker();
    let (s1, s2) = p.run_two_days(d("2026-11-02"), d("2026-11-03")).await;
    assert_eq!((s1.as_str(), s2.as_str()), ("completed", "completed"));
    for day in ["2026-11-02", "2026-11-03"] {
        let (id, _, _) = p.run_for(d(day)).unwrap();
        let (browser, duration, actual): (Option<f64>, Option<f64>, Option<f64>) = r::table
            .find(id)
            .select((
                r::predicted_browser_minutes,
                r::predicted_duration_minutes,
                r::actual_duration_minutes,
            ))
            .first(&mut p.db.connect())
            .unwrap();
        let (browser, duration, actual) = (
            browser.expect("predicted browser-minutes recorded"),
            duration.expect("predicted duration recorded"),
            actual.expect("actual duration recorded"),
        );
        // Two customers cost at least their two download logins.
        assert!(browser >= 2.0 * 0.5, "{day}: predicted {browser}");
        assert!(
            duration > 0.0 && duration <= browser,
            "{day}: {duration} of {browser}"
        );
        assert!(actual > 0.0 && actual < 10.0, "{day}: actual {actual} min");
    }
    // The second day's prediction learned from the first: its customers'
    // stuck counts come from history (none were stuck on the baseline day),
    // so it predicts no more than the first day's fallback did.
    let pred = |day: &str| -> f64 {
        let (id, _, _) = p.run_for(d(day)).unwrap();
        r::table
            .find(id)
            .select(r::predicted_browser_minutes)
            .first::<Option<f64>>(&mut p.db.connect())
            .unwrap()
            .unwrap()
    };
    assert!(pred("2026-11-03") <= pred("2026-11-02"));
    let log = p.worker_log(0);
    assert!(log.contains("run prediction recorded"), "{}", tail(&log));
}
