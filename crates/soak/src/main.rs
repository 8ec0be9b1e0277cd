//! `reporter-soak`: a month of unattended operation in compressed time.
//! See docs/soak.md for the harness, the fault schedule and how to read the
//! report; `scripts/soak.sh` builds the release fleet and runs this.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a harness run by hand: a broken invariant should stop the soak loudly"
)]

mod cli;
mod customers;
mod faults;
mod fleet;
mod html;
mod run;
mod samples;
mod sim;
mod verdict;

use clap::Parser;

fn print_table(v: &run::Verdict) {
    println!("{}", verdict::DayVerdict::HEADER);
    for d in &v.days {
        println!("{}", d.row());
    }
    let t = &v.totals;
    println!(
        "total: {} customer-days, {} served, {} late, {} excused, {} missed; {} stuck, {} filed, {} lost, {} unexpected, {} duplicates, {} ledger mismatches; {} runs unfinished, {} hours past deadline",
        t.tally.customer_days, t.tally.served, t.tally.late, t.tally.excused, t.tally.missed,
        t.tally.stuck_orders, t.tally.reported, t.tally.lost_reports, t.tally.unexpected_reports,
        t.tally.duplicate_reports, t.tally.ledger_mismatches, t.tally.runs_not_finished,
        t.hours_past_deadline
    );
    println!(
        "database: {:.1} MiB at the end, {:.0} bytes per customer-day overall, {:.0} bytes per customer-day of growth after day 1",
        t.db_bytes_final as f64 / 1048576.0,
        t.db_bytes_per_customer_day,
        t.db_growth_bytes_per_customer_day
    );
    println!(
        "API GET /api/reporter/slots/: p50 {:.1} ms, p99 {:.1} ms over {} samples, {} errors",
        t.api_p50_ms, t.api_p99_ms, t.api_samples, t.api_errors
    );
    println!(
        "browser leases: max {} (limit {}), {} samples above the limit; portal sessions: max {}, {} samples above the limit (sessions of killed or paused workers linger until the portal's idle expiry)",
        t.max_browser_leases,
        t.session_limit,
        t.lease_samples_above_limit,
        t.max_portal_sessions,
        t.samples_above_session_limit
    );
    for m in &v.memory {
        println!(
            "memory {:<22} {:>7.1} MiB at the end, slope {:+.2} MiB/day, {} restarts",
            m.slot,
            m.mib_per_day.last().copied().unwrap_or(0.0),
            m.slope_mib_per_day,
            m.restarts
        );
    }
    println!("faults fired: {}", v.faults.len());
    for f in &v.faults {
        println!(
            "  day {:>2} {:>2}:00 {:<28} {:<14} {}{}",
            f.day,
            f.hour,
            f.label,
            f.target,
            f.note,
            if f.mid_run { " [mid-run]" } else { "" }
        );
    }
    for d in v.differences.iter().take(50) {
        println!(
            "difference: day {} {} order {}: {}",
            d.day, d.customer, d.order_id, d.kind
        );
    }
    if v.differences.len() > 50 {
        println!("… {} differences in all (see --json)", v.differences.len());
    }
    if !t.crashed_processes.is_empty() {
        println!(
            "processes that exited on their own: {}",
            t.crashed_processes.join(", ")
        );
    }
    println!(
        "verdict: {}  ({:.0} s)",
        if v.pass { "PASS" } else { "FAIL" },
        t.wall_secs
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = cli::Args::parse();
    let keep = args.keep;
    let json = args.json.clone();
    let report = args.report.clone();
    let v = run::run(args).await?;
    print_table(&v);
    if let Some(path) = json {
        std::fs::write(&path, serde_json::to_vec_pretty(&v)?)?;
        println!("json: {}", path.display());
    }
    if let Some(dir) = report {
        std::fs::create_dir_all(&dir)?;
        let page = dir.join("index.html");
        std::fs::write(&page, html::render(&v))?;
        println!("report: {}", page.display());
    }
    if v.pass && !keep {
        let _ = std::fs::remove_dir_all(&v.work_dir);
    } else {
        println!("logs and data kept in {}", v.work_dir.display());
    }
    if !v.pass {
        std::process::exit(1);
    }
    Ok(())
}
