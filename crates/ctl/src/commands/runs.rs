use anyhow::Context;
use diesel::prelude::*;
use reporter_core::config::Settings;
use reporter_core::domain::{hour_label, ReportMode};
use reporter_core::models::run;
use reporter_core::schema::reporter_ranges as ranges;

/// id, run-user, start, end, status, locked_by, attempts, error
type RangeRow = (
    i64,
    i64,
    i32,
    i32,
    String,
    Option<String>,
    i32,
    Option<String>,
);

fn print_progress(conn: &mut PgConnection, r: &run::Run) -> anyhow::Result<()> {
    for part in run::progress(conn, r.id, None)? {
        let result = run::result_of(r, &part.run_user, part.failed_ranges);
        let u = part.run_user;
        println!(
            "    {:<28} {:<23}{} download={:<9} ranges {}/{}  stuck={}  {}",
            part.email,
            result.as_str(),
            if u.report_mode == ReportMode::Shadow {
                " shadow"
            } else {
                ""
            },
            u.download_compare_status,
            u.ranges_completed,
            u.total_ranges,
            u.total_pending_orders,
            u.progress_message
        );
    }
    Ok(())
}

pub fn list(settings: &Settings, last: i64) -> anyhow::Result<()> {
    let mut conn = super::connect(settings)?;
    for (r, hour) in run::list_recent(&mut conn, last)? {
        let local = r.scheduled_at.with_timezone(&settings.timezone);
        println!(
            "run {:<6} {} {}  {:<9}{} finished={}",
            r.id,
            local.format("%Y-%m-%d"),
            hour_label(hour),
            r.status,
            if r.report_mode == ReportMode::Shadow {
                " SHADOW (nothing filed)"
            } else {
                ""
            },
            r.finished_at
                .map(|f| f
                    .with_timezone(&settings.timezone)
                    .format("%H:%M:%S")
                    .to_string())
                .unwrap_or("-".into())
        );
        print_progress(&mut conn, &r)?;
    }
    Ok(())
}

pub fn show(settings: &Settings, id: i64) -> anyhow::Result<()> {
    let mut conn = super::connect(settings)?;
    let r = run::find(&mut conn, id)?.with_context(|| format!("no run {id}"))?;
    println!(
        "run {} status={} mode={} scheduled_at={} started={:?} finished={:?}",
        r.id, r.status, r.report_mode, r.scheduled_at, r.started_at, r.finished_at
    );
    print_progress(&mut conn, &r)?;
    let rows: Vec<RangeRow> = ranges::table
        .inner_join(reporter_core::schema::reporter_run_users::table)
        .filter(reporter_core::schema::reporter_run_users::run_id.eq(id))
        .order(ranges::id)
        .select((
            ranges::id,
            ranges::run_user_id,
            ranges::range_start,
            ranges::range_end,
            ranges::status,
            ranges::locked_by,
            ranges::attempts,
            ranges::error,
        ))
        .load(&mut conn)?;
    println!("  ranges:");
    for (rid, ru, a, b, status, by, attempts, err) in rows {
        println!(
            "    range {rid:<6} run_user {ru:<6} {a:>5}-{b:<5} {status:<10} attempts={attempts} {}{}",
            by.map(|b| format!("by {b} ")).unwrap_or_default(),
            err.map(|e| format!("error: {e}")).unwrap_or_default()
        );
    }
    Ok(())
}
