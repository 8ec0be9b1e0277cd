//! Properties of the planner's arithmetic.

use proptest::prelude::*;

use super::*;

fn timings() -> impl Strategy<Value = FleetTimings> {
    (0.0..5.0f64, 0.0..10.0f64, 0.0..2.0f64)
        .prop_map(|(l, e, r)| FleetTimings::from_samples(&[l], &[e], &[r]))
}

fn params() -> impl Strategy<Value = PlanParams> {
    (1u32..32, 0.0..0.9f64, 1u32..500).prop_map(|(max_browsers, margin, range_size)| PlanParams {
        max_browsers,
        margin,
        range_size,
    })
}

fn stucks() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0..2000.0f64, 0..12)
}

proptest! {
    #[test]
    fn adding_a_customer_never_lowers_the_prediction(
        t in timings(), p in params(), stuck in stucks(), extra in 0.0..2000.0f64
    ) {
        let before = hour_minutes(&stuck, &t, p.range_size);
        let mut more = stuck.clone();
        more.push(extra);
        prop_assert!(hour_minutes(&more, &t, p.range_size) >= before);
        prop_assert!(run_duration_minutes(&more, &t, &p) >= run_duration_minutes(&stuck, &t, &p) - 1e-9);
    }

    #[test]
    fn more_browsers_never_lower_availability(p in params(), more in 0u32..16) {
        let bigger = PlanParams { max_browsers: p.max_browsers + more, ..p };
        prop_assert!(available_minutes(&bigger) >= available_minutes(&p));
        prop_assert!(available_minutes(&p) > 0.0);
    }

    #[test]
    fn a_bigger_margin_never_raises_availability(p in params(), more in 0.0..0.5f64) {
        let wider = PlanParams { margin: (p.margin + more).min(0.9), ..p };
        prop_assert!(available_minutes(&wider) <= available_minutes(&p));
    }

    #[test]
    fn monotonic_in_stuck_count(t in timings(), p in params(), a in 0.0..5000.0f64, d in 0.0..5000.0f64) {
        prop_assert!(customer_minutes(a + d, &t, p.range_size) >= customer_minutes(a, &t, p.range_size));
        prop_assert!(run_duration_minutes(&[a + d], &t, &p) >= run_duration_minutes(&[a], &t, &p) - 1e-9);
    }

    #[test]
    fn every_customer_costs_at_least_a_download(t in timings(), p in params(), s in 0.0..5000.0f64) {
        prop_assert!(customer_minutes(s, &t, p.range_size) >= t.login_minutes + t.export_minutes);
    }

    #[test]
    fn fallback_used_iff_no_history(
        history in prop::collection::vec(0.0..5000.0f64, 0..10),
        monthly in 0i32..100_000,
        factor in 0.0..1.0f64,
    ) {
        let e = stuck_per_day(&history, monthly, factor);
        prop_assert_eq!(e.from_history, !history.is_empty());
        if history.is_empty() {
            prop_assert!((e.stuck - f64::from(monthly) * factor).abs() < 1e-9);
        } else {
            let lo = history.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = history.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(e.stuck >= lo && e.stuck <= hi);
        }
    }

    #[test]
    fn timings_fall_back_per_step(l in prop::option::of(0.0..5.0f64), r in prop::option::of(0.0..5.0f64)) {
        let t = FleetTimings::from_samples(l.as_slice(), &[], r.as_slice());
        prop_assert_eq!(t.login_from_history, l.is_some());
        prop_assert_eq!(t.report_from_history, r.is_some());
        prop_assert!(!t.export_from_history);
        prop_assert_eq!(t.export_minutes, DEFAULT_EXPORT_MINUTES);
        prop_assert_eq!(t.login_minutes, l.unwrap_or(DEFAULT_LOGIN_MINUTES));
    }

    #[test]
    fn over_budget_iff_prediction_exceeds_availability(pred in 0.0..5000.0f64, avail in 0.0..5000.0f64) {
        let over = matches!(check_hour(9, pred, avail), HourVerdict::Over(_));
        prop_assert_eq!(over, pred > avail);
    }
}

#[test]
fn defaults_without_history() {
    let t = FleetTimings::default();
    assert_eq!(t.login_minutes, DEFAULT_LOGIN_MINUTES);
    assert!(!t.login_from_history && !t.export_from_history && !t.report_from_history);
    // 250 stuck, ranges of 100: 3 range logins + the download + 250 reports.
    let m = customer_minutes(250.0, &t, 100);
    assert!((m - (0.5 + 1.0 + 250.0 * 0.25 + 3.0 * 0.5)).abs() < 1e-9);
    let p = PlanParams {
        max_browsers: 6,
        margin: 0.2,
        range_size: 100,
    };
    assert!((available_minutes(&p) - 288.0).abs() < 1e-9);
}

#[test]
fn median_and_error_stats() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    let e = PredictionError::of(14, &[(10.0, 12.0), (10.0, 9.0), (20.0, 20.0)]);
    assert_eq!(e.runs, 3);
    assert_eq!(e.median_abs_error_minutes, Some(1.0));
    assert!((e.bias_minutes.unwrap() - (-1.0 / 3.0)).abs() < 1e-9);
    assert_eq!(PredictionError::of(14, &[]).bias_minutes, None);
}

#[test]
fn admission_parses() {
    assert_eq!("points".parse::<Admission>(), Ok(Admission::Points));
    assert_eq!("time".parse::<Admission>(), Ok(Admission::Time));
    assert!("strict".parse::<Admission>().is_err());
    let o = OverBudget {
        hour: 9,
        predicted_minutes: 412.4,
        available_minutes: 288.0,
    };
    assert!(o.warning().contains("412") && o.warning().contains("288"));
    assert!(o.refusal().contains("412"));
}
