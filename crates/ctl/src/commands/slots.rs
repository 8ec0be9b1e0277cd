use reporter_core::config::Settings;
use reporter_core::models::slot;

pub fn run(settings: &Settings, all: bool) -> anyhow::Result<()> {
    let mut conn = super::connect(settings)?;
    let cfg = slot::config(&mut conn)?;
    let slots = slot::list_with_usage(&mut conn, !all)?;
    println!(
        "window {} (zone {})",
        cfg.window().describe(),
        settings.timezone.name()
    );
    println!(
        "{:<6} {:>4} {:>8} {:>9} {:>6}",
        "HOUR", "ID", "USED", "CAPACITY", "USERS"
    );
    for s in slots {
        let mark = if s.available() == 0 { "  full" } else { "" };
        println!(
            "{:<6} {:>4} {:>8} {:>9} {:>6}{mark}",
            s.hour_label(),
            s.id,
            s.used_points,
            s.capacity_points,
            s.current_users
        );
    }
    Ok(())
}

/// `slots --plan`: per hour, the browser-minutes its customers are
/// predicted to need against the hour's budget (docs/planner.md).
pub fn run_plan(settings: &Settings) -> anyhow::Result<()> {
    use reporter_core::planner;
    let mut conn = super::connect(settings)?;
    let ps = planner::PlannerSettings::from_settings(settings);
    let est = planner::load_estimates(&mut conn, ps.history_days)?;
    let hours = planner::hour_plans(&mut conn, &ps, &est)?;
    let error = planner::prediction_error(&mut conn, 14)?;
    let t = est.timings;
    let src = |h: bool| if h { "history" } else { "default" };
    println!(
        "budget {:.0} browser-min/hour ({} browsers, margin {:.0}%, admission {}); per login {:.2} min ({}), export {:.2} ({}), report {:.2} ({})",
        ps.available_minutes(),
        ps.params.max_browsers,
        ps.params.margin * 100.0,
        ps.admission.as_str(),
        t.login_minutes,
        src(t.login_from_history),
        t.export_minutes,
        src(t.export_from_history),
        t.report_minutes,
        src(t.report_from_history),
    );
    println!(
        "{:<6} {:>7} {:>10} {:>10} {:>9} {:>6}  CUSTOMERS",
        "HOUR", "POINTS", "PREDICTED", "AVAILABLE", "DURATION", "LOAD"
    );
    for h in hours {
        let load = if h.available_minutes > 0.0 {
            h.predicted_minutes / h.available_minutes * 100.0
        } else {
            0.0
        };
        let mark = if h.over_budget { "  OVER" } else { "" };
        let customers: Vec<String> = h
            .customers
            .iter()
            .map(|c| {
                format!(
                    "{} {:.0}m{}",
                    c.email,
                    c.predicted_minutes,
                    if c.from_history { "" } else { "*" }
                )
            })
            .collect();
        println!(
            "{:<6} {:>3}/{:<3} {:>10.1} {:>10.1} {:>9.1} {:>5.0}%  {}{mark}",
            h.hour_label,
            h.used_points,
            h.capacity_points,
            h.predicted_minutes,
            h.available_minutes,
            h.predicted_duration_minutes,
            load,
            customers.join(", "),
        );
    }
    println!("* no history yet: monthly orders x REPORTER_ESTIMATED_PENDING_FACTOR");
    match (error.median_abs_error_minutes, error.bias_minutes) {
        (Some(mae), Some(bias)) => println!(
            "prediction error, last {} days: {} runs, median |error| {:.1} min, bias {:+.1} min",
            error.days, error.runs, mae, bias
        ),
        _ => println!(
            "prediction error, last {} days: no finished run with a prediction",
            error.days
        ),
    }
    Ok(())
}
